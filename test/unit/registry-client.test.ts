// The registry client's pure parts (challenges, endpoints, platform matching, error texts,
// X-Registry-Auth, tee, pull references, daemon flags) and its HTTP behaviour against a
// scripted registry: token flow and cache, OAuth2 refresh grant, mirrors, digest checks,
// ranged fetches and chunked uploads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseChallenges, credentials, Authorizer } from '../../src/registry/client/auth.ts';
import { cidrContains, endpointsFor, isInsecure, registryInfo } from '../../src/registry/client/endpoints.ts';
import { formatErrors, parseErrorResponse, pullErrorMessage, RegistryError } from '../../src/registry/client/errors.ts';
import { createRegistryClient } from '../../src/registry/client/index.ts';
import { certsFor } from '../../src/registry/client/certs.ts';
import { decodeRegistryAuth } from '../../src/api/registry-auth.ts';
import { selectPlatformEntry, platformMatches, formatPlatform, normalizePlatform } from '../../src/image/platform.ts';
import { teeStream } from '../../src/image/tee.ts';
import { pullReference, pullFailure } from '../../src/image/pull.ts';
import { parseDaemonArgs, UsageError } from '../../src/daemon/config.ts';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

test('WWW-Authenticate: bearer and basic challenges, quoted values with commas, several challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm="a", Bearer realm="https://t/x", error="insufficient_scope"'), [
    { scheme: 'basic', params: { realm: 'a' } },
    { scheme: 'bearer', params: { realm: 'https://t/x', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges('bearer realm=unquoted,service="s\\"q"'), [{ scheme: 'bearer', params: { realm: 'unquoted', service: 's"q' } }]);
  assert.deepEqual(parseChallenges(''), []);
  assert.deepEqual(parseChallenges(null), []);
});

test('credentials: username/password, or the base64 auth field', () => {
  assert.deepEqual(credentials({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
  assert.deepEqual(credentials({ auth: Buffer.from('bob:pa:ss').toString('base64') }), { username: 'bob', password: 'pa:ss' });
  assert.equal(credentials({}), undefined);
  assert.equal(credentials(undefined), undefined);
});

test('endpoints: https by default; http after https for loopback and insecure entries; mirrors for docker.io pulls only', () => {
  const opts = { insecureRegistries: ['myreg:5000', '10.1.0.0/16'], mirrors: ['https://mirror.example/'] };
  assert.deepEqual(endpointsFor('registry.example.com', opts, true).map((e) => e.url), ['https://registry.example.com']);
  assert.deepEqual(endpointsFor('localhost:5000', opts, true).map((e) => e.url), ['https://localhost:5000', 'http://localhost:5000']);
  assert.deepEqual(endpointsFor('127.0.0.1:5000', opts, true).map((e) => e.url), ['https://127.0.0.1:5000', 'http://127.0.0.1:5000']);
  assert.deepEqual(endpointsFor('[::1]:5000', opts, true).map((e) => e.url), ['https://[::1]:5000', 'http://[::1]:5000']);
  assert.deepEqual(endpointsFor('myreg:5000', opts, true).map((e) => e.url), ['https://myreg:5000', 'http://myreg:5000']);
  assert.deepEqual(endpointsFor('myreg:5001', opts, true).map((e) => e.url), ['https://myreg:5001']);
  assert.deepEqual(endpointsFor('10.1.2.3:5000', opts, true).map((e) => e.url), ['https://10.1.2.3:5000', 'http://10.1.2.3:5000']);
  assert.deepEqual(endpointsFor('docker.io', opts, true).map((e) => [e.url, e.mirror]), [['https://mirror.example', true], ['https://registry-1.docker.io', false]]);
  assert.deepEqual(endpointsFor('docker.io', opts, false).map((e) => e.url), ['https://registry-1.docker.io']);
  assert.deepEqual(endpointsFor('quay.io', opts, true).map((e) => e.url), ['https://quay.io']);
  assert.ok(isInsecure('127.5.5.5', []));
  assert.ok(!isInsecure('128.0.0.1', []));
  assert.ok(cidrContains('::1/128', '::1'));
  assert.ok(cidrContains('fd00::/8', 'fd12::1'));
  assert.ok(!cidrContains('10.0.0.0/8', '11.0.0.1'));
  assert.ok(cidrContains('0.0.0.0/0', '1.2.3.4'));
});

test('registryInfo: dockerd\'s RegistryConfig shape', () => {
  assert.deepEqual(registryInfo(['r:5000', '192.168.0.0/16'], ['https://m/']), {
    IndexConfigs: {
      'r:5000': { Name: 'r:5000', Mirrors: [], Secure: false, Official: false },
      'docker.io': { Name: 'docker.io', Mirrors: ['https://m/'], Secure: true, Official: true },
    },
    InsecureRegistryCIDRs: ['192.168.0.0/16', '::1/128', '127.0.0.0/8'],
    Mirrors: ['https://m/'],
  });
});

test('platforms: arm64 means arm64/v8, exact variants first, formatting for messages', () => {
  const entries = [
    { digest: 'a', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { digest: 'b', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { digest: 'c', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { digest: 'd', platform: { os: 'linux', architecture: 'amd64' } },
    { digest: 'e', platform: { os: 'unknown', architecture: 'unknown' } },
  ];
  assert.equal(selectPlatformEntry(entries, { os: 'linux', architecture: 'amd64' })?.digest, 'd');
  assert.equal(selectPlatformEntry(entries, { os: 'linux', architecture: 'arm64' })?.digest, 'c');
  assert.equal(selectPlatformEntry(entries, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, 'b');
  assert.equal(selectPlatformEntry(entries, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, 'a');
  assert.equal(selectPlatformEntry(entries, { os: 'linux', architecture: 's390x' }), undefined);
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'aarch64' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }));
  assert.equal(formatPlatform(normalizePlatform({ os: 'linux', architecture: 'arm64' })), 'linux/arm64/v8');
});

test('registry errors print as dockerd prints them', () => {
  assert.equal(parseErrorResponse(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}').message, 'manifest unknown: manifest unknown');
  assert.equal(parseErrorResponse(401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}').message, 'unauthorized: authentication required');
  assert.equal(parseErrorResponse(403, '{"errors":[{"code":"DENIED"}]}').message, 'denied: requested access to the resource is denied');
  assert.equal(parseErrorResponse(401, 'nope').message, 'unauthorized: nope');
  assert.equal(parseErrorResponse(502, '<html>').message, 'received unexpected HTTP status: 502 (<html>)');
  assert.equal(formatErrors([{ code: 'BLOB_UNKNOWN', message: 'a' }, { code: 'NAME_UNKNOWN', message: 'b' }]), 'errors:\nblob unknown: a\nname unknown: b');
  const denied = new RegistryError(401, [{ code: 'DENIED', message: 'requested access to the resource is denied' }, { code: 'UNAUTHORIZED', message: 'authentication required' }]);
  assert.equal(pullErrorMessage(denied, 'r/x', 'r/x:latest'), "pull access denied for r/x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
  assert.equal(pullFailure(denied, pullReference('r:5000/x', 'latest')).status, 404);
  const unknown = parseErrorResponse(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  assert.equal(pullErrorMessage(unknown, 'busybox', 'busybox:nope'), 'manifest for busybox:nope not found: manifest unknown: manifest unknown');
  assert.equal(pullFailure(parseErrorResponse(401, '{"errors":[{"code":"UNAUTHORIZED","message":"m"}]}'), pullReference('x', 'latest')).status, 500);
});

test('X-Registry-Auth: base64url or base64 JSON; junk and empty configs are no credentials', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.deepEqual(decodeRegistryAuth(enc({ username: 'u', password: 'p?>~', serveraddress: 'r', junk: 1 })), { username: 'u', password: 'p?>~', serveraddress: 'r' });
  assert.deepEqual(decodeRegistryAuth(Buffer.from('{"identitytoken":"t"}').toString('base64')), { identitytoken: 't' });
  assert.equal(decodeRegistryAuth('e30='), undefined);
  assert.equal(decodeRegistryAuth('!!!'), undefined);
  assert.equal(decodeRegistryAuth(undefined), undefined);
});

test('pull references: fromImage plus tag or digest; a bare name means all tags', () => {
  assert.deepEqual(pullReference('127.0.0.1:5000/busybox', 'latest'), { domain: '127.0.0.1:5000', path: 'busybox', tag: 'latest' });
  const dg = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(pullReference('docker.io/library/busybox', dg), { domain: 'docker.io', path: 'library/busybox', digest: dg });
  assert.deepEqual(pullReference('busybox:1.36', undefined), { domain: 'docker.io', path: 'library/busybox', tag: '1.36' });
  assert.deepEqual(pullReference('busybox', undefined), { domain: 'docker.io', path: 'library/busybox' });
  assert.throws(() => pullReference('busybox', 'sha256:zz'), /invalid digest/);
});

test('daemon flags and daemon.json: insecure registries and mirrors', () => {
  const cfg = parseDaemonArgs(['--config-file', '/nonexistent/daemon.json', '--insecure-registry', 'r:5000', '--insecure-registry=10.0.0.0/8', '--registry-mirror', 'https://m.example']);
  assert.ok(typeof cfg === 'object');
  assert.deepEqual(cfg.insecureRegistries, ['r:5000', '10.0.0.0/8']);
  assert.deepEqual(cfg.registryMirrors, ['https://m.example/']);
  const dir = mkdtempSync(join(tmpdir(), 'berth-daemon-json-'));
  try {
    writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'insecure-registries': ['a:1', 'fd00::/8'], 'registry-mirrors': ['http://mirror.local:5000'] }));
    const fromFile = parseDaemonArgs(['--config-file', join(dir, 'daemon.json')]);
    assert.ok(typeof fromFile === 'object');
    assert.deepEqual(fromFile.insecureRegistries, ['a:1', 'fd00::/8']);
    assert.deepEqual(fromFile.registryMirrors, ['http://mirror.local:5000/']);
    const flagsWin = parseDaemonArgs(['--config-file', join(dir, 'daemon.json'), '--insecure-registry', 'b:2']);
    assert.ok(typeof flagsWin === 'object');
    assert.deepEqual(flagsWin.insecureRegistries, ['b:2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseDaemonArgs(['--config-file', '/nonexistent', '--registry-mirror', 'm.example']), (e: Error) => e instanceof UsageError && /no scheme specified/.test(e.message));
  assert.throws(() => parseDaemonArgs(['--config-file', '/nonexistent', '--registry-mirror', 'ftp://m']), /unsupported scheme "ftp"/);
  assert.throws(() => parseDaemonArgs(['--config-file', '/nonexistent', '--insecure-registry', 'http://r']), /should not contain ':\/\/'/);
});

test('tee: both readers see every chunk; an error reaches both; a reader quitting or an abort fails the other', async () => {
  async function* src(n: number, fail = false) {
    for (let i = 0; i < n; i++) yield i;
    if (fail) throw new Error('boom');
  }
  const [a, b] = teeStream(src(50), 4).branches;
  const read = async (it: AsyncIterable<number>) => {
    const out: number[] = [];
    for await (const x of it) out.push(x);
    return out;
  };
  const [ra, rb] = await Promise.all([read(a), read(b)]);
  assert.deepEqual(ra, [...Array(50).keys()]);
  assert.deepEqual(rb, ra);
  const [c, e] = teeStream(src(3, true)).branches;
  const res = await Promise.allSettled([read(c), read(e)]);
  assert.ok(res.every((r) => r.status === 'rejected' && /boom/.test(String(r.reason))));
  const [f, g] = teeStream(src(100), 2).branches;
  const quit = (async () => {
    for await (const x of f) if (x === 1) break;
  })();
  await assert.rejects(Promise.all([quit, read(g)]), /stopped early/);
  // A consumer that fails before reading its branch: abort() releases the other one.
  const t = teeStream(src(100), 2);
  const reader = read(t.branches[0]);
  setTimeout(() => t.abort(new Error('parent snapshot missing')), 20);
  await assert.rejects(reader, /parent snapshot missing/);
});

/** A scripted registry on loopback (http, as the client allows there). */
async function fakeRegistry(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ host: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away mid-body
    }
    handler(req, res, Buffer.concat(chunks));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

test('bearer flow: token fetched once with service and scope, cached until expiry, refresh-token grant with an identity token', async () => {
  const tokenCalls: Array<{ method: string; url: string; body: string; auth?: string }> = [];
  let host = '';
  const blob = Buffer.from('hello blob');
  const reg = await fakeRegistry((req, res, body) => {
    if (req.url!.startsWith('/token')) {
      tokenCalls.push({ method: req.method!, url: req.url!, body: body.toString(), auth: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ access_token: `tok${tokenCalls.length}`, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok1' && req.headers.authorization !== 'Bearer tok2') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${host}/token",service="svc"`, 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (req.url === `/v2/repo/blobs/${sha(blob)}`) {
      res.writeHead(200, { 'Content-Length': blob.length });
      res.end(blob);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  host = reg.host;
  try {
    const client = createRegistryClient({ insecureRegistries: [], mirrors: [] });
    const repo = client.repository(reg.host, 'repo', { username: 'u', password: 'p' }, ['pull']);
    for (let i = 0; i < 3; i++) {
      let got = '';
      for await (const c of await repo.fetchBlob({ mediaType: 'x', digest: sha(blob), size: blob.length })) got += c;
      assert.equal(got, 'hello blob');
    }
    assert.equal(tokenCalls.length, 1);
    assert.equal(tokenCalls[0].method, 'GET');
    assert.match(tokenCalls[0].url, /service=svc/);
    assert.match(decodeURIComponent(tokenCalls[0].url), /scope=repository:repo:pull/);
    assert.equal(tokenCalls[0].auth, `Basic ${Buffer.from('u:p').toString('base64')}`);
    const viaId = client.repository(reg.host, 'repo', { identitytoken: 'refresh-me' }, ['pull']);
    assert.equal((await viaId.statBlob(sha(blob)))?.size, blob.length);
    assert.equal(tokenCalls[1].method, 'POST');
    const form = new URLSearchParams(tokenCalls[1].body);
    assert.equal(form.get('grant_type'), 'refresh_token');
    assert.equal(form.get('refresh_token'), 'refresh-me');
    assert.equal(form.get('service'), 'svc');
    assert.equal(form.get('scope'), 'repository:repo:pull');
    // A fresh authorizer fetches its own token once and reuses it.
    const auth = new Authorizer(undefined, ['repository:x:pull']);
    auth.setChallenges(parseChallenges(`Bearer realm="http://${host}/token",service="svc"`));
    await auth.header();
    await auth.header();
    assert.equal(tokenCalls.length, 3);
  } finally {
    await reg.close();
  }
});

test('blobs: a wrong digest or size throws at the end of the stream; ranged fetches resume', async () => {
  const good = Buffer.from('0123456789');
  const reg = await fakeRegistry((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200);
      res.end();
      return;
    }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (range) {
      res.writeHead(206, { 'Content-Length': good.length - Number(range[1]) });
      res.end(good.subarray(Number(range[1])));
      return;
    }
    res.writeHead(200);
    res.end(req.url!.includes('bad') ? Buffer.from('01234567xx') : good);
  });
  try {
    const client = createRegistryClient({ insecureRegistries: [], mirrors: [] });
    const repo = client.repository(reg.host, 'bad', undefined, ['pull']);
    const drain = async (it: AsyncIterable<Buffer>) => {
      const parts: Buffer[] = [];
      for await (const c of it) parts.push(c);
      return Buffer.concat(parts).toString();
    };
    await assert.rejects(drain(await repo.fetchBlob({ mediaType: 'x', digest: sha(good), size: good.length })), /digest mismatch/);
    const ok = client.repository(reg.host, 'ok', undefined, ['pull']);
    await assert.rejects(drain(await ok.fetchBlob({ mediaType: 'x', digest: sha(good), size: 4 })), /more than the expected 4 bytes/);
    assert.equal(await drain(await ok.fetchBlob({ mediaType: 'x', digest: sha(good), size: good.length })), '0123456789');
    assert.equal(await drain(await ok.fetchBlob({ mediaType: 'x', digest: sha(good), size: good.length }, { offset: 6 })), '6789');
    // A blob read only later (a layer waiting for its parent) survives garbage collection:
    // fetch cancels an unread body whose Response was collected, which read as 0 bytes.
    const later = await ok.fetchBlob({ mediaType: 'x', digest: sha(good), size: good.length });
    for (let i = 0; i < 5; i++) {
      collectGarbage();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await drain(later), '0123456789');
  } finally {
    await reg.close();
  }
});

test('uploads: chunked PATCHes carry Content-Range and the final PUT the digest; a mirror that fails hands over', async () => {
  const seen: string[] = [];
  const reg = await fakeRegistry((req, res, body) => {
    seen.push(`${req.method} ${req.url} ${req.headers['content-range'] ?? ''} ${body.length}`);
    if (req.url === '/v2/') {
      res.writeHead(200);
      res.end();
    } else if (req.method === 'POST') {
      res.writeHead(202, { Location: '/v2/r/blobs/uploads/u1?_state=s0' });
      res.end();
    } else if (req.method === 'PATCH') {
      res.writeHead(202, { Location: `/v2/r/blobs/uploads/u1?_state=s${seen.length}` });
      res.end();
    } else if (req.method === 'PUT') {
      res.writeHead(201);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  try {
    const client = createRegistryClient({ insecureRegistries: [], mirrors: [] });
    const repo = client.repository(reg.host, 'r', undefined, ['pull', 'push']);
    const data = Buffer.from('abcdefghij');
    await repo.pushBlob({ mediaType: 'x', digest: sha(data), size: 10 }, async function* () {
      yield data.subarray(0, 3);
      yield data.subarray(3);
    }, { chunkSize: 4 });
    assert.deepEqual(seen.slice(1).map((s) => s.replace(/_state=s\d+/, '_state=S')), [
      'POST /v2/r/blobs/uploads/  0',
      'PATCH /v2/r/blobs/uploads/u1?_state=S 0-3 4',
      'PATCH /v2/r/blobs/uploads/u1?_state=S 4-7 4',
      'PATCH /v2/r/blobs/uploads/u1?_state=S 8-9 2',
      `PUT /v2/r/blobs/uploads/u1?_state=S&digest=${encodeURIComponent(sha(data))}  0`,
    ]);
    seen.length = 0;
    await repo.pushBlob({ mediaType: 'x', digest: sha(data), size: 10 }, async function* () {
      yield data;
    });
    assert.deepEqual(seen.map((s) => s.split(' ')[0] + ' ' + s.split(' ').at(-1)), ['POST 0', 'PUT 10']);
    // Streamed (the digest known only at the end): one PATCH without a range, then the PUT;
    // the descriptor is asked for only once every byte is out.
    seen.length = 0;
    let sentWhenAsked = -1;
    const desc = await repo.pushBlobStreamed(
      (async function* () {
        yield data.subarray(0, 6);
        yield data.subarray(6);
      })(),
      async () => {
        sentWhenAsked = seen.length;
        return { mediaType: 'x', digest: sha(data), size: 10 };
      },
    );
    assert.equal(desc.digest, sha(data));
    assert.equal(sentWhenAsked, 2);
    assert.deepEqual(seen.map((s) => s.replace(/_state=s\d+/, '_state=S')), ['POST /v2/r/blobs/uploads/  0', 'PATCH /v2/r/blobs/uploads/u1?_state=S  10', `PUT /v2/r/blobs/uploads/u1?_state=S&digest=${encodeURIComponent(sha(data))}  0`]);
    seen.length = 0;
    await repo.pushBlobStreamed((async function* () { yield data; })(), async () => ({ mediaType: 'x', digest: sha(data), size: 10 }), { chunkSize: 4 });
    assert.deepEqual(seen.map((s) => s.split(' ').slice(0, 1).concat(s.split(' ').slice(2)).join(' ')), ['POST  0', 'PATCH 0-3 4', 'PATCH 4-7 4', 'PATCH 8-9 2', 'PUT  0']);
    // A descriptor that does not match what went out fails before the PUT.
    seen.length = 0;
    await assert.rejects(repo.pushBlobStreamed((async function* () { yield data; })(), async () => ({ mediaType: 'x', digest: sha(data), size: 11 })), /pushed 10 bytes, expected 11/);
    assert.deepEqual(seen.map((s) => s.split(' ')[0]), ['POST', 'PATCH']);
  } finally {
    await reg.close();
  }
  // Mirror fallback: a mirror without the manifest gives way to the next endpoint. Docker
  // Hub is played by a local server (fetch is redirected; nothing leaves the machine).
  const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}');
  const mirror = await fakeRegistry((req, res) => {
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(req.url === '/v2/' ? '' : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
  const hub = await fakeRegistry((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' });
    res.end(req.url === '/v2/' ? '' : manifest);
  });
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const u = new URL(input instanceof Request ? input.url : input.toString());
    if (u.host === 'registry-1.docker.io') return realFetch(`http://${hub.host}${u.pathname}${u.search}`, init);
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    const client = createRegistryClient({ insecureRegistries: [], mirrors: [`http://${mirror.host}`] });
    const repo = client.repository('docker.io', 'library/busybox', undefined, ['pull']);
    const got = await repo.getManifest('latest');
    assert.equal(got.descriptor.digest, sha(manifest));
    assert.equal(got.descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  } finally {
    globalThis.fetch = realFetch;
    await mirror.close();
    await hub.close();
  }
});

test('certs.d: *.crt are CAs besides the system ones, a *.cert needs its *.key, nothing there is undefined', () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-certsd-'));
  try {
    const dir = join(base, 'reg.example:5000');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
    const withCa = certsFor('reg.example:5000', [join(base, 'none'), base])!;
    assert.equal(withCa.ca!.at(-1), 'CA PEM');
    assert.ok(withCa.ca!.length > 1, 'the system roots stay trusted');
    assert.equal(withCa.cert, undefined);
    writeFileSync(join(dir, 'client.cert'), 'CERT');
    assert.throws(() => certsFor('reg.example:5000', [base]), /missing key client.key for client certificate client.cert/);
    writeFileSync(join(dir, 'client.key'), 'KEY');
    const withClient = certsFor('reg.example:5000', [base])!;
    assert.equal(withClient.cert!.toString(), 'CERT');
    assert.equal(withClient.key!.toString(), 'KEY');
    assert.equal(certsFor('other:5000', [base]), undefined);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('an upload whose bytes are on the socket ends at once when its signal aborts', async () => {
  const reg = await fakeRegistry((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200);
      res.end();
      return;
    }
    res.writeHead(202, { Location: '/v2/up/blobs/uploads/1', 'Content-Length': '0' });
    res.end();
  });
  try {
    const repo = createRegistryClient({ insecureRegistries: [], mirrors: [] }).repository(reg.host, 'up', undefined, ['pull', 'push']);
    const abort = new AbortController();
    const body = async function* () {
      yield Buffer.from('first bytes');
      await new Promise(() => undefined); // the rest never comes
    };
    const t0 = Date.now();
    setTimeout(() => abort.abort(new Error('push cancelled')), 100);
    await assert.rejects(repo.pushBlob({ mediaType: 'x', digest: sha('whatever'), size: 1000 }, body, { signal: abort.signal }));
    assert.ok(Date.now() - t0 < 5000, 'ended promptly');
  } finally {
    await reg.close();
  }
});
