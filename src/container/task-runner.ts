// Runs containers: writable snapshot + per-container files at create; at start the
// overlay mount, the OCI bundle (config.json from the spec generator) and a monitor that
// runs the OCI runtime; at exit the runtime's state and the mount are released.
//
// Layout: <data-root>/containers/<id>/{hostname,hosts,resolv.conf,<id>-json.log}
//         <exec-root>/containers/<id>/{config.json,rootfs/,pid,exit.json,runtime.log}
//         <exec-root>/s/<id[:16]>  the monitor's socket
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './record.ts';
import type { ExitStatus, OutputSink, Task, TaskRunner } from './task.ts';
import type { Snapshotter } from '../snapshot/snapshotter.ts';
import { mountAll, unmount } from '../snapshot/mount.ts';
import type { RuntimeDriver } from '../runtime/runtime.ts';
import { generateSpec, type HostFacts } from '../runtime/spec.ts';
import { connectMonitor, readExitFile, runtimeError, spawnMonitor, startAndWait, type MonitorConnection } from '../monitor/monitor.ts';
import { badParameter, EngineError } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { rfc3339Nano } from '../util/time.ts';

export interface TaskRunnerOptions {
  execRoot: string;
  snapshotter: Snapshotter;
  runtimes: Map<string, RuntimeDriver>;
  host: HostFacts;
  /** cgroup parent of every container, e.g. "/berth" */
  cgroupParent: string;
}

const HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::\tip6-localnet
ff00::\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

export class ContainerTaskRunner implements TaskRunner {
  private readonly o: TaskRunnerOptions;

  constructor(o: TaskRunnerOptions) {
    this.o = o;
  }

  private bundle(id: string): string {
    return join(this.o.execRoot, 'containers', id);
  }

  private files(id: string) {
    const b = this.bundle(id);
    return {
      bundle: b,
      rootfs: join(b, 'rootfs'),
      // A unix socket path must fit in 108 bytes, so sockets live apart under a short name.
      socket: join(this.o.execRoot, 's', id.slice(0, 16)),
      pid: join(b, 'pid'),
      exit: join(b, 'exit.json'),
      runtimeLog: join(b, 'runtime.log'),
    };
  }

  private driver(name: string): RuntimeDriver {
    const d = this.o.runtimes.get(name);
    if (!d) throw badParameter(`unknown or invalid runtime name: ${name}`);
    return d;
  }

  checkRuntime(name: string): void {
    this.driver(name);
  }

  async prepare(rec: ContainerRecord): Promise<void> {
    await this.o.snapshotter.prepare(rec.Id, rec.SnapshotParent);
    await fsp.writeFile(rec.HostnamePath, `${rec.Config.Hostname}\n`, { mode: 0o644 });
    await fsp.writeFile(rec.HostsPath, HOSTS, { mode: 0o644 });
    await fsp.writeFile(rec.ResolvConfPath, await hostResolvConf(), { mode: 0o644 });
  }

  async start(rec: ContainerRecord, out: OutputSink): Promise<Task> {
    const driver = this.driver(rec.Runtime);
    const f = this.files(rec.Id);
    await fsp.mkdir(f.rootfs, { recursive: true, mode: 0o700 });
    await fsp.mkdir(join(this.o.execRoot, 's'), { recursive: true, mode: 0o700 });
    await Promise.all([f.pid, f.exit, f.socket, f.runtimeLog].map((p) => fsp.rm(p, { force: true })));
    const mounts = await this.o.snapshotter.mounts(rec.Id);
    await mountAll(mounts, f.rootfs);
    try {
      const spec = await generateSpec(
        {
          id: rec.Id,
          config: rec.Config,
          hostConfig: rec.HostConfig,
          rootfs: f.rootfs,
          cgroupsPath: `${this.o.cgroupParent}/${rec.Id}`,
          etcFiles: { hostname: rec.HostnamePath, hosts: rec.HostsPath, resolvConf: rec.ResolvConfPath },
        },
        this.o.host,
      );
      await fsp.writeFile(join(f.bundle, 'config.json'), JSON.stringify(spec));
      const conn = spawnMonitor({
        id: rec.Id,
        bundle: f.bundle,
        runtime: driver.path,
        runtimeRoot: driver.root,
        runtimeLog: f.runtimeLog,
        pidFile: f.pid,
        socketPath: f.socket,
        exitFile: f.exit,
        logPath: rec.LogPath || undefined,
        stdin: !!rec.Config.OpenStdin,
        tty: !!rec.Config.Tty,
      });
      conn.on('stdout', (d: Buffer) => out.stdout(d));
      conn.on('stderr', (d: Buffer) => out.stderr(d));
      try {
        const { pid } = await startAndWait(conn);
        return this.task(rec.Id, driver, conn, pid);
      } catch (err) {
        conn.close();
        const reason = err instanceof Error ? err.message : await runtimeError(f.runtimeLog);
        throw new EngineError(400, `failed to create task for container: failed to create shim task: OCI runtime create failed: ${reason}: unknown`);
      }
    } catch (err) {
      await this.cleanupRun(rec.Id, driver).catch(() => undefined);
      throw err;
    }
  }

  private task(id: string, driver: RuntimeDriver, conn: MonitorConnection, pid: number): Task {
    const f = this.files(id);
    const exit = new Promise<ExitStatus>((resolve) => {
      let done = false;
      const finish = async (code?: number) => {
        if (done) return;
        done = true;
        const rec = await readExitFile(f.exit).catch(() => undefined);
        if (rec) resolve({ exitCode: rec.exitCode, finishedAt: rec.finishedAt });
        else resolve({ exitCode: code ?? 255, finishedAt: rfc3339Nano() });
      };
      conn.on('exited', (code: number) => void finish(code));
      // The monitor went away without reporting an exit (it was killed): the container
      // lost its keeper; report what the exit file says, or 255 as Docker does.
      conn.on('close', () => setTimeout(() => void finish(), 50));
    });
    return {
      pid,
      exit,
      kill: (signal: number) => driver.kill(id, signal),
      writeStdin: (d: Buffer) => conn.writeStdin(d),
      closeStdin: () => conn.closeStdin(),
      resize: (rows: number, cols: number) => conn.resize(rows, cols),
    };
  }

  async cleanup(rec: ContainerRecord): Promise<void> {
    await this.cleanupRun(rec.Id, this.o.runtimes.get(rec.Runtime));
  }

  private async cleanupRun(id: string, driver: RuntimeDriver | undefined): Promise<void> {
    await driver?.delete(id, true).catch((err) => log.warn('runtime delete failed', { id, error: err }));
    await unmount(this.files(id).rootfs);
  }

  async discard(id: string): Promise<void> {
    for (const d of this.o.runtimes.values()) await d.delete(id, true).catch(() => undefined);
    await unmount(this.files(id).rootfs);
    await fsp.rm(this.bundle(id), { recursive: true, force: true });
    await fsp.rm(this.files(id).socket, { force: true });
    await this.o.snapshotter.removeActive(id);
  }

  async reattach(rec: ContainerRecord, out?: OutputSink): Promise<Task | undefined> {
    const f = this.files(rec.Id);
    let conn: MonitorConnection;
    try {
      conn = await connectMonitor(f.socket);
    } catch {
      return undefined;
    }
    if (out) {
      conn.on('stdout', (d: Buffer) => out.stdout(d));
      conn.on('stderr', (d: Buffer) => out.stderr(d));
    }
    const pid = rec.State.Pid || Number((await fsp.readFile(f.pid, 'utf8').catch(() => '0')).trim());
    return this.task(rec.Id, this.driver(rec.Runtime), conn, pid);
  }

  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    const e = await readExitFile(this.files(id).exit).catch(() => undefined);
    return e ? { exitCode: e.exitCode, finishedAt: e.finishedAt } : undefined;
  }

  async cleanupOrphans(known: Set<string>): Promise<void> {
    const dir = join(this.o.execRoot, 'containers');
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const id of await fsp.readdir(dir)) {
      if (known.has(id)) continue;
      log.info('removing runtime leftovers of an unknown container', { id });
      await this.discard(id).catch((err) => log.warn('orphan cleanup failed', { id, error: err }));
    }
  }

  usageRw(rec: ContainerRecord): Promise<number> {
    return duBytes(this.o.snapshotter.upperDir(rec.Id));
  }
}

/** The host's resolvers minus loopback ones (unreachable from a container's namespace). */
async function hostResolvConf(): Promise<string> {
  const text = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l));
  return lines.join('\n').trim() + '\n';
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await fsp.lstat(join(e.parentPath, e.name)).catch(() => undefined);
    if (st) total += st.size;
  }
  return total;
}
