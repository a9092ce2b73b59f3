// berth-monitor reports an OOM kill: with the real runc and a memory-limited cgroup, a
// process that allocates past the limit is killed by the kernel, and the monitor records
// it in the exit file ("oomKilled": true) and in an 'O' frame before the exit frames.
// A run within its limit reports nothing of the kind.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { monitorBinary, readExitFile, spawnMonitor, type MonitorConnection, type MonitorOptions } from '../../src/monitor/monitor.ts';

const run = promisify(execFile);
const RUNC = '/usr/sbin/runc';
const V2 = statfsSync('/sys/fs/cgroup').type === 0x63677270;

// CI runs the monitor under ASan/UBSan (as test/unit/monitor.test.ts does).
const sanitizerDir = process.env.BERTH_MONITOR_ASAN ? await fsp.mkdtemp(join(tmpdir(), 'berth-san-')) : undefined;
if (process.env.BERTH_MONITOR_ASAN) {
  process.env.BERTH_MONITOR = process.env.BERTH_MONITOR_ASAN;
  process.env.ASAN_OPTIONS = `log_path=${sanitizerDir}/asan:detect_leaks=1`;
  process.env.UBSAN_OPTIONS = `log_path=${sanitizerDir}/ubsan:print_stacktrace=1:halt_on_error=1`;
}
after(async () => {
  if (!sanitizerDir) return;
  const texts = await Promise.all(readdirSync(sanitizerDir).map((f) => fsp.readFile(join(sanitizerDir, f), 'utf8')));
  await fsp.rm(sanitizerDir, { recursive: true, force: true });
  assert.deepEqual(texts, [], 'sanitizer reports from berth-monitor');
});

let serial = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function removeCgroup(path: string): Promise<void> {
  const roots = V2 ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  for (const root of roots) {
    const dir = join(root, path);
    if (existsSync(dir)) await fsp.rmdir(dir).catch(() => undefined);
  }
}

/** A busybox bundle running `script` in a cgroup limited to `memory` bytes, cleaned up on t. */
async function bundle(t: TestContext, script: string, memory: number): Promise<{ opts: MonitorOptions; monitors: number[] }> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-oom-'));
  const id = `berth-oom-test-${process.pid}-${++serial}`;
  const cgroupsPath = `/${id}`;
  const opts: MonitorOptions = {
    id,
    bundle: join(dir, 'bundle'),
    runtime: RUNC,
    runtimeRoot: join(dir, 'runc'),
    runtimeLog: join(dir, 'runc.log'),
    pidFile: join(dir, 'pid'),
    socketPath: join(dir, 'attach.sock'),
    exitFile: join(dir, 'exit.json'),
  };
  const monitors: number[] = [];
  t.after(async () => {
    await run(RUNC, ['--root', opts.runtimeRoot, 'delete', '--force', id]).catch(() => {});
    for (const pid of monitors) {
      for (let i = 0; alive(pid) && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await removeCgroup(cgroupsPath);
    await fsp.rm(dir, { recursive: true, force: true });
  });
  const rootfs = join(opts.bundle!, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'tmp']) await fsp.mkdir(join(rootfs, d), { recursive: true });
  await fsp.copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'head', 'tail']) await fsp.symlink('busybox', join(rootfs, 'bin', applet));
  const spec = {
    ociVersion: '1.0.2-dev',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['/bin/sh', '-c', script],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755', 'size=65536k'] },
    ],
    linux: {
      cgroupsPath,
      // No swap on top of the limit, so that the allocation meets the OOM killer anywhere.
      resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: memory, ...(existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || V2 ? { swap: memory } : {}) } },
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
  await fsp.writeFile(join(opts.bundle!, 'config.json'), JSON.stringify(spec));
  return { opts, monitors };
}

async function runToExit({ opts, monitors }: { opts: MonitorOptions; monitors: number[] }): Promise<{ conn: MonitorConnection; code: number }> {
  const conn = spawnMonitor(opts).ref();
  if (conn.monitorPid) monitors.push(conn.monitorPid);
  const code = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gave up waiting for the exit')), 30_000);
    conn.once('exited', (c: number) => {
      clearTimeout(timer);
      resolve(c);
    });
    conn.once('failed', (f) => {
      clearTimeout(timer);
      reject(new Error(`monitor failed: ${JSON.stringify(f)}`));
    });
  });
  return { conn, code };
}

test('an allocation past the memory limit: exit 137, oomKilled in the exit frames and the exit file', async (t) => {
  assert.ok(existsSync(monitorBinary()), 'build/berth-monitor is built');
  const b = await bundle(t, 'head -c 64m /dev/zero | tail > /dev/null', 16 * 1024 * 1024);
  const { conn, code } = await runToExit(b);
  const opts = b.opts;
  assert.equal(code, 137);
  assert.equal(conn.oomKilled, true);
  const rec = await readExitFile(opts.exitFile);
  assert.equal(rec?.exitCode, 137);
  assert.equal(rec?.oomKilled, true);
  conn.close();
});

test('a run within its limit: no OOM reported', async (t) => {
  const b = await bundle(t, 'head -c 1m /dev/zero | tail > /dev/null', 16 * 1024 * 1024);
  const { conn, code } = await runToExit(b);
  const opts = b.opts;
  assert.equal(code, 0);
  assert.equal(conn.oomKilled, false);
  const rec = await readExitFile(opts.exitFile);
  assert.equal(rec?.exitCode, 0);
  assert.equal(rec?.oomKilled, undefined);
  conn.close();
});
