// berth run/start/logs/load/import/save as processes against a scripted daemon: the request
// sequence (attach and wait before start), streams, stdin, exit statuses and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, canned, frame, requestLines, runCli, startFakeDaemon, type FakeDaemon, type Handler } from './cli-harness.ts';

const ID = 'c0ffee'.padEnd(64, '0');

function containerHandlers(opts: { exitCode?: number; output?: Buffer; start?: { status: number; message: string } } = {}): Handler[] {
  return [
    canned({
      'POST /containers/create': { status: 201, body: { Id: ID, Warnings: ['something to know'] } },
      [`POST /containers/${ID}/attach`]: { status: 101, upgrade: opts.output ?? Buffer.concat([frame(1, 'to stdout\n'), frame(2, 'to stderr\n')]) },
      [`POST /containers/${ID}/wait`]: { body: { StatusCode: opts.exitCode ?? 0, Error: null } },
      [`POST /containers/${ID}/start`]: opts.start ? { status: opts.start.status, body: { message: opts.start.message } } : { status: 204 },
    }),
  ];
}

async function withDaemon(handlers: Handler[], fn: (d: FakeDaemon) => Promise<void>): Promise<void> {
  const d = await startFakeDaemon(handlers);
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

test('run: attach and wait before start, relay the output, exit with the container status', async () => {
  await withDaemon(containerHandlers({ exitCode: 3 }), async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'run', '--name', 'x', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'to stdout\n');
    assert.equal(r.stderr, 'WARNING: something to know\nto stderr\n');
    assert.deepEqual(requestLines(d.requests).filter((l) => !l.startsWith('STDIN')), [
      'POST /v1.50/containers/create?name=x',
      `POST /v1.50/containers/${ID}/attach?stderr=1&stdout=1&stream=1`,
      `POST /v1.50/containers/${ID}/wait?condition=next-exit`,
      `POST /v1.50/containers/${ID}/start`,
    ]);
    // Without -i the CLI half-closes the attach connection at once (nothing to send).
    assert.equal(d.requests.find((q) => q.method === 'STDIN')!.body.length, 0);
    const body = JSON.parse(d.requests.find((q) => q.url.includes('/create'))!.body.toString());
    assert.deepEqual(body.Cmd, ['echo', 'hi']);
    assert.equal(body.Image, 'busybox');
  });
});

test('run -i: stdin is forwarded to the container and closed at its end', async () => {
  await withDaemon(containerHandlers(), async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'run', '-i', '--rm', 'busybox', 'cat'], { stdin: 'line one\nline two\n' });
    assert.equal(r.code, 0);
    const attach = requestLines(d.requests).find((l) => l.includes('/attach'))!;
    assert.match(attach, /attach\?stderr=1&stdin=1&stdout=1&stream=1$/);
    assert.ok(requestLines(d.requests).includes(`POST /v1.50/containers/${ID}/wait?condition=removed`));
    assert.equal(d.requests.find((q) => q.method === 'STDIN')!.body.toString(), 'line one\nline two\n');
  });
});

test('run -d: prints the full id; no attach', async () => {
  await withDaemon(containerHandlers(), async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'run', '-d', 'busybox']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, ID + '\n');
    assert.deepEqual(requestLines(d.requests).filter((l) => !l.startsWith('STDIN')), ['POST /v1.50/containers/create', `POST /v1.50/containers/${ID}/wait?condition=next-exit`, `POST /v1.50/containers/${ID}/start`]);
    const body = JSON.parse(d.requests[1].body.toString());
    assert.equal(body.AttachStdout || body.AttachStderr || body.AttachStdin, false);
  });
});

test('run: start failures are 127 (not found), 126 (cannot execute) or 125 (other), worded as docker', async () => {
  const cases: Array<[string, number]> = [
    ['exec: "nope": executable file not found in $PATH', 127],
    ['exec /etc: permission denied', 126],
    ['cannot start: something else', 125],
  ];
  for (const [message, code] of cases) {
    await withDaemon(containerHandlers({ start: { status: 400, message }, output: Buffer.alloc(0) }), async (d) => {
      const r = await runCli(BERTH, ['-H', d.host, 'run', 'busybox', 'nope']);
      assert.equal(r.code, code, message);
      assert.equal(r.stderr, `WARNING: something to know\nberth: Error response from daemon: ${message}\n\nRun 'berth run --help' for more information\n`);
    });
  }
});

test('run: a missing image is pulled, and a failed pull is reported with status 125', async () => {
  const handlers: Handler[] = [
    canned({
      'POST /containers/create': { status: 404, body: { message: 'No such image: nope:latest' } },
      'POST /images/create': { status: 404, body: { message: 'pull access denied for nope' } },
    }),
  ];
  await withDaemon(handlers, async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'run', 'nope']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "Unable to find image 'nope:latest' locally\nberth: Error response from daemon: pull access denied for nope\n\nRun 'berth run --help' for more information\n");
    assert.deepEqual(requestLines(d.requests), ['POST /v1.50/containers/create', 'POST /v1.50/images/create?fromImage=docker.io%2Flibrary%2Fnope&tag=latest']);
  });
});

test('run: -it without a terminal, and an unreachable daemon', async () => {
  await withDaemon(containerHandlers(), async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'run', '-it', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'the input device is not a TTY\n');
  });
  const r = await runCli(BERTH, ['-H', 'unix:///nonexistent/berth.sock', 'run', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "berth: Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n\nRun 'berth run --help' for more information\n");
});

test('start -a: inspect, attach, wait, start; the container status becomes the exit status', async () => {
  const handlers: Handler[] = [
    canned({ 'GET /containers/web/json': { body: { Id: ID, Config: { Tty: false, OpenStdin: false }, HostConfig: { AutoRemove: false } } } }),
    ...containerHandlers({ exitCode: 7 }),
  ];
  await withDaemon(handlers, async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'start', '-a', 'web']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'to stdout\n');
    assert.deepEqual(requestLines(d.requests).filter((l) => !l.startsWith('STDIN')), [
      'GET /v1.50/containers/web/json',
      `POST /v1.50/containers/${ID}/attach?stderr=1&stdout=1&stream=1`,
      `POST /v1.50/containers/${ID}/wait?condition=next-exit`,
      `POST /v1.50/containers/${ID}/start`,
    ]);
  });
});

test('logs: multiplexed output split to stdout and stderr; raw for TTY containers', async () => {
  const logs = Buffer.concat([frame(1, 'a\n'), frame(2, 'b\n'), frame(1, 'c\n')]);
  const handlers: Handler[] = [
    canned({
      'GET /containers/web/json': { body: { Id: ID, Config: { Tty: false } } },
      [`GET /containers/${ID}/logs`]: { headers: { 'Content-Type': 'application/vnd.docker.multiplexed-stream' }, body: logs },
      'GET /containers/tty/json': { body: { Id: 'tty', Config: { Tty: true } } },
      'GET /containers/tty/logs': { body: 'raw text\r\n' },
    }),
  ];
  await withDaemon(handlers, async (d) => {
    const r = await runCli(BERTH, ['-H', d.host, 'logs', '--tail', '2', '-t', 'web']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'a\nc\n');
    assert.equal(r.stderr, 'b\n');
    assert.ok(requestLines(d.requests).includes(`GET /v1.50/containers/${ID}/logs?stderr=1&stdout=1&tail=2&timestamps=1`));
    const t = await runCli(BERTH, ['-H', d.host, 'logs', 'tty']);
    assert.equal(t.stdout, 'raw text\r\n');
  });
});

test('load and import send stdin as the body; save -o writes the archive atomically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-run-'));
  const handlers: Handler[] = [
    canned({
      'POST /images/load': { headers: { 'Content-Type': 'application/json' }, body: '{"stream":"Loaded image: busybox:latest\\n"}\n' },
      'POST /images/create': { headers: { 'Content-Type': 'application/json' }, body: '{"status":"sha256:1234"}\n' },
      'GET /images/get': { headers: { 'Content-Type': 'application/x-tar' }, body: 'TAR-BYTES' },
    }),
  ];
  try {
    await withDaemon(handlers, async (d) => {
      const l = await runCli(BERTH, ['-H', d.host, 'load'], { stdin: 'archive-bytes' });
      assert.equal(l.code, 0);
      assert.equal(l.stdout, 'Loaded image: busybox:latest\n');
      const load = d.requests.find((q) => q.url.includes('/images/load'))!;
      assert.equal(load.url, '/v1.50/images/load?quiet=1');
      assert.equal(load.body.toString(), 'archive-bytes');

      const i = await runCli(BERTH, ['-H', d.host, 'import', '-c', 'CMD ["sh"]', '-m', 'msg', '-', 'my/img:v1'], { stdin: 'tar-bytes' });
      assert.equal(i.code, 0);
      assert.equal(i.stdout, 'sha256:1234\n');
      const imp = d.requests.find((q) => q.url.includes('/images/create'))!;
      assert.equal(imp.url, '/v1.50/images/create?changes=CMD+%5B%22sh%22%5D&fromSrc=-&message=msg&repo=my%2Fimg%3Av1');
      assert.equal(imp.body.toString(), 'tar-bytes');

      const out = join(dir, 'out.tar');
      const s = await runCli(BERTH, ['-H', d.host, 'save', '-o', out, 'busybox', 'alpine']);
      assert.equal(s.code, 0);
      assert.equal(readFileSync(out, 'utf8'), 'TAR-BYTES');
      assert.deepEqual(readdirSync(dir), ['out.tar']);
      assert.ok(requestLines(d.requests).includes('GET /v1.50/images/get?names=busybox&names=alpine'));
    });
    writeFileSync(join(dir, 'x'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
