// berth-monitor with the real runc: a busybox bundle per test, the monitor spawned as berthd
// spawns it, and everything it promises checked (frames, json-file log, exit file, clients).
import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  connectMonitor,
  monitorBinary,
  readExitFile,
  runtimeError,
  spawnMonitor,
  startAndWait,
  type MonitorConnection,
  type MonitorFailure,
  type MonitorOptions,
} from '../../src/monitor/monitor.ts';
import { encodeFrame, FrameDecoder } from '../../src/monitor/protocol.ts';
import { readLogs } from '../../src/container/logs.ts';

const run = promisify(execFile);
const RUNC = '/usr/sbin/runc';
const WAIT_MS = 30_000;
const PLAIN_MONITOR = monitorBinary(); // before BERTH_MONITOR is pointed at the sanitizer build

// CI runs the monitor under ASan/UBSan; their reports go to files we check at the end.
const sanitizerDir = process.env.BERTH_MONITOR_ASAN ? await fsp.mkdtemp(join(tmpdir(), 'berth-san-')) : undefined;
if (process.env.BERTH_MONITOR_ASAN) {
  process.env.BERTH_MONITOR = process.env.BERTH_MONITOR_ASAN;
  process.env.ASAN_OPTIONS = `log_path=${sanitizerDir}/asan:detect_leaks=1`;
  process.env.UBSAN_OPTIONS = `log_path=${sanitizerDir}/ubsan:print_stacktrace=1:halt_on_error=1`;
}
after(async () => {
  if (!sanitizerDir) return;
  const reports = readdirSync(sanitizerDir);
  const texts = await Promise.all(reports.map((f) => fsp.readFile(join(sanitizerDir, f), 'utf8')));
  await fsp.rm(sanitizerDir, { recursive: true, force: true });
  assert.deepEqual(texts, [], 'sanitizer reports from berth-monitor');
});

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Everything a connection says, captured from its first byte. */
class Recorder {
  readonly conn: MonitorConnection;
  readonly stdoutChunks: Buffer[] = [];
  readonly stderrChunks: Buffer[] = [];
  readonly created: Promise<number>;
  readonly started: Promise<void>;
  readonly exited: Promise<number>;
  readonly failed: Promise<MonitorFailure>;
  readonly closed: Promise<void>;

  constructor(conn: MonitorConnection) {
    this.conn = conn.ref();
    conn.on('stdout', (b: Buffer) => this.stdoutChunks.push(b));
    conn.on('stderr', (b: Buffer) => this.stderrChunks.push(b));
    this.created = new Promise((r) => conn.once('created', r));
    this.started = new Promise((r) => conn.once('started', () => r()));
    this.exited = new Promise((r) => conn.once('exited', r));
    this.failed = new Promise((r) => conn.once('failed', r));
    this.closed = new Promise((r) => conn.once('close', () => r()));
  }

  get stdout(): string {
    return Buffer.concat(this.stdoutChunks).toString();
  }

  get stderr(): string {
    return Buffer.concat(this.stderrChunks).toString();
  }
}

interface Setup {
  dir: string;
  opts: MonitorOptions;
  rootfs: string;
  monitorPids: number[];
}

let serial = 0;

/** A bundle running `args`, with cleanup (runc delete, monitor, files) registered on t. */
async function bundle(
  t: TestContext,
  args: string[],
  extra: Partial<MonitorOptions> = {},
): Promise<Setup> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-mon-'));
  const id = `berth-mon-test-${process.pid}-${++serial}`;
  const setup: Setup = {
    dir,
    rootfs: join(dir, 'bundle', 'rootfs'),
    monitorPids: [],
    opts: {
      id,
      bundle: join(dir, 'bundle'),
      runtime: RUNC,
      runtimeRoot: join(dir, 'runc'),
      runtimeLog: join(dir, 'runc.log'),
      pidFile: join(dir, 'pid'),
      socketPath: join(dir, 'attach.sock'),
      exitFile: join(dir, 'exit.json'),
      logPath: join(dir, 'container.log'),
      ...extra,
    },
  };
  t.after(async () => {
    await run(RUNC, ['--root', setup.opts.runtimeRoot, 'delete', '--force', id]).catch(() => {});
    for (const pid of setup.monitorPids) {
      await until(() => !alive(pid), `monitor ${pid} to exit`).catch(() => process.kill(pid, 'SIGKILL'));
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  const bin = join(setup.rootfs, 'bin');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp']) await fsp.mkdir(join(setup.rootfs, d), { recursive: true });
  await fsp.copyFile('/bin/busybox', join(bin, 'busybox'));
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet && applet !== 'busybox') await fsp.symlink('busybox', join(bin, applet));
  }
  await fsp.writeFile(join(setup.opts.bundle, 'config.json'), JSON.stringify(ociSpec(args, !!extra.tty)));
  return setup;
}

function ociSpec(args: string[], terminal: boolean): unknown {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'monitor-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A runtime wrapper script in the test's directory; `body` is its shell text. */
async function fakeRuntime(s: Setup, body: string): Promise<string> {
  const path = join(s.dir, `fake-runtime-${++serial}`);
  await fsp.writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

function launch(s: Setup): Recorder {
  const conn = spawnMonitor(s.opts);
  assert.ok(conn.monitorPid, 'monitor spawned');
  s.monitorPids.push(conn.monitorPid);
  return new Recorder(conn);
}

interface LogLine {
  log: string;
  stream: string;
  time: string;
}

async function readLog(path: string): Promise<LogLine[]> {
  const text = await fsp.readFile(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'log ends with a newline');
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as LogLine);
}

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
/** Go's time.RFC3339Nano, which json-file's "time" uses: no trailing zeros in the fraction. */
const RFC3339_NANO_TRIMMED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

describe('FrameDecoder', () => {
  test('reassembles frames split at every byte', () => {
    const wire = Buffer.concat([encodeFrame('o', 'hello'), encodeFrame('S', ''), encodeFrame('X', '137')]);
    const decoder = new FrameDecoder();
    const frames = [];
    for (const byte of wire) frames.push(...decoder.push(Buffer.of(byte)));
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.toString()]),
      [['o', 'hello'], ['S', ''], ['X', '137']],
    );
    assert.equal(decoder.buffered, 0);
  });

  test('rejects a frame longer than 1 MiB', () => {
    const head = Buffer.from([0x69, 0, 0x20, 0, 0]); // 'i', 2 MiB
    assert.throws(() => new FrameDecoder().push(head), RangeError);
  });
});

describe('berth-monitor', () => {
  test('separates stdout and stderr in frames and in the json-file log', async (t) => {
    const s = await bundle(t, [
      'sh', '-c',
      'echo out1; echo err1 >&2; echo out2; printf \'tab\\t"q" \\\\ \\001 h\\303\\251llo\\n\'; echo err2 >&2; printf "bad \\377\\n"',
    ]);
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    const special = 'tab\t"q" \\ \u0001 héllo\n';
    // Frames carry the bytes as written, invalid UTF-8 included.
    assert.deepEqual(Buffer.concat(r.stdoutChunks), Buffer.concat([Buffer.from(`out1\nout2\n${special}bad `), Buffer.of(0xff, 0x0a)]));
    assert.equal(r.stderr, 'err1\nerr2\n');

    const lines = await readLog(s.opts.logPath!);
    for (const l of lines) assert.match(l.time, RFC3339_NANO_TRIMMED);
    assert.deepEqual(lines.filter((l) => l.stream === 'stdout').map((l) => l.log), ['out1\n', 'out2\n', special, 'bad \ufffd\n']);
    assert.deepEqual(lines.filter((l) => l.stream === 'stderr').map((l) => l.log), ['err1\n', 'err2\n']);
    const raw = await fsp.readFile(s.opts.logPath!, 'utf8');
    // Escaped as Docker's encoder escapes: a tab as \u0009, not \t.
    assert.ok(raw.includes('"log":"tab\\u0009\\"q\\" \\\\ \\u0001 héllo\\n"'), raw);

    const exit = await readExitFile(s.opts.exitFile);
    assert.equal(exit?.exitCode, 0);
    assert.equal(exit?.signal, 0);
    assert.match(exit!.finishedAt, RFC3339_NANO);
    await within(r.closed, 'close');
    assert.equal(existsSync(s.opts.socketPath), false, 'socket removed');
  });

  test('records exit code 3', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'exit 3']);
    const r = launch(s);
    const { pid } = await within(startAndWait(r.conn), 'start');
    assert.ok(pid > 0);
    assert.equal(await within(r.created, 'created'), pid);
    assert.equal(await within(r.exited, 'exit'), 3);
    assert.deepEqual(
      { ...(await readExitFile(s.opts.exitFile)), finishedAt: '' },
      { exitCode: 3, signal: 0, finishedAt: '' },
    );
  });

  test('tells the exit time before the exit code, as the exit file records it', async (t) => {
    const s = await bundle(t, ['true']);
    const r = launch(s);
    let timeAtExit: string | undefined;
    r.conn.once('exited', () => (timeAtExit = r.conn.finishedAt));
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.match(timeAtExit ?? '', RFC3339_NANO);
    assert.equal(timeAtExit, (await readExitFile(s.opts.exitFile))?.finishedAt);
  });

  test('deletes the container from the runtime after the exit, before it goes', async (t) => {
    const s = await bundle(t, ['true']);
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    await within(r.closed, 'close');
    await until(() => !alive(r.conn.monitorPid!), 'monitor to exit');
    await assert.rejects(run(RUNC, ['--root', s.opts.runtimeRoot, 'state', s.opts.id]), /does not exist/);
  });

  test('a container killed with SIGKILL exits 137, signal 9', async (t) => {
    const s = await bundle(t, ['sleep', '1000']);
    const r = launch(s);
    await within(r.started, 'start');
    await run(RUNC, ['--root', s.opts.runtimeRoot, 'kill', s.opts.id, 'KILL']);
    assert.equal(await within(r.exited, 'exit'), 137);
    const exit = await readExitFile(s.opts.exitFile);
    assert.equal(exit?.exitCode, 137);
    assert.equal(exit?.signal, 9);
  });

  test('a missing executable fails create with the runtime error', async (t) => {
    const s = await bundle(t, ['nope']);
    const r = launch(s);
    await assert.rejects(within(startAndWait(r.conn), 'failure'), /executable file not found/);
    assert.deepEqual(await within(r.failed, 'failed'), { stage: 'create', status: 1 });
    assert.match(await runtimeError(s.opts.runtimeLog), /exec: "nope": executable file not found/);
    await within(r.closed, 'close');
    assert.equal(await readExitFile(s.opts.exitFile), undefined, 'no exit file');
    assert.equal(existsSync(s.opts.socketPath), false, 'socket removed');
    assert.equal(r.stdout + r.stderr, '', "runc's own text is not container output");
  });

  test('feeds stdin from client frames and closes it on request', async (t) => {
    const s = await bundle(t, ['cat'], { stdin: true });
    const r = launch(s);
    await within(r.started, 'start');
    r.conn.writeStdin('hello ');
    r.conn.writeStdin(Buffer.from('stdin\n'));
    r.conn.closeStdin();
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.equal(r.stdout, 'hello stdin\n');
    assert.deepEqual((await readLog(s.opts.logPath!)).map((l) => l.log), ['hello stdin\n']);
  });

  test('flushes a partial last line at exit', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'echo whole; printf "no newline"']);
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.equal(r.stdout, 'whole\nno newline');
    assert.deepEqual((await readLog(s.opts.logPath!)).map((l) => l.log), ['whole\n', 'no newline']);
  });

  test('splits log lines longer than 16 KiB', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'head -c 20000 /dev/zero | tr "\\0" x; echo']);
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.equal(r.stdout, 'x'.repeat(20000) + '\n');
    assert.deepEqual((await readLog(s.opts.logPath!)).map((l) => l.log), ['x'.repeat(16384), 'x'.repeat(3616) + '\n']);
  });

  test('a second client gets the state, can write stdin, and sees the exit', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'echo first; read line; echo "second $line"'], { stdin: true });
    const r = launch(s);
    await within(r.started, 'start');
    await until(() => r.stdout === 'first\n', 'first line');
    const r2 = new Recorder(await connectMonitor(s.opts.socketPath, s.opts.runtimeLog));
    t.after(() => r2.conn.close());
    assert.equal(await within(r2.created, 'created on client 2'), r.conn.pid);
    await within(r2.started, 'started on client 2');
    r2.conn.writeStdin('via two\n');
    assert.equal(await within(r2.exited, 'exit on client 2'), 0);
    assert.equal(await within(r.exited, 'exit on client 1'), 0);
    assert.equal(r.stdout, 'first\nsecond via two\n');
    assert.equal(r2.stdout, 'second via two\n');
    await assert.rejects(connectMonitor(s.opts.socketPath), { code: 'ENOENT' });
  });

  test('keeps the container when the first client goes away', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; echo bye; exit 5']);
    const r = launch(s);
    await within(r.started, 'start');
    r.conn.close();
    await within(r.closed, 'close');
    assert.ok(alive(r.conn.monitorPid!), 'monitor outlives its first client');
    // berthd stops containers through the runtime: these signals must not end the monitor.
    for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGPIPE'] as const) process.kill(r.conn.monitorPid!, sig);
    // A client breaking the protocol (a 2 MiB frame) is dropped, nothing else.
    const rogue = connect(s.opts.socketPath);
    rogue.on('data', () => {});
    rogue.write(Buffer.from([0x69, 0, 0x20, 0, 0]));
    await within(new Promise((r) => rogue.on('close', r)), 'rogue client dropped');
    assert.ok(alive(r.conn.monitorPid!), 'monitor survives signals and a rogue client');
    const { stdout } = await run(RUNC, ['--root', s.opts.runtimeRoot, 'state', s.opts.id]);
    assert.equal(JSON.parse(stdout).status, 'running');
    await fsp.writeFile(join(s.rootfs, 'tmp', 'go'), '');
    await until(async () => (await readExitFile(s.opts.exitFile)) !== undefined, 'exit file');
    assert.equal((await readExitFile(s.opts.exitFile))?.exitCode, 5);
    assert.deepEqual((await readLog(s.opts.logPath!)).map((l) => l.log), ['bye\n']);
  });

  test('waits for the start request, and stays under 2 MiB resident', async (t) => {
    if (process.env.BERTH_MONITOR_ASAN) {
      // The sanitizer build's footprint says nothing; measure the real one when it is built.
      if (!existsSync(PLAIN_MONITOR)) return t.skip('plain build/berth-monitor not built');
      process.env.BERTH_MONITOR = PLAIN_MONITOR;
      t.after(() => void (process.env.BERTH_MONITOR = process.env.BERTH_MONITOR_ASAN));
    }
    const s = await bundle(t, ['sh', '-c', 'echo ready; read x; echo "got $x"'], { stdin: true, waitStart: true });
    const r = launch(s);
    const pid = await within(r.created, 'created');
    assert.equal(r.conn.state, 'created');
    const { stdout } = await run(RUNC, ['--root', s.opts.runtimeRoot, 'state', s.opts.id]);
    assert.equal(JSON.parse(stdout).status, 'created', 'not started before asked');
    assert.deepEqual(await within(startAndWait(r.conn), 'start'), { pid });
    await until(() => r.stdout === 'ready\n', 'ready');

    const status = await fsp.readFile(`/proc/${r.conn.monitorPid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    t.diagnostic(`berth-monitor VmRSS: ${rssKiB} KiB`);
    assert.ok(rssKiB > 0 && rssKiB < 2048, `VmRSS ${rssKiB} KiB`);

    r.conn.writeStdin('go\n');
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.equal(r.stdout, 'ready\ngot go\n');
  });

  test('holds the output back while a client does not read, and loses none of it', async (t) => {
    const total = 8_000_000;
    const s = await bundle(t, ['sh', '-c', `head -c ${total} /dev/zero | tr "\\0" x; echo done`], {
      waitStart: true,
      logPath: undefined,
    });
    const r = launch(s);
    await within(r.created, 'created');

    // A raw client that stops reading once it is registered (its greeting came).
    const slow = connect(s.opts.socketPath);
    t.after(() => void slow.destroy());
    const decoder = new FrameDecoder();
    let slowBytes = 0;
    let slowTail = Buffer.alloc(0);
    let greeted!: () => void;
    let slowExit!: (code: string) => void;
    const greeting = new Promise<void>((res) => (greeted = res));
    const slowExited = new Promise<string>((res) => (slowExit = res));
    slow.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === 'C') {
          slow.pause();
          greeted();
        } else if (f.type === 'o') {
          slowBytes += f.payload.length;
          slowTail = Buffer.concat([slowTail, f.payload]).subarray(-5);
        } else if (f.type === 'X') slowExit(f.payload.toString());
      }
    });
    await within(greeting, 'greeting');
    r.conn.start();
    await within(r.started, 'start');
    // The slow client can buffer far less than the output: the container must be held up.
    await new Promise((res) => setTimeout(res, 500));
    const { stdout } = await run(RUNC, ['--root', s.opts.runtimeRoot, 'state', s.opts.id]);
    assert.equal(JSON.parse(stdout).status, 'running', 'container waits for the slow client');
    assert.equal(await readExitFile(s.opts.exitFile), undefined);

    slow.resume();
    assert.equal(await within(slowExited, 'exit on the slow client'), '0');
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.equal(slowBytes, total + 5);
    assert.equal(slowTail.toString(), 'done\n');
    assert.equal(Buffer.concat(r.stdoutChunks).length, total + 5);
    assert.deepEqual(await fsp.readdir(s.dir).then((names) => names.filter((n) => n.endsWith('.log') && n !== 'runc.log')), [], 'no log without --log-path');
  });

  test('carries megabytes of stdin through in order', async (t) => {
    const s = await bundle(t, ['cat'], { stdin: true });
    const r = launch(s);
    await within(r.started, 'start');
    const input = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < input.length; i++) input[i] = 0x20 + ((i * 7) % 90);
    r.conn.writeStdin(input);
    r.conn.closeStdin();
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.ok(Buffer.concat(r.stdoutChunks).equals(input), 'stdout echoes stdin exactly');
  });

  test('a container killed before start exits 137 without starting', async (t) => {
    const s = await bundle(t, ['sleep', '1000'], { waitStart: true });
    const r = launch(s);
    let started = false;
    r.conn.on('started', () => (started = true));
    await within(r.created, 'created');
    await run(RUNC, ['--root', s.opts.runtimeRoot, 'kill', s.opts.id, 'KILL']);
    assert.equal(await within(r.exited, 'exit'), 137);
    assert.equal(started, false);
    assert.equal((await readExitFile(s.opts.exitFile))?.signal, 9);
  });

  test('a failing start is reported, the container deleted, no exit file written', async (t) => {
    // Only a monitor that waits for the start request runs the runtime's `start` apart.
    const s = await bundle(t, ['sleep', '1000'], { waitStart: true });
    const fake = join(s.dir, 'fake-runtime');
    const entry = JSON.stringify({ level: 'error', msg: 'fake start failure', time: '2026-01-01T00:00:00Z' });
    await fsp.writeFile(
      fake,
      `#!/bin/sh\nfor a; do if [ "$a" = start ]; then echo '${entry}' >> '${s.opts.runtimeLog}'; exit 7; fi; done\nexec ${RUNC} "$@"\n`,
      { mode: 0o755 },
    );
    s.opts.runtime = fake;
    const r = launch(s);
    await assert.rejects(within(startAndWait(r.conn), 'failure'), /^Error: fake start failure$/);
    assert.deepEqual(await within(r.failed, 'failed'), { stage: 'start', status: 7 });
    await within(r.closed, 'close');
    assert.equal(await readExitFile(s.opts.exitFile), undefined, 'no exit file');
    await assert.rejects(run(RUNC, ['--root', s.opts.runtimeRoot, 'state', s.opts.id]), 'container deleted');
  });

  test('runs the runtime once (`run --detach`), or `create` then `start` when asked to wait', async (t) => {
    for (const waitStart of [false, true]) {
      const s = await bundle(t, ['sh', '-c', 'echo hi'], { waitStart });
      const calls = join(s.dir, 'calls');
      s.opts.runtime = await fakeRuntime(s, `for a; do case $a in run|create|start) echo $a >> '${calls}';; esac; done\nexec ${RUNC} "$@"`);
      const r = launch(s);
      await within(startAndWait(r.conn), 'start');
      assert.equal(await within(r.exited, 'exit'), 0);
      assert.equal(r.stdout, 'hi\n');
      assert.equal(await fsp.readFile(calls, 'utf8'), waitStart ? 'create\nstart\n' : 'run\n');
    }
  });

  test('output written before the runtime exits reaches the clients whole and in order', async (t) => {
    // The runtime lingers after starting the container, which meanwhile writes far more
    // than the monitor holds back and a pipe buffers, then exits.
    const s = await bundle(t, ['sh', '-c', 'seq 1 40000; echo err >&2']);
    s.opts.runtime = await fakeRuntime(s, `${RUNC} "$@"; rc=$?; sleep 0.5; exit $rc`);
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    const expected = Array.from({ length: 40000 }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(r.stdout, expected);
    assert.equal(r.stderr, 'err\n');
    const lines = await readLog(s.opts.logPath!);
    assert.equal(lines.filter((l) => l.stream === 'stdout').map((l) => l.log).join(''), expected);
  });

  test("a failing `run` is reported as a create failure, and the runtime's own text is not output", async (t) => {
    const s = await bundle(t, ['sleep', '1000']);
    const entry = JSON.stringify({ level: 'error', msg: 'fake run failure', time: '2026-01-01T00:00:00Z' });
    s.opts.runtime = await fakeRuntime(s, `echo runtime-stdout; echo runtime-stderr >&2; echo '${entry}' >> '${s.opts.runtimeLog}'; exit 3`);
    const r = launch(s);
    await assert.rejects(within(startAndWait(r.conn), 'failure'), /^Error: fake run failure$/);
    assert.deepEqual(await within(r.failed, 'failed'), { stage: 'create', status: 3 });
    await within(r.closed, 'close');
    assert.equal(r.stdout + r.stderr, '');
    assert.equal(await readExitFile(s.opts.exitFile), undefined, 'no exit file');
  });

  test('--tty without waiting for start: the terminal comes through `run`', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'tty; echo done'], { tty: true });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\ndone\r\n$/);
  });

  test('--tty: runs the container on a pty, with resize and input', async (t) => {
    const s = await bundle(t, ['sh', '-c', 'tty; stty size; read x; echo "got $x"'], { tty: true, stdin: true, waitStart: true });
    const r = launch(s);
    await within(r.created, 'created');
    r.conn.resize(40, 100);
    r.conn.start();
    await within(r.started, 'start');
    await until(() => r.stdout.includes('40 100'), 'stty output');
    r.conn.writeStdin('typed\n');
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n40 100\r\n/);
    assert.match(r.stdout, /got typed\r\n$/);
    assert.equal(r.stderr, '');
    const lines = await readLog(s.opts.logPath!);
    assert.ok(lines.every((l) => l.stream === 'stdout'));
    assert.equal(lines.map((l) => l.log).join(''), r.stdout);
    assert.equal(existsSync(`${s.opts.socketPath}.console`), false, 'console socket removed');
  });
});

// ---------------------------------------------------------------------------
// The log as the monitor writes it: Docker's formats, rotation, compression.

/** The json-file lines of a log file set, oldest file first. */
async function jsonLines(paths: string[]): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for (const p of paths) {
    const text = p.endsWith('.gz') ? gunzipSync(await fsp.readFile(p)).toString('utf8') : await fsp.readFile(p, 'utf8');
    for (const l of text.split('\n')) if (l) out.push(JSON.parse(l) as LogLine);
  }
  return out;
}

/** Protobuf fields in the order they appear: [field number, value]. */
function protoFields(b: Buffer): [number, bigint | Buffer][] {
  const out: [number, bigint | Buffer][] = [];
  let pos = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = b[pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  };
  while (pos < b.length) {
    const key = Number(varint());
    if ((key & 7) === 0) out.push([key >> 3, varint()]);
    else if ((key & 7) === 2) {
      const len = Number(varint());
      out.push([key >> 3, b.subarray(pos, pos + len)]);
      pos += len;
    } else throw new Error(`unexpected wire type in ${b.toString('hex')}`);
  }
  return out;
}

/** The records of a local-driver file: each framed by its length before and after. */
function localRecords(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < file.length) {
    const len = file.readUInt32BE(pos);
    assert.equal(file.readUInt32BE(pos + 4 + len), len, 'trailing length matches the leading one');
    out.push(file.subarray(pos + 4, pos + 4 + len));
    pos += len + 8;
  }
  return out;
}

function seqText(from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += `${i}\n`;
  return s;
}

describe('berth-monitor log', () => {
  test('json-file rotates at max-size into <log>.1 … .N-1, keeping the newest lines in order', async (t) => {
    const s = await bundle(t, ['seq', '1', '20000'], { log: { driver: 'json-file', maxSize: 10_000, maxFile: 3 } });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    const log = s.opts.logPath!;
    const names = (await fsp.readdir(s.dir)).filter((n) => n.startsWith('container.log')).sort();
    assert.deepEqual(names, ['container.log', 'container.log.1', 'container.log.2']);
    // A file is rotated once it holds max-size bytes or more, before the next entry: so a
    // rotated file ends within one entry past the limit.
    for (const p of [`${log}.2`, `${log}.1`]) {
      const size = (await fsp.stat(p)).size;
      assert.ok(size >= 10_000 && size < 10_000 + 100, `${p}: ${size} bytes`);
    }
    assert.ok((await fsp.stat(log)).size < 10_000 + 100);
    const lines = await jsonLines([`${log}.2`, `${log}.1`, log]);
    const text = lines.map((l) => l.log).join('');
    const first = Number(lines[0]!.log);
    assert.ok(first > 1, 'the oldest lines were rotated away');
    assert.equal(text, seqText(first, 20000), 'what survived is contiguous and ends with the last line');
  });

  test('json-file with max-file 1 starts the file afresh at max-size', async (t) => {
    const s = await bundle(t, ['seq', '1', '5000'], { log: { driver: 'json-file', maxSize: 4000, maxFile: 1 } });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    assert.deepEqual((await fsp.readdir(s.dir)).filter((n) => n.startsWith('container.log')), ['container.log']);
    const lines = await jsonLines([s.opts.logPath!]);
    const first = Number(lines[0]!.log);
    assert.ok(first > 1);
    assert.equal(lines.map((l) => l.log).join(''), seqText(first, 5000));
  });

  test('compresses rotated files to <log>.N.gz with the last entry time in the gzip header', async (t) => {
    const s = await bundle(t, ['seq', '1', '20000'], { log: { driver: 'json-file', maxSize: 20_000, maxFile: 4, compress: true } });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    await within(r.closed, 'close');
    await until(() => !alive(r.conn.monitorPid!), 'monitor to exit');
    const log = s.opts.logPath!;
    // The monitor waited for its compressor before it went.
    const names = (await fsp.readdir(s.dir)).filter((n) => n.startsWith('container.log')).sort();
    assert.deepEqual(names, ['container.log', 'container.log.1.gz', 'container.log.2.gz', 'container.log.3.gz']);
    const files = [`${log}.3.gz`, `${log}.2.gz`, `${log}.1.gz`, log];
    const lines = await jsonLines(files);
    const first = Number(lines[0]!.log);
    assert.equal(lines.map((l) => l.log).join(''), seqText(first, 20000));
    for (const gz of files.slice(0, 3)) {
      const head = await fsp.readFile(gz);
      assert.equal(head[3]! & 4, 4, 'FEXTRA set');
      const extra = JSON.parse(head.toString('utf8', 12, 12 + head.readUInt16LE(10))) as { lastTime: string };
      const own = await jsonLines([gz]);
      assert.equal(extra.lastTime, own[own.length - 1]!.time, `${gz}: lastTime is its last entry's time`);
    }
  });

  test("writes Docker's local format: framed protobuf entries, long lines in partial pieces", async (t) => {
    const s = await bundle(t, ['sh', '-c', 'echo one; echo two >&2; head -c 20000 /dev/zero | tr "\\0" x; echo; printf "end"'], {
      log: { driver: 'local' },
    });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    const records = localRecords(await fsp.readFile(s.opts.logPath!)).map(protoFields);
    const stdout = records.filter((f) => (f[0]![1] as Buffer).toString() === 'stdout');
    const stderr = records.filter((f) => (f[0]![1] as Buffer).toString() === 'stderr');
    assert.equal(stderr.length, 1);
    // source=1, time_nano=2, line=3 (without its newline), in field order.
    assert.deepEqual(stderr[0]!.map((f) => f[0]), [1, 2, 3]);
    assert.equal((stderr[0]![2]![1] as Buffer).toString(), 'two');
    assert.deepEqual(stdout.map((f) => f.map((x) => x[0])), [[1, 2, 3], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]);
    assert.equal((stdout[0]![2]![1] as Buffer).toString(), 'one');
    const now = BigInt(Date.now()) * 1_000_000n;
    const t0 = stdout[0]![1]![1] as bigint;
    assert.ok(t0 > now - 60_000_000_000n && t0 <= now, 'time_nano is the time of writing');
    // The 20000-byte line: a 16 KiB piece then the rest, one id, ordinals 1 and 2, the
    // first piece's time on both, `last` on the second.
    const [p1, p2, end] = [stdout[1]!, stdout[2]!, stdout[3]!];
    assert.equal((p1[2]![1] as Buffer).length, 16384);
    assert.equal((p2[2]![1] as Buffer).length, 20000 - 16384);
    assert.equal(p1[1]![1], p2[1]![1], 'pieces share the first piece time');
    assert.equal(p1[3]![1], 1n);
    const md1 = protoFields(p1[4]![1] as Buffer);
    const md2 = protoFields(p2[4]![1] as Buffer);
    assert.deepEqual(md1.map((f) => f[0]), [2, 3], 'first piece: id and ordinal, not last');
    assert.match((md1[0]![1] as Buffer).toString(), /^[0-9a-f]{64}$/);
    assert.equal(md1[1]![1], 1n);
    assert.deepEqual(md2.map((f) => f[0]), [1, 2, 3]);
    assert.equal(md2[0]![1], 1n);
    assert.deepEqual(md2[1]![1], md1[0]![1], 'same id');
    assert.equal(md2[2]![1], 2n);
    // Output ending without a newline: a partial entry, ordinal 1, not last.
    assert.equal((end[2]![1] as Buffer).toString(), 'end');
    assert.deepEqual(protoFields(end[4]![1] as Buffer).map((f) => [f[0], typeof f[1] === 'bigint' ? f[1] : 'id']), [[2, 'id'], [3, 1n]]);
  });

  test('json-file attrs and escaping as Docker writes them', async (t) => {
    const attrs = JSON.stringify({ a: 'b', 'com.example': 'x\u003cy' }).replace('<', '\\u003c');
    const s = await bundle(t, ['sh', '-c', 'printf "<a & b>\\n"; head -c 17000 /dev/zero | tr "\\0" y; echo'], {
      log: { driver: 'json-file', attrs },
    });
    const r = launch(s);
    assert.equal(await within(r.exited, 'exit'), 0);
    const raw = (await fsp.readFile(s.opts.logPath!, 'utf8')).split('\n').filter(Boolean);
    assert.equal(raw.length, 3);
    assert.match(raw[0]!, /^\{"log":"\\u003ca \\u0026 b\\u003e\\n","stream":"stdout","attrs":\{"a":"b","com.example":"x\\u003cy"\},"time":"[^"]+"\}$/);
    const [a, b] = [JSON.parse(raw[1]!) as LogLine, JSON.parse(raw[2]!) as LogLine];
    assert.equal(a.log, 'y'.repeat(16384), 'a piece has no newline');
    assert.equal(b.log, 'y'.repeat(17000 - 16384) + '\n');
    assert.equal(a.time, b.time, 'pieces of one line share its time');
  });
});

describe('berth-monitor log, read back', () => {
  test('a follower gets every line once while the monitor rotates under it', async (t) => {
    const s = await bundle(t, ['seq', '1', '30000'], { log: { driver: 'json-file', maxSize: 20_000, maxFile: 200 }, waitStart: true });
    const r = launch(s);
    await within(r.created, 'created');
    let exited = false;
    void r.exited.then(() => (exited = true));
    const got: number[] = [];
    const reader = (async () => {
      const opts = { stdout: true, stderr: true, since: 0n, until: 0n, tail: -1, follow: true, running: () => !exited };
      for await (const e of readLogs(s.opts.logPath!, opts)) got.push(Number(e.data.toString()));
    })();
    await within(startAndWait(r.conn), 'start');
    await within(r.exited, 'exit');
    await within(reader, 'the follower to finish');
    const rotated = (await fsp.readdir(s.dir)).filter((n) => /^container\.log\.\d+$/.test(n)).length;
    assert.ok(rotated > 10, `${rotated} rotations happened while following`);
    assert.equal(got.length, 30000);
    assert.ok(got.every((n, i) => n === i + 1), 'in order, none lost, none repeated');
  });

  test('stays under 2 MiB resident while it writes, rotates and compresses', async (t) => {
    if (process.env.BERTH_MONITOR_ASAN) {
      // The sanitizer build's footprint says nothing; measure the real one when it is built.
      if (!existsSync(PLAIN_MONITOR)) return t.skip('plain build/berth-monitor not built');
      process.env.BERTH_MONITOR = PLAIN_MONITOR;
      t.after(() => void (process.env.BERTH_MONITOR = process.env.BERTH_MONITOR_ASAN));
    }
    const s = await bundle(t, ['sh', '-c', 'seq 1 300000; head -c 40000 /dev/zero | tr "\\0" y; echo; echo done; read x'], {
      stdin: true,
      log: { driver: 'json-file', maxSize: 200_000, maxFile: 3, compress: true, attrs: '{"a":"b"}' },
    });
    const r = launch(s);
    await within(r.started, 'start');
    await until(() => r.stdout.endsWith('done\n'), 'the output to be written');
    const status = await fsp.readFile(`/proc/${r.conn.monitorPid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]);
    t.diagnostic(`berth-monitor after 2.2 MB of log with rotation and compression: VmRSS ${kib('VmRSS')} KiB, VmHWM ${kib('VmHWM')} KiB`);
    assert.ok(kib('VmHWM') > 0 && kib('VmHWM') < 2048, `peak resident ${kib('VmHWM')} KiB`);
    r.conn.writeStdin('x\n');
    assert.equal(await within(r.exited, 'exit'), 0);
  });
});

describe('berth-monitor output subscription', () => {
  test("a client that asks for no output ('q') gets none until it asks again ('v'); the log gets all", async (t) => {
    const s = await bundle(t, ['sh', '-c', 'echo one; read x; echo two; read y; echo three'], { stdin: true, waitStart: true });
    const r = launch(s);
    await within(r.created, 'created');
    r.conn.output(false);
    await within(startAndWait(r.conn), 'start');
    const logged = async (text: string) => (await fsp.readFile(s.opts.logPath!, 'utf8')).includes(text);
    await until(() => logged('"one\\n"'), 'one in the log');
    r.conn.writeStdin('x\n');
    await until(() => logged('"two\\n"'), 'two in the log');
    r.conn.output(true);
    r.conn.writeStdin('y\n');
    assert.equal(await within(r.exited, 'exit'), 0, 'control frames still come');
    assert.equal(r.stdout, 'three\n');
    assert.deepEqual((await readLog(s.opts.logPath!)).map((l) => l.log), ['one\n', 'two\n', 'three\n']);
  });
});
