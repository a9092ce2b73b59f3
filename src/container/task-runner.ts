// Runs containers: writable snapshot + per-container files at create; at start the
// overlay mount, the OCI bundle (config.json from the spec generator) and a monitor that
// runs the OCI runtime; at exit the runtime's state and the mount are released.
//
// The runtime's `delete` after an exit (a few ms: one more runtime process) is the
// monitor's last act, so berthd records the exit, wakes waiters and does --rm removals
// without waiting for it. The next start of the same container waits for that monitor to
// be gone. When no monitor saw the exit (it was killed), berthd deletes in the background;
// state left behind by a daemon or monitor that went away first is deleted at the next
// start or by cleanupOrphans().
//
// Layout: <data-root>/containers/<id>/{hostname,hosts,resolv.conf,<id>-json.log[.N[.gz]],
//                                    local-logs/container.log[.N[.gz]]}
//         <exec-root>/containers/<id>/{config.json,rootfs/,pid,exit.json,runtime.log}
//         <exec-root>/s/<id[:16]>  the monitor's socket
//         <exec-root>/trash/         removed bundles being deleted; emptied by cleanupOrphans()
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ContainerRecord } from './record.ts';
import type { ExitStatus, OutputSink, Task, TaskRunner } from './task.ts';
import type { NamespaceJoins } from './namespace-join.ts';
import type { Snapshotter } from '../snapshot/snapshotter.ts';
import { mountAll, unmount } from '../snapshot/mount.ts';
import type { RuntimeDriver } from '../runtime/runtime.ts';
import { generateSpec, type HostFacts } from '../runtime/spec.ts';
import type { OciMount } from '../runtime/types.ts';
import { checkUsernsConflicts, openBundlePath, ownContainerFiles, usernsFor, type IdentityMapping } from '../runtime/userns.ts';
import { findInitBinary } from '../runtime/init-binary.ts';
import { validateSecurityConfig } from '../runtime/validate.ts';
import { connectMonitor, readExitFile, runtimeError, spawnMonitor, startAndWait, type MonitorConnection, type MonitorLogOptions } from '../monitor/monitor.ts';
import { encodeAttrs, logAttrs, logFileOf, logWriterSettings } from './log-config.ts';
import { badParameter, EngineError } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { hasCode } from '../util/native.ts';
import { CgroupWarmup } from './cgroup-warmup.ts';
import { rfc3339Nano } from '../util/time.ts';
import { containerCgroupPath } from '../runtime/resources.ts';
import { resolvConf } from '../network/etc-files.ts';
import type { TaskMounts } from './mount-setup.ts';

export interface TaskRunnerOptions {
  execRoot: string;
  snapshotter: Snapshotter;
  runtimes: Map<string, RuntimeDriver>;
  host: HostFacts;
  /** cgroup parent of every container, e.g. "/berth" */
  cgroupParent: string;
  /** --userns-remap's mapping: containers get a user namespace unless --userns host. */
  idMapping?: IdentityMapping;
  /** Daemon --init-path (dockerd's default: docker-init on PATH). */
  initPath?: string;
  /** Daemon --init / daemon.json "init": the default when HostConfig.Init is unset. */
  init?: boolean;
  /** Bridge and user networks: made before the runtime starts a container, undone at its exit. */
  networking?: TaskNetworking;
  /** Volumes, binds and --mount tmpfs (src/container/mount-setup.ts). */
  mounts?: TaskMounts;
}

/** What the runner needs of networking (src/network/container-networking.ts). */
export interface TaskNetworking {
  /** Whether setup() has anything to do for this container. */
  wantsSandbox(rec: ContainerRecord): boolean;
  /** The path of the namespace setup() makes (known before it is made). */
  pathFor(rec: ContainerRecord): string;
  /**
   * The network namespace the container joins (undefined: none of berth's), ready to use;
   * with `pid`, the namespace of that created process is made ready instead.
   */
  setup(rec: ContainerRecord, pid?: number): Promise<string | undefined>;
  teardown(rec: ContainerRecord): Promise<void>;
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
  private readonly warmup = new CgroupWarmup();
  /** Runtime deletes under way in berthd, by container id. */
  private readonly deleting = new Map<string, Promise<void>>();
  /** Monitors that reported an exit and are deleting the container: resolves when gone. */
  private readonly monitorDeleting = new Map<string, Promise<void>>();
  /** Bundle removals under way in the trash. */
  private readonly trashing = new Set<Promise<void>>();
  private socketDir: Promise<unknown> | undefined;
  private trashDir: Promise<unknown> | undefined;

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
      // IpcMode shareable: the tmpfs behind /dev/shm, on the host so joiners can bind it.
      shm: join(b, 'shm'),
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
    // Refused here, at create, rather than at every start.
    validateSecurityConfig(rec.HostConfig, this.o.host);
    checkUsernsConflicts(rec.HostConfig, this.o.idMapping);
    this.warmup.kick(); // `docker run` starts right after the create
    const hostNet = rec.HostConfig.NetworkMode === 'host';
    // All settle before a failure is thrown: the caller's cleanup must not race a write.
    const results = await Promise.allSettled([
      this.o.snapshotter.prepare(rec.Id, rec.SnapshotParent),
      fsp.writeFile(rec.HostnamePath, `${rec.Config.Hostname}\n`, { mode: 0o644 }),
      // --network host: copies of the host's own files (its resolvers are reachable there).
      hostNet ? fsp.copyFile('/etc/hosts', rec.HostsPath) : fsp.writeFile(rec.HostsPath, HOSTS, { mode: 0o644 }),
      fsp
        .readFile('/etc/resolv.conf', 'utf8')
        .catch(() => '')
        .then((host) => {
          const hc = rec.HostConfig;
          // The network rewrites it at each start; until then (and for --network none) dockerd's.
          const text = hostNet ? host : resolvConf({ host, dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [], embedded: false });
          return fsp.writeFile(rec.ResolvConfPath, text, { mode: 0o644 });
        }),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await ownContainerFiles(this.o.idMapping, dirname(rec.HostnamePath), [rec.HostnamePath, rec.HostsPath, rec.ResolvConfPath]);
  }

  async start(rec: ContainerRecord, out: OutputSink, joins?: NamespaceJoins): Promise<Task> {
    const driver = this.driver(rec.Runtime);
    // The logging driver starts with the container, as dockerd's: bad option values fail here.
    const logging = loggingOf(rec);
    const logFile = logging ? logFileOf(rec) : '';
    if (logFile) await fsp.mkdir(dirname(logFile), { recursive: true, mode: 0o700 });
    this.warmup.kick();
    const f = this.files(rec.Id);
    this.socketDir ??= madeOnce(join(this.o.execRoot, 's'), () => (this.socketDir = undefined));
    const [mounts] = await Promise.all([
      this.o.snapshotter.mounts(rec.Id),
      this.releaseRuntimeState(rec.Id, driver),
      fsp.mkdir(f.rootfs, { recursive: true, mode: 0o700 }),
      this.socketDir,
      ...[f.pid, f.exit, f.socket, f.runtimeLog].map((p) => fsp.rm(p, { force: true })),
    ]);
    await openBundlePath(this.o.idMapping, this.o.execRoot, f.bundle);
    const userns = usernsFor(rec.HostConfig, this.o.idMapping);
    // Under a user namespace the runtime makes the network namespace (so that the container
    // may mount /sys), and the network is plugged in between the runtime's create and start.
    const sandboxed = !!this.o.networking?.wantsSandbox(rec);
    const lateNetwork = !!userns && sandboxed;
    // Otherwise the network is made while the rootfs is mounted and the spec written (the
    // spec needs only the namespace's path): the runtime is not started before it is ready.
    const netns = sandboxed && !lateNetwork ? this.o.networking!.setup(rec) : undefined;
    netns?.catch(() => undefined); // awaited below, or settled before any cleanup
    try {
      await mountAll(mounts, f.rootfs);
      const netnsPath = netns ? this.o.networking!.pathFor(rec) : undefined;
      const [shm, userMounts] = await Promise.all([this.sharedShm(rec, joins), this.o.mounts?.setup(rec, f.rootfs, driver.path)]);
      const spec = await generateSpec(
        {
          id: rec.Id,
          // --network container:X: X's hostname and /etc files (dockerd's initializeNetworking).
          config: joins?.network ? { ...rec.Config, Hostname: joins.network.hostname, Domainname: joins.network.domainname } : rec.Config,
          namespacePaths: joins?.namespacePaths,
          netnsPath,
          // HostConfig.Init unset means the daemon's default, decided at each start as dockerd does.
          hostConfig: { ...rec.HostConfig, Init: rec.HostConfig.Init ?? this.o.init === true },
          rootfs: f.rootfs,
          initPath: findInitBinary(this.o.initPath),
          cgroupsPath: containerCgroupPath(this.o.cgroupParent, rec.HostConfig, rec.Id),
          userns,
          extraMounts: [...(shm ? [shm] : []), ...(userMounts ?? [])],
          etcFiles: joins?.network
            ? { hostname: joins.network.hostnamePath, hosts: joins.network.hostsPath, resolvConf: joins.network.resolvConfPath }
            : { hostname: rec.HostnamePath, hosts: rec.HostsPath, resolvConf: rec.ResolvConfPath },
        },
        this.o.host,
      );
      await fsp.writeFile(join(f.bundle, 'config.json'), JSON.stringify(spec));
      await netns;
      const conn = spawnMonitor({
        id: rec.Id,
        bundle: f.bundle,
        runtime: driver.path,
        runtimeRoot: driver.root,
        runtimeLog: f.runtimeLog,
        pidFile: f.pid,
        socketPath: f.socket,
        exitFile: f.exit,
        logPath: logFile || undefined,
        log: logging,
        stdin: !!rec.Config.OpenStdin,
        tty: !!rec.Config.Tty,
        // startAndWait() asks for the start at once: this only picks create + start.
        waitStart: lateNetwork || !runsDetached(driver),
      });
      pipeOutput(conn, out);
      try {
        if (lateNetwork) await this.o.networking!.setup(rec, await createdPid(conn));
        const { pid } = await startAndWait(conn);
        return this.task(rec.Id, driver, conn, pid);
      } catch (err) {
        conn.close();
        if (err instanceof EngineError) throw err; // the network's own (a port in use, …)
        const reason = err instanceof Error ? err.message : await runtimeError(f.runtimeLog);
        throw new EngineError(400, `failed to create task for container: failed to create shim task: OCI runtime create failed: ${reason}: unknown`);
      }
    } catch (err) {
      await netns?.catch(() => undefined); // a cleanup must not race the setup
      await this.cleanupRun(rec, driver).catch(() => undefined);
      throw err;
    }
  }

  /**
   * dockerd's IPC mounts: a shareable container's /dev/shm is a tmpfs mounted on the host
   * (the bundle's shm/), bound into it and into every container that joins its IPC
   * namespace, so POSIX shared memory is shared along with the SysV objects.
   */
  private async sharedShm(rec: ContainerRecord, joins: NamespaceJoins | undefined): Promise<OciMount | undefined> {
    const hc = rec.HostConfig;
    if (hc.Tmpfs && '/dev/shm' in hc.Tmpfs) return undefined; // the user's own /dev/shm wins
    const bind = (source: string): OciMount => ({ destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] });
    if (hc.IpcMode === 'shareable') {
      const dir = this.files(rec.Id).shm;
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      await unmount(dir);
      const size = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : 64 * 1024 * 1024;
      await mountAll([{ type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${size}`] }], dir);
      return bind(dir);
    }
    const from = joins?.shm;
    if (!from) return undefined;
    if ('host' in from) return bind('/dev/shm');
    const dir = this.files(from.container).shm;
    // A donor started before its shm/ existed keeps its /dev/shm to itself.
    return (await isMountPoint(dir)) ? bind(dir) : undefined;
  }

  private task(id: string, driver: RuntimeDriver, conn: MonitorConnection, pid: number): Task {
    const f = this.files(id);
    // The exit may have come in the same read as the start, before this runs.
    const exited = conn.exitCode !== undefined;
    // First: cleanup() after the exit must already know that the monitor deletes.
    if (exited) this.monitorWillDelete(id, conn);
    else conn.once('exited', () => this.monitorWillDelete(id, conn));
    const exit = new Promise<ExitStatus>((resolve) => {
      let done = false;
      const finish = async (code?: number) => {
        if (done) return;
        done = true;
        if (code !== undefined && conn.finishedAt) return resolve({ exitCode: code, finishedAt: conn.finishedAt, oomKilled: conn.oomKilled });
        const rec = await readExitFile(f.exit).catch(() => undefined);
        if (rec) resolve({ exitCode: rec.exitCode, finishedAt: rec.finishedAt, oomKilled: !!rec.oomKilled });
        else resolve({ exitCode: code ?? 255, finishedAt: rfc3339Nano() });
      };
      // The monitor went away without reporting an exit (it was killed): the container
      // lost its keeper; report what the exit file says, or 255 as Docker does.
      const lost = () => setTimeout(() => void finish(), 50);
      if (exited) void finish(conn.exitCode);
      else if (conn.closed) lost();
      conn.on('exited', (code: number) => void finish(code));
      conn.on('close', lost);
    });
    return {
      pid,
      exit,
      kill: (signal: number) => driver.kill(id, signal),
      writeStdin: (d: Buffer) => conn.writeStdin(d),
      stdinDrained: () => conn.stdinDrained(),
      closeStdin: () => conn.closeStdin(),
      resize: (rows: number, cols: number) => conn.resize(rows, cols),
    };
  }

  async cleanup(rec: ContainerRecord): Promise<void> {
    await this.cleanupRun(rec, this.o.runtimes.get(rec.Runtime));
  }

  private async cleanupRun(rec: ContainerRecord, driver: RuntimeDriver | undefined): Promise<void> {
    const id = rec.Id;
    // After a reported exit the monitor deletes; the delete needs neither the bundle nor the
    // rootfs. Without one (the monitor was killed, or the start failed) the container may
    // still run: the delete (--force) ends it before its rootfs goes.
    if (driver && !this.monitorDeleting.has(id) && (await this.hasRuntimeState(id, driver))) {
      this.deleteInBackground(id, driver);
      await this.deleting.get(id);
    }
    // The namespace goes after the runtime's delete: no process of the container is left in it.
    const unmounted = Promise.all([unmount(this.files(id).rootfs), unmount(this.files(id).shm)]);
    await Promise.all([this.o.networking?.teardown(rec), unmounted, this.o.mounts?.release(rec)]);
  }

  private monitorWillDelete(id: string, conn: MonitorConnection): void {
    const gone = conn.closed ? Promise.resolve() : new Promise<void>((resolve) => conn.once('close', () => resolve()));
    const tracked: Promise<void> = gone.then(() => {
      if (this.monitorDeleting.get(id) === tracked) this.monitorDeleting.delete(id);
    });
    this.monitorDeleting.set(id, tracked);
  }

  /** Runs the runtime's delete without waiting for it; deletes of one id never overlap. */
  private deleteInBackground(id: string, driver: RuntimeDriver): void {
    const before = this.deleting.get(id) ?? Promise.resolve();
    const done: Promise<void> = before
      .then(() => driver.delete(id, true))
      .catch((err) => log.warn('runtime delete failed', { id, error: err }))
      .finally(() => {
        if (this.deleting.get(id) === done) this.deleting.delete(id);
      });
    this.deleting.set(id, done);
  }

  /** Before a start: no delete of an earlier run may still be going, nor its state be left. */
  private async releaseRuntimeState(id: string, driver: RuntimeDriver): Promise<void> {
    const monitor = this.monitorDeleting.get(id);
    // A monitor lingers after the exit only while a client is slow to take its last frames.
    if (monitor) await Promise.race([monitor, delay(MONITOR_GONE_MS)]);
    await this.deleting.get(id);
    if (await this.hasRuntimeState(id, driver)) {
      await driver.delete(id, true).catch((err) => log.warn('runtime delete failed', { id, error: err }));
    }
  }

  /** runc and its kin keep a container's state in <root>/<id>. */
  private async hasRuntimeState(id: string, driver: RuntimeDriver): Promise<boolean> {
    try {
      await fsp.lstat(join(driver.root, id));
      return true;
    } catch (err) {
      return !hasCode(err, 'ENOENT', 'ENOTDIR');
    }
  }

  /** Resolves once berthd's own background work (runtime deletes, bundle removals) is done. */
  async settled(): Promise<void> {
    while (this.deleting.size || this.trashing.size) await Promise.all([...this.deleting.values(), ...this.trashing]);
  }

  async discard(id: string): Promise<void> {
    // Normally the exit's delete is done or under way; otherwise state is only left by a
    // run that never got that far, or by a daemon or monitor that went away.
    if (!this.deleting.has(id) && !this.monitorDeleting.has(id)) {
      for (const d of this.o.runtimes.values()) if (await this.hasRuntimeState(id, d)) this.deleteInBackground(id, d);
    }
    await unmount(this.files(id).rootfs);
    await unmount(this.files(id).shm);
    await Promise.all([
      this.removeBundle(id),
      fsp.rm(this.files(id).socket, { force: true }),
      this.o.snapshotter.removeActive(id),
    ]);
  }

  /** Renames the bundle into the trash (a crash leaves it there for cleanupOrphans()) and
   * deletes it without waiting. */
  private async removeBundle(id: string): Promise<void> {
    const trash = join(this.o.execRoot, 'trash');
    this.trashDir ??= madeOnce(trash, () => (this.trashDir = undefined));
    await this.trashDir;
    const doomed = join(trash, `${id}.${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(this.bundle(id), doomed);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      await fsp.rm(this.bundle(id), { recursive: true, force: true });
      return;
    }
    const done: Promise<void> = fsp
      .rm(doomed, { recursive: true, force: true })
      .catch((err) => log.warn('removing a bundle failed', { id, error: err }))
      .finally(() => this.trashing.delete(done));
    this.trashing.add(done);
  }

  async reattach(rec: ContainerRecord, out?: OutputSink): Promise<Task | undefined> {
    const f = this.files(rec.Id);
    let conn: MonitorConnection;
    try {
      conn = await connectMonitor(f.socket);
    } catch {
      return undefined;
    }
    if (out) pipeOutput(conn, out);
    else conn.output(false);
    this.o.mounts?.adopt(rec);
    const pid = rec.State.Pid || Number((await fsp.readFile(f.pid, 'utf8').catch(() => '0')).trim());
    return this.task(rec.Id, this.driver(rec.Runtime), conn, pid);
  }

  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    const e = await readExitFile(this.files(id).exit).catch(() => undefined);
    return e ? { exitCode: e.exitCode, finishedAt: e.finishedAt, oomKilled: !!e.oomKilled } : undefined;
  }

  async cleanupOrphans(known: Set<string>, active: Set<string> = new Set()): Promise<void> {
    await fsp.rm(join(this.o.execRoot, 'trash'), { recursive: true, force: true });
    this.trashDir = undefined;
    await this.o.mounts?.cleanupOrphans(active);
    const dir = join(this.o.execRoot, 'containers');
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const id of await fsp.readdir(dir)) {
      if (known.has(id)) continue;
      log.info('removing runtime leftovers of an unknown container', { id });
      await this.discard(id).catch((err) => log.warn('orphan cleanup failed', { id, error: err }));
    }
    // Runtime state whose delete the last daemon did not see through: of containers it
    // no longer knows, or of known ones that have stopped. Those recorded as running are
    // not asked about (one runtime process each would slow a live restore): their monitor
    // deletes the state at their exit, or the restore's exit path does if it is gone.
    for (const driver of this.o.runtimes.values()) {
      for (const id of await fsp.readdir(driver.root).catch(() => [] as string[])) {
        if (active.has(id)) continue;
        const stale = !known.has(id) || (await driver.state(id).catch(() => undefined))?.status === 'stopped';
        if (!stale) continue;
        log.info('deleting leftover runtime state', { id, runtime: driver.name });
        await driver.delete(id, true).catch((err) => log.warn('runtime delete failed', { id, error: err }));
      }
    }
    await this.settled();
  }

  usageRw(rec: ContainerRecord): Promise<number> {
    return duBytes(this.o.snapshotter.upperDir(rec.Id));
  }
}

/** The container's output to `out`, asked of the monitor only while someone wants it. */
function pipeOutput(conn: MonitorConnection, out: OutputSink): void {
  conn.on('stdout', (d: Buffer) => out.stdout(d));
  conn.on('stderr', (d: Buffer) => out.stderr(d));
  if (out.subscribe && !out.subscribe((wanted) => conn.output(wanted))) conn.output(false);
}

/**
 * How the monitor writes this container's log (undefined: it writes none). The options'
 * values are checked now, as Docker's driver checks them when it starts; a bad one fails
 * the start with Docker's message.
 */
function loggingOf(rec: ContainerRecord): MonitorLogOptions | undefined {
  const cfg = rec.HostConfig.LogConfig;
  try {
    const s = logWriterSettings(cfg);
    if (!s) return undefined;
    const attrs =
      s.driver === 'json-file'
        ? logAttrs(cfg, rec.Config.Labels ?? {}, rec.Config.Env ?? [], {
            id: rec.Id,
            name: rec.Name,
            imageId: rec.Image,
            imageName: rec.Config.Image ?? '',
            entrypoint: rec.Path,
            args: rec.Args,
            created: rec.Created,
          })
        : {};
    return { ...s, attrs: Object.keys(attrs).length ? encodeAttrs(attrs) : undefined };
  } catch (err) {
    throw new Error(`failed to create task for container: failed to initialize logging driver: ${(err as Error).message}`);
  }
}

/** The pid of the runtime's created (not yet started) container; rejects if it fails first. */
function createdPid(conn: MonitorConnection): Promise<number> {
  return new Promise((resolve, reject) => {
    if (conn.pid && conn.state === 'created') return resolve(conn.pid);
    const done = (err?: Error, pid?: number) => {
      conn.off('created', onCreated);
      conn.off('failed', onFail);
      conn.off('exited', onFail);
      conn.off('close', onFail);
      if (err) reject(err);
      else resolve(pid!);
    };
    const onCreated = (pid: number) => done(undefined, pid);
    const onFail = () => done(new Error('container runtime failed before the container was created'));
    conn.on('created', onCreated);
    conn.on('failed', onFail);
    conn.on('exited', onFail);
    conn.on('close', onFail);
  });
}

/** runc's `run --detach` is one process where `create` + `start` are two; other runtimes
 * get the two commands the OCI runtime command line defines (as containerd does). */
function runsDetached(driver: RuntimeDriver): boolean {
  return basename(driver.path) === 'runc';
}

/** How long a start waits for the monitor of the previous run to finish its delete. */
const MONITOR_GONE_MS = 3000;

/** A directory made once per daemon (its promise is kept); a failure is not kept. */
function madeOnce(dir: string, forget: () => void): Promise<unknown> {
  return fsp.mkdir(dir, { recursive: true, mode: 0o700 }).catch((err) => {
    forget();
    throw err;
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Whether dir is the root of a mount (its device differs from its parent's). */
async function isMountPoint(dir: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([fsp.stat(dir), fsp.stat(dirname(dir))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
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
