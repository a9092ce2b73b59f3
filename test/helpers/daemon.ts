// Starts a private berthd for a test file: its own data-root, exec-root, socket and
// cgroup parent, the busybox image loaded, and everything removed at the end.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fsp, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const BUSYBOX_TAR = join(REPO, 'build', 'images', 'busybox.tar');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  cgroupParent: string;
  /** Its default bridge's Linux bridge (--bridge). */
  bridge: string;
  proc: ChildProcess;
  /** Runs the real docker CLI against this daemon. */
  docker(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<RunResult>;
  /** Runs the berth CLI against this daemon. */
  berth(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<RunResult>;
  /** A raw Engine API request. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; json: () => any }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export function run(cmd: string, args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Whether a daemon answers /_ping on this unix socket. */
export function ping(socket: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const req = request({ socketPath: socket, path: '/_ping' }, (res) => {
      res.resume();
      resolvePromise(res.statusCode === 200);
    });
    req.on('error', () => resolvePromise(false));
    req.end();
  });
}

async function waitForSocket(path: string, proc: ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ping(path))) {
    if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}`);
    if (Date.now() > deadline) throw new Error('berthd did not come up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startDaemon(opts: { loadBusybox?: boolean; extraArgs?: string[]; daemonJson?: unknown } = {}): Promise<TestDaemon> {
  const tag = randomBytes(4).toString('hex');
  const base = await fsp.mkdtemp(join(tmpdir(), `berth-test-${tag}-`));
  const dataRoot = join(base, 'data');
  const execRoot = join(base, 'exec');
  const socket = join(base, 'berth.sock');
  const cgroupParent = `/berth-test-${tag}`;
  const host = `unix://${socket}`;
  // Its own default bridge too: test daemons never share one, nor berth0.
  const bridge = `bt${tag}`;
  const args = ['--data-root', dataRoot, '--exec-root', execRoot, '-H', host, '--cgroup-parent', cgroupParent, '--config-file', join(base, 'daemon.json'), '--bridge', bridge, ...(opts.extraArgs ?? [])];
  const logPath = join(base, 'berthd.log');
  if (opts.daemonJson !== undefined) await fsp.writeFile(join(base, 'daemon.json'), JSON.stringify(opts.daemonJson));
  let proc!: ChildProcess;
  const launch = async () => {
    const logFd = await fsp.open(logPath, 'a');
    proc = spawn(join(REPO, 'bin', 'berthd'), [...args, '--log-level', 'debug'], { stdio: ['ignore', logFd.fd, logFd.fd] });
    await logFd.close();
    await waitForSocket(socket, proc);
  };
  await launch();
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: join(base, 'docker-config') };
  const d: TestDaemon = {
    socket,
    host,
    dataRoot,
    execRoot,
    cgroupParent,
    bridge,
    get proc() {
      return proc;
    },
    docker: (a, o = {}) => run('docker', a, { ...o, env }),
    berth: (a, o = {}) => run(join(REPO, 'bin', 'berth'), a, { ...o, env }),
    api: (method, path, body) =>
      new Promise((resolvePromise, reject) => {
        const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
        const req = request({ socketPath: socket, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
          });
        });
        req.on('error', reject);
        req.end(data);
      }),
    stop: (signal = 'SIGTERM') =>
      new Promise((resolvePromise) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolvePromise(proc.exitCode);
        proc.once('exit', (code) => resolvePromise(code));
        proc.kill(signal);
      }),
    restart: launch,
    cleanup: async () => {
      await d.stop('SIGTERM');
      await cleanupRoots(base, execRoot, cgroupParent);
      if (process.env.BERTH_KEEP_TEST_LOGS) process.stderr.write(`berthd log kept in ${logPath}\n`);
    },
  };
  if (opts.loadBusybox !== false) {
    if (!existsSync(BUSYBOX_TAR)) throw new Error(`missing ${BUSYBOX_TAR}: run npm run setup`);
    const r = await d.docker(['load', '-i', BUSYBOX_TAR]);
    if (r.code !== 0) throw new Error(`loading busybox failed: ${r.stderr}`);
  }
  return d;
}

/** Unmounts whatever a test daemon left mounted under its roots, then removes them. */
export async function cleanupRoots(base: string, execRoot: string, cgroupParent: string): Promise<void> {
  await removeNetworking(base);
  const mounts = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(base));
  for (const m of mounts.sort().reverse()) await run('umount', ['-l', m]);
  const runcRoots = join(execRoot, 'runtime');
  for (const rt of await fsp.readdir(runcRoots).catch(() => [] as string[])) {
    for (const id of await fsp.readdir(join(runcRoots, rt)).catch(() => [] as string[])) {
      await run('runc', ['--root', join(runcRoots, rt), 'delete', '--force', id]);
    }
  }
  await removeCgroups(cgroupParent);
  if (!process.env.BERTH_KEEP_TEST_LOGS) await fsp.rm(base, { recursive: true, force: true });
}

/**
 * What a daemon that died before its shutdown left of its networking (a stopped berthd
 * removes its own): the namespaces of its containers, their veths, its bridges and their
 * nft tables, found from the records under its roots.
 */
async function removeNetworking(base: string): Promise<void> {
  const dataRoots = [join(base, 'data'), ...(await fsp.readdir(join(base, 'data')).catch(() => [] as string[])).filter((d) => /^\d+\.\d+$/.test(d)).map((d) => join(base, 'data', d))];
  for (const root of dataRoots) {
    for (const id of await fsp.readdir(join(root, 'containers')).catch(() => [] as string[])) {
      await run('ip', ['netns', 'delete', `berth-${id.slice(0, 16)}`]);
    }
    const links = JSON.parse((await run('ip', ['-j', '-d', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string; ifalias?: string }>;
    const ids = new Set(await fsp.readdir(join(root, 'containers')).catch(() => [] as string[]));
    for (const l of links) {
      const m = /^berth-veth:([0-9a-f]{64}):/.exec(l.ifalias ?? '');
      if (m && ids.has(m[1]!)) await run('ip', ['link', 'del', l.ifname]);
    }
    for (const f of await fsp.readdir(join(root, 'network')).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const n = JSON.parse(await fsp.readFile(join(root, 'network', f), 'utf8').catch(() => '{}')) as { Id?: string; Driver?: string; Options?: Record<string, string> };
      if (n.Driver !== 'bridge' || !n.Id) continue;
      const bridge = n.Options?.['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`;
      const mine = links.find((l) => l.ifname === bridge && l.ifalias?.startsWith('berth-bridge:'));
      if (!mine) continue;
      await run('nft', ['delete', 'table', 'ip', `berth-${bridge}`]);
      await run('nft', ['delete', 'table', 'ip', `berth-ports-${bridge}`]);
      await run('ip', ['link', 'del', bridge]);
    }
  }
}

async function removeCgroups(parent: string): Promise<void> {
  const roots: string[] = [];
  const fsType = await run('stat', ['-fc', '%T', '/sys/fs/cgroup']);
  if (fsType.stdout.trim() === 'cgroup2fs') roots.push('/sys/fs/cgroup');
  else for (const c of await fsp.readdir('/sys/fs/cgroup')) roots.push(join('/sys/fs/cgroup', c));
  for (const root of roots) {
    const dir = join(root, parent);
    if (!existsSync(dir)) continue;
    await removeCgroupTree(dir);
  }
}

/** cgroup directories go depth first (a per-container --cgroup-parent nests them). */
async function removeCgroupTree(dir: string): Promise<void> {
  for (const e of await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  }
  await fsp.rmdir(dir).catch(() => undefined);
}

/** For a test file's one daemon: starts it before the tests, cleans it up after them, and
 * gives `ok` (the docker CLI's stdout; a non-zero exit fails the test). */
export function sharedDaemon(before: (fn: () => Promise<void>) => void, after: (fn: () => Promise<void>) => void): { daemon: () => TestDaemon; ok: (args: string[]) => Promise<string> } {
  let d: TestDaemon | undefined;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
  });
  const daemon = () => d!;
  return { daemon, ok: (args: string[]) => dockerOk(daemon(), args) };
}

/** The docker CLI against d; its stdout, or an error with its exit code and stderr. */
export async function dockerOk(d: TestDaemon, args: string[]): Promise<string> {
  const r = await d.docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
