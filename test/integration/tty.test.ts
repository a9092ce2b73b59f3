// Interactive containers through the real docker CLI and the berth CLI, each on a real pty
// (script(1)): a shell with job control, the terminal size at start and after a resize,
// ctrl-c, the detach keys, attach and start -ai; `-i` without a TTY; the WebSocket attach
// with a client written here; and the API's attach and resize errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { REPO, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { PtySession, setPtySize } from '../helpers/pty.ts';

let d: TestDaemon;
let env: NodeJS.ProcessEnv;
const sessions: PtySession[] = [];

before(async () => {
  d = await startDaemon();
  env = { ...process.env, DOCKER_HOST: d.host, TERM: 'xterm' };
});
after(async () => {
  for (const s of sessions) s.kill();
  await d?.cleanup();
});

const PROMPT = '/ # ';

function pty(command: string): PtySession {
  const s = new PtySession(command, env);
  sessions.push(s);
  return s;
}

const berth = (args: string) => `${REPO}/bin/berth ${args}`;

async function state(name: string): Promise<string> {
  const r = await d.docker(['inspect', '-f', '{{.State.Status}}', name]);
  return r.stdout.trim();
}

/**
 * Waits until a process `comm` of the container runs as its terminal's foreground job
 * (not stopped, its group the tty's foreground group): then ctrl-c and ctrl-z reach it.
 */
async function foregroundJob(name: string, comm: string): Promise<void> {
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const child of await descendantsOf(pid)) {
      const stat = await fsp.readFile(`/proc/${child}/stat`, 'utf8').catch(() => '');
      const m = /^\d+ \((.*)\) (\S) \d+ (\d+) \d+ \d+ (-?\d+)/.exec(stat);
      if (m && m[1] === comm && m[2] !== 'T' && m[3] === m[4]) return;
    }
    if (Date.now() > deadline) throw new Error(`${comm} never became the foreground job`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function descendantsOf(root: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    const kids = await fsp.readFile(`/proc/${p}/task/${p}/children`, 'utf8').catch(() => '');
    for (const k of kids.split(' ').filter(Boolean).map(Number)) {
      out.push(k);
      queue.push(k);
    }
  }
  return out;
}

/** Fails (instead of hanging) when a promise does not settle in time. */
async function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Types `stty size` until the shell reports the expected size (a resize travels CLI → daemon → pty). */
async function expectSize(s: PtySession, from: number, size: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const before = s.output.length;
    s.send('stty size\r');
    const at = await s.waitFor(/\n\d+ \d+\r\n/, before);
    if (s.output.slice(before, at).includes(`\n${size}\r\n`)) return at;
  }
  throw new Error(`the size never became ${size}; output: ${JSON.stringify(s.output.slice(from))}`);
}

test('docker run -it: a shell on a pty, job control, ctrl-c, size at start and after a resize, exit status', async () => {
  const s = pty('stty rows 30 cols 90; exec docker run -it --rm --name tty-shell busybox sh');
  let at = await s.waitFor(PROMPT);
  s.send('tty\r');
  at = await s.waitFor('/dev/pts/0', at);
  // ConsoleSize at create gives the size from the first moment.
  s.send('stty size\r');
  at = await s.waitFor('30 90', at);
  // A new size from outside: SIGWINCH to the CLI, POST /resize, the monitor's ioctl.
  await setPtySize(await s.ptyPath('docker'), 41, 123);
  at = await expectSize(s, at, '41 123');
  // ctrl-c reaches the foreground job through the pty's line discipline.
  s.send('sleep 300\r');
  await foregroundJob('tty-shell', 'sleep');
  s.send('\x1a'); // ctrl-z: ash has job control on a terminal
  at = await s.waitFor(/Stopped\s+sleep 300/, at);
  s.send('fg\r');
  await foregroundJob('tty-shell', 'sleep');
  s.send('\x03');
  at = await s.waitFor(PROMPT, at);
  s.send('echo status=$?\r');
  at = await s.waitFor('status=130', at);
  s.send('exit 3\r');
  assert.equal(await s.exit(), 3);
});

test('-i without -t: stdin streams in and closes at its end', async () => {
  const r = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  const wc = await d.docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -c; echo after-eof'], { input: Buffer.alloc(200_000, 'x') });
  assert.equal(wc.stdout, '200000\nafter-eof\n');
});

test('ctrl-p ctrl-q detaches and leaves the shell running; docker attach gets it back; custom --detach-keys', async () => {
  const s = pty('stty rows 24 cols 80; exec docker run -it --name tty-detach busybox sh');
  let at = await s.waitFor(PROMPT);
  s.send('export MARK=kept\r');
  at = await s.waitFor(PROMPT, at);
  s.send(Buffer.from([0x10, 0x11]));
  assert.equal(await s.exit(), 0); // docker prints nothing and exits 0
  assert.equal(await state('tty-detach'), 'running');

  const a = pty('stty rows 24 cols 80; exec docker attach tty-detach');
  a.send('echo $MARK-again\r');
  await a.waitFor('kept-again');
  a.send(Buffer.from([0x10, 0x11]));
  assert.equal(await a.exit(), 1);
  assert.match(a.output, /read escape sequence/);
  assert.equal(await state('tty-detach'), 'running');

  // Custom keys "q,q": a lone q is held back and then passed on when the sequence breaks.
  const c = pty('stty rows 24 cols 80; exec docker attach --detach-keys=q,q tty-detach');
  c.send('echo q1 qz-$MARK\r');
  await c.waitFor('q1 qz-kept');
  c.send('qq');
  assert.equal(await c.exit(), 1);
  assert.equal(await state('tty-detach'), 'running');

  // Back once more: the same shell, and its exit status is attach's.
  const e = pty('stty rows 24 cols 80; exec docker attach tty-detach');
  e.send('echo last-$MARK\r');
  await e.waitFor('last-kept');
  e.send('exit 6\r');
  assert.equal(await e.exit(), 6);
  assert.equal(await state('tty-detach'), 'exited');
  await d.docker(['rm', 'tty-detach']);
});

test('docker start -ai: attaches before the start, input and the exit status', async () => {
  const created = await d.docker(['create', '-it', '--name', 'tty-start', 'busybox', 'sh']);
  assert.equal(created.code, 0, created.stderr);
  const s = pty('stty rows 25 cols 81; exec docker start -ai tty-start');
  let at = await s.waitFor(PROMPT);
  s.send('stty size\r');
  at = await expectSize(s, at, '25 81');
  s.send('exit 5\r');
  assert.equal(await s.exit(), 5);
  await d.docker(['rm', 'tty-start']);
});

test('berth CLI: run -it with a resize, detach, attach, start -ai', async () => {
  const s = pty(`stty rows 31 cols 91; exec ${berth('run -it --name tty-berth busybox sh')}`);
  let at = await s.waitFor(PROMPT);
  s.send('stty size\r');
  at = await s.waitFor('31 91', at);
  await setPtySize(await s.ptyPath('node'), 33, 99);
  at = await expectSize(s, at, '33 99');
  s.send(Buffer.from([0x10, 0x11]));
  assert.equal(await s.exit(), 0);
  assert.equal(await state('tty-berth'), 'running');

  const a = pty(`stty rows 31 cols 91; exec ${berth('attach tty-berth')}`);
  // The output of the shell, not the terminal's echo of what was typed.
  a.send('echo attached-$((2+3))\r');
  await a.waitFor('attached-5');
  a.send(Buffer.from([0x10, 0x11]));
  assert.equal(await a.exit(), 1);
  assert.match(a.output, /read escape sequence/);

  const e = pty(`stty rows 31 cols 91; exec ${berth('attach --detach-keys=ctrl-e tty-berth')}`);
  e.send('exit 2\r');
  assert.equal(await e.exit(), 2);

  await d.docker(['rm', 'tty-berth']);

  const created = await d.docker(['create', '-it', '--name', 'tty-berth-start', 'busybox', 'sh']);
  assert.equal(created.code, 0, created.stderr);
  const st = pty(`stty rows 31 cols 91; exec ${berth('start -ai tty-berth-start')}`);
  await st.waitFor(PROMPT);
  st.send('exit 9\r');
  assert.equal(await st.exit(), 9);
  await d.docker(['rm', 'tty-berth-start']);

  const stopped = await d.berth(['attach', 'no-such-container-x']);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /No such container: no-such-container-x/);
});

// ---- a WebSocket client, written from RFC 6455 ----

interface WsClient {
  sock: Socket;
  /** Payloads of data frames so far, concatenated. */
  text(): string;
  frames: Array<{ opcode: number; payload: Buffer }>;
  send(data: string | Buffer): void;
  waitFor(cond: () => boolean, what: string): Promise<void>;
  closed: Promise<void>;
}

function wsConnect(path: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const sock = connect(d.socket);
    const key = randomBytes(16).toString('base64');
    let pending = Buffer.alloc(0);
    let upgraded = false;
    const frames: Array<{ opcode: number; payload: Buffer }> = [];
    const waiters: Array<() => void> = [];
    const wake = () => {
      for (const w of waiters.splice(0)) w();
    };
    sock.on('error', reject);
    const closed = new Promise<void>((r) =>
      sock.on('close', () => {
        wake();
        r();
      }),
    );
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101 ')) return reject(new Error(`no upgrade: ${pending.toString()}`));
        upgraded = true;
        pending = pending.subarray(end + 4);
        resolve(client);
      }
      for (;;) {
        if (pending.length < 2) break;
        let len = pending[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (pending.length < 4) break;
          len = pending.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (pending.length < 10) break;
          len = Number(pending.readBigUInt64BE(2));
          off = 10;
        }
        if (pending.length < off + len) break;
        frames.push({ opcode: pending[0]! & 0x0f, payload: Buffer.from(pending.subarray(off, off + len)) });
        pending = pending.subarray(off + len);
      }
      wake();
    });
    const client: WsClient = {
      sock,
      frames,
      text: () => Buffer.concat(frames.filter((f) => f.opcode === 1 || f.opcode === 2).map((f) => f.payload)).toString('latin1'),
      send: (data) => {
        const payload = Buffer.from(data);
        const mask = randomBytes(4);
        const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
        if (payload.length >= 126) throw new Error('short frames only');
        sock.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, body]));
      },
      waitFor: async (cond, what) => {
        const deadline = Date.now() + 20_000;
        while (!cond()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(client.text())}`);
          if (sock.destroyed) throw new Error(`closed before ${what}; got ${JSON.stringify(client.text())}`);
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 250);
          });
        }
      },
      closed,
    };
    sock.write(`GET ${path} HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

test('attach over a WebSocket: TTY shell in binary frames, input frames to stdin, server-side detach keys', async () => {
  const run = await d.docker(['run', '-dit', '--name', 'tty-ws', 'busybox', 'sh']);
  assert.equal(run.code, 0, run.stderr);
  const ws = await wsConnect('/v1.50/containers/tty-ws/attach/ws?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-k');
  ws.send('echo ws-$((6*7))\r');
  await ws.waitFor(() => ws.text().includes('ws-42'), 'the echo');
  assert.ok(ws.frames.every((f) => f.opcode === 2), 'output comes in binary frames');
  // The daemon sees the keys here (no CLI in between): the session ends, the container runs on.
  ws.send(Buffer.from([0x0b]));
  await within(ws.closed, 'the WebSocket closing after the detach keys');
  const close = ws.frames.at(-1)!;
  assert.equal(close.opcode, 8);
  assert.equal(close.payload.readUInt16BE(0), 1000);
  assert.equal(await state('tty-ws'), 'running');
  const now = String(Math.ceil(Date.now() / 1000) + 1);
  const events = await d.docker(['events', '--since', '0', '--until', now, '--filter', 'container=tty-ws', '--format', '{{.Action}}']);
  assert.deepEqual(events.stdout.split('\n').filter((a) => a === 'attach' || a === 'detach'), ['attach', 'detach']);
  // The shell still has its stdin: a new WebSocket drives it (default keys now).
  const again = await wsConnect('/v1.50/containers/tty-ws/attach/ws?stream=1&stdin=1&stdout=1');
  again.send('echo back-$((1+1))\r');
  await again.waitFor(() => again.text().includes('back-2'), 'the second echo');
  again.send('exit\r');
  await within(again.closed, 'the WebSocket closing when the shell exits');
  assert.equal(await state('tty-ws'), 'exited');
  await d.docker(['rm', 'tty-ws']);
});

test('attach over a WebSocket without a TTY: stdout and stderr unmultiplexed; logs replay', async () => {
  const run = await d.docker(['run', '-di', '--name', 'ws-plain', 'busybox', 'sh', '-c', 'echo ready; while read l; do echo "out:$l"; echo "err:$l" >&2; done']);
  assert.equal(run.code, 0, run.stderr);
  const ws = await wsConnect('/v1.50/containers/ws-plain/attach/ws?logs=1&stream=1&stdin=1&stdout=1&stderr=1');
  await ws.waitFor(() => ws.text().includes('ready\n'), 'the replayed log');
  ws.send('abc\n');
  await ws.waitFor(() => ws.text().includes('out:abc\n') && ws.text().includes('err:abc\n'), 'both streams');
  // Raw bytes: no 8-byte multiplexing headers in the frames.
  assert.ok(!ws.text().includes('\x01\x00\x00\x00'));
  // ctrl-p ctrl-q is plain input without a TTY.
  ws.send(Buffer.from([0x10, 0x11, 0x0a]));
  await ws.waitFor(() => ws.text().includes('out:\x10\x11\n'), 'the keys as data');
  ws.sock.destroy();
  await d.docker(['rm', '-f', 'ws-plain']);
});

test('plain HTTP attach (no upgrade): 200 with the stream as its body, input read as stdin', async () => {
  const run = await d.docker(['run', '-di', '--name', 'http-plain', 'busybox', 'sh', '-c', 'while read l; do echo "got:$l"; done']);
  assert.equal(run.code, 0, run.stderr);
  const sock = connect(d.socket);
  let got = Buffer.alloc(0);
  const arrived: Array<() => void> = [];
  sock.on('data', (c: Buffer) => {
    got = Buffer.concat([got, c]);
    for (const w of arrived.splice(0)) w();
  });
  const until = async (what: string) => {
    const deadline = Date.now() + 20_000;
    while (!got.includes(what)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(got.toString('latin1'))}`);
      await new Promise<void>((r) => {
        arrived.push(r);
        setTimeout(r, 250);
      });
    }
  };
  sock.write('POST /v1.50/containers/http-plain/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n');
  await until('\r\n\r\n');
  assert.match(got.toString(), /^HTTP\/1\.1 200 OK\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\n\r\n$/);
  sock.write('hello\n');
  await until('got:hello\n');
  // Multiplexed frames all the same (dockerd labels them raw-stream on this path too).
  const body = got.subarray(got.indexOf('\r\n\r\n') + 4);
  assert.deepEqual([...body.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 10]);
  sock.destroy();
  await d.docker(['rm', '-f', 'http-plain']);
});

test('API errors: bad detach keys, unknown container, resize of a stopped container, bad sizes', async () => {
  const created = await d.docker(['create', '-t', '--name', 'tty-api', 'busybox', 'sh']);
  assert.equal(created.code, 0, created.stderr);
  const bad = await d.api('POST', '/v1.50/containers/tty-api/attach?stream=1&stdout=1&detachKeys=ctrl-P');
  assert.equal(bad.status, 400);
  assert.equal(bad.body, 'Invalid detach keys (ctrl-P) provided\r\n');
  const missing = await d.api('POST', '/v1.50/containers/nope-nope/attach?stream=1');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'No such container: nope-nope\r\n');
  // The docker CLI creates the container, then its attach is refused.
  const cli = pty('exec docker run -it --detach-keys ctrl-P --name tty-badkeys busybox true');
  assert.equal(await cli.exit(), 1);
  assert.match(cli.output, /unable to upgrade to tcp, received 400/);
  await d.docker(['rm', '-f', 'tty-badkeys']);

  const paused = await d.docker(['run', '-dit', '--name', 'tty-paused', 'busybox', 'sh']);
  assert.equal(paused.code, 0, paused.stderr);
  assert.equal((await d.docker(['pause', 'tty-paused'])).code, 0);
  const refused = await d.api('POST', '/v1.50/containers/tty-paused/attach?stream=1&stdout=1');
  assert.equal(refused.status, 409);
  assert.equal(refused.body, 'container tty-paused is paused, unpause the container before attach\r\n');
  await d.docker(['rm', '-f', 'tty-paused']);

  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'tty-api'])).stdout.trim();
  const notRunning = await d.api('POST', '/v1.50/containers/tty-api/resize?h=10&w=20');
  assert.equal(notRunning.status, 409);
  assert.equal(notRunning.json().message, `container ${id} is not running`);
  const syntax = await d.api('POST', '/v1.50/containers/tty-api/resize?h=abc&w=20');
  assert.equal(syntax.status, 400);
  assert.equal(syntax.json().message, 'invalid resize height "abc": invalid syntax');
  const range = await d.api('POST', '/v1.50/containers/tty-api/resize?h=10&w=-1');
  assert.equal(range.json().message, 'invalid resize width "-1": value out of range');
  const none = await d.api('POST', '/v1.50/containers/tty-api/resize');
  assert.equal(none.json().message, 'invalid resize height "": invalid syntax');
  const unknown = await d.api('POST', '/v1.50/containers/nope-nope/resize?h=1&w=1');
  assert.equal(unknown.status, 404);
  await d.docker(['rm', 'tty-api']);
});
