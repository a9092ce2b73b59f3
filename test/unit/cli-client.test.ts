// The Engine API client against a scripted daemon: version negotiation, error bodies,
// query encoding, hijacked attach streams (stdin copied then half-closed), multiplexed
// output and JSON progress streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { ApiClient } from '../../src/client/api-client.ts';
import { parseHost, resolveHost } from '../../src/client/host.ts';
import { ApiError, ConnectionError } from '../../src/client/errors.ts';
import { encodeFilters, encodeQuery } from '../../src/client/query.ts';
import { demux, displayJsonMessages, JsonStreamError } from '../../src/client/streams.ts';
import { streamAttach, detachKeysToBytes, DetachedError } from '../../src/client/attach.ts';
import { canned, frame, startFakeDaemon, type FakeDaemon, type Handler } from './cli-harness.ts';

/** Runs fn with a client of a fake daemon serving handlers, then closes both; returns the daemon, closed. */
async function withClient(handlers: Handler[], fn: (c: ApiClient, d: FakeDaemon) => Promise<void>): Promise<FakeDaemon> {
  const d = await startFakeDaemon(handlers);
  const c = new ApiClient(parseHost(d.host));
  try {
    await fn(c, d);
  } finally {
    c.close();
    await d.close();
  }
  return d;
}

function collect(): PassThrough & { text: () => string } {
  const chunks: Buffer[] = [];
  const s = new PassThrough() as PassThrough & { text: () => string };
  s.on('data', (c: Buffer) => chunks.push(c));
  s.text = () => Buffer.concat(chunks).toString();
  return s;
}

test('hosts: -H forms, DOCKER_HOST, the default socket', () => {
  assert.deepEqual(parseHost('unix:///tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock', url: 'unix:///tmp/x.sock' });
  assert.deepEqual(parseHost('/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock', url: 'unix:///tmp/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376, url: 'tcp://127.0.0.1:2376' });
  assert.equal(resolveHost([], {}).url, 'unix:///run/berth/berth.sock');
  assert.equal(resolveHost([], { DOCKER_HOST: 'unix:///a.sock' }).url, 'unix:///a.sock');
  assert.equal(resolveHost(['unix:///b.sock'], { DOCKER_HOST: 'unix:///a.sock' }).url, 'unix:///b.sock');
  assert.throws(() => resolveHost(['unix:///a', 'unix:///b']), { message: 'Specify only one -H' });
});

test('queries are encoded as Go encodes url.Values; filters as docker sends them', () => {
  assert.equal(encodeQuery({ tail: 'all', stdout: '1', since: undefined, names: ['a b', 'c/d'] }), 'names=a+b&names=c%2Fd&stdout=1&tail=all');
  assert.equal(encodeFilters(new Map([['status', ['running', 'exited']], ['label', ['a=<b>']]])), '{"label":{"a=\\u003cb\\u003e":true},"status":{"exited":true,"running":true}}');
  assert.equal(encodeFilters(new Map()), undefined);
});

test('version negotiation: HEAD /_ping, then the lower of 1.50 and the daemon version as prefix', async () => {
  await withClient([
    (r) => (r.url === '/_ping' ? { headers: { 'Api-Version': '1.43', Ostype: 'linux' }, body: 'OK' } : undefined),
    canned({ 'GET /containers/json': { body: [] } }),
  ], async (c, d) => {
    assert.deepEqual(await c.json('GET', '/containers/json', { query: { all: '1' } }), []);
    assert.equal(c.apiVersion, '1.43');
    assert.deepEqual(d.requests.map((r) => `${r.method} ${r.url}`), ['HEAD /_ping', 'GET /v1.43/containers/json?all=1']);
  });
});

test('errors: the daemon message with docker\'s prefix and the status; unreachable daemons', async () => {
  const d = await withClient([canned({ 'GET /containers/nope/json': { status: 404, body: { message: 'No such container: nope' } } })], async (c) => {
    await assert.rejects(c.json('GET', '/containers/nope/json'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'Error response from daemon: No such container: nope');
    await assert.rejects(c.json('GET', '/unknown'), { message: 'Error response from daemon: page not found' });
  });
  const gone = new ApiClient(parseHost(d.host));
  await assert.rejects(gone.json('GET', '/info'), (e: unknown) => e instanceof ConnectionError && (e as Error).message === `Cannot connect to the Berth daemon at ${d.host}. Is the berth daemon running?`);
  gone.close();
});

test('hijack: 101 upgrade, output demultiplexed, stdin copied and then half-closed', async () => {
  await withClient([canned({ 'POST /containers/c1/attach': { status: 101, upgrade: Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')]) } })], async (c, d) => {
    const { socket } = await c.hijack('/containers/c1/attach', { query: { stream: '1', stdin: '1', stdout: '1', stderr: '1' } });
    const out = collect();
    const err = collect();
    await streamAttach(socket, { stdin: Readable.from([Buffer.from('typed input\n')]), stdout: out, stderr: err, tty: false });
    assert.equal(out.text(), 'out1\nout2\n');
    assert.equal(err.text(), 'err1\n');
    const attach = d.requests.find((r) => r.method === 'POST')!;
    assert.equal(attach.headers.connection, 'Upgrade');
    assert.equal(attach.headers.upgrade, 'tcp');
    assert.equal(attach.url, '/v1.50/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1');
    // The daemon saw the input and then the end of it (the fake records it on half-close).
    assert.equal(d.requests.find((r) => r.method === 'STDIN')!.body.toString(), 'typed input\n');
  });
});

test('hijack refused: docker\'s "unable to upgrade" error', async () => {
  await withClient([canned({ 'POST /containers/c1/attach': { status: 404, body: { message: 'No such container: c1' } } })], async (c) => {
    await assert.rejects(c.hijack('/containers/c1/attach'), { message: 'unable to upgrade to tcp, received 404' });
  });
});

test('tty sessions: raw output, detach keys end the session', async () => {
  assert.deepEqual(detachKeysToBytes('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(detachKeysToBytes('a,ctrl-@'), [97, 0]);
  await withClient([canned({ 'POST /containers/c1/attach': { status: 101, upgrade: Buffer.from('raw \x01 bytes') } })], async (c) => {
    const { socket } = await c.hijack('/containers/c1/attach');
    const out = collect();
    const stdin = new PassThrough();
    const session = streamAttach(socket, { stdin, stdout: out, tty: true });
    stdin.write(Buffer.from([0x68, 0x10, 0x11]));
    await assert.rejects(session, DetachedError);
    assert.match(out.text(), /^(raw \x01 bytes)?$/);
  });
});

test('multiplexed streams split across reads; daemon errors inside the stream', async () => {
  const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n')]);
  const chunks = [all.subarray(0, 3), all.subarray(3, 11), all.subarray(11)];
  const out = collect();
  const err = collect();
  await demux(Readable.from(chunks), out, err);
  assert.equal(out.text(), 'hello world\n');
  assert.equal(err.text(), 'oops\n');
  await assert.rejects(demux(Readable.from([frame(3, 'boom')]), out, err), { message: 'error from daemon in stream: boom' });
});

test('JSON progress streams: "stream" text and status lines printed, errors raised', async () => {
  const out = collect();
  const input = Readable.from(['{"status":"Pulling fs layer","id":"abc"}\r\n{"stream":"Loaded image: x:1\\n"}', '\n{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"abc"}\n{"status":"Done"}\n']);
  await displayJsonMessages(input, out);
  assert.equal(out.text(), 'abc: Pulling fs layer\nLoaded image: x:1\nDone\n');
  await assert.rejects(displayJsonMessages(Readable.from(['{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}']), collect()), (e: unknown) => e instanceof JsonStreamError && (e as Error).message === 'manifest unknown');
});
