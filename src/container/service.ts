// The container lifecycle: create, start, stop, kill, restart, remove, wait, and the
// bookkeeping around a container's monitor. State changes are saved before they are
// reported, so a daemon killed at any instant restarts into a true picture.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig, HostConfig } from '../runtime/types.ts';
import type { ContainerRecord } from './record.ts';
import { initialState, isActive } from './record.ts';
import { ContainerStore } from './store.ts';
import { AttachHub, type AttachClient } from './attach.ts';
import { commandOf, mergeImageDefaults, normalizeHostConfig, type ImageDefaults } from './create-config.ts';
import { randomName, validateName } from './names.ts';
import { readLogs, type LogEntry, type LogOptions } from './logs.ts';
import type { TaskRunner, Task } from './task.ts';
import { EngineError, badParameter, conflict, notModified } from '../util/errors.ts';
import { newId } from '../util/ids.ts';
import { log } from '../util/log.ts';
import { ZERO_TIME, rfc3339Nano } from '../util/time.ts';
import { parseSignal } from '../runtime/signals.ts';

/** What the container service needs from the image store. */
export interface ImageSource {
  resolveForContainer(ref: string): { id: string; defaults: ImageDefaults; chainId?: string };
  get(id: string): { size: number } | undefined;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Waiter {
  condition: WaitCondition;
  resolve: (code: number) => void;
}

interface Live {
  hub: AttachHub;
  task?: Task;
  waiters: Waiter[];
  /** Serializes lifecycle operations on one container. */
  lock: Promise<unknown>;
  /** Resolves when the current run's exit has been fully processed. */
  exited?: Promise<void>;
  stopping?: boolean;
}

/** Exits of recently removed containers, for a wait that arrives after --rm removed them. */
const TOMBSTONE_MS = 60_000;

export class ContainerService {
  readonly store: ContainerStore;
  private readonly images: ImageSource;
  private readonly tasks: TaskRunner;
  private readonly live = new Map<string, Live>();
  private readonly tombstones = new Map<string, { code: number; at: number }>();
  defaultRuntime = 'runc';
  /** Called after a container is removed (the image store collects layers nothing uses). */
  onRemoved: (() => void) | undefined;

  constructor(store: ContainerStore, images: ImageSource, tasks: TaskRunner) {
    this.store = store;
    this.images = images;
    this.tasks = tasks;
  }

  private liveOf(id: string): Live {
    let l = this.live.get(id);
    if (!l) {
      l = { hub: new AttachHub(), waiters: [], lock: Promise.resolve() };
      this.live.set(id, l);
    }
    return l;
  }

  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const l = this.liveOf(id);
    const run = l.lock.then(fn, fn);
    l.lock = run.catch(() => undefined);
    return run;
  }

  /** Re-attaches to containers that kept running while the daemon was down. */
  async init(): Promise<void> {
    await this.store.init();
    await this.tasks.cleanupOrphans(new Set(this.store.list().map((r) => r.Id)));
    for (const rec of this.store.list()) {
      if (!isActive(rec)) continue;
      const hub = this.liveOf(rec.Id).hub;
      const out = { stdout: (d: Buffer) => hub.output(1, d), stderr: (d: Buffer) => hub.output(2, d) };
      const task = await this.tasks.reattach(rec, out).catch((err) => {
        log.warn('cannot reattach to container', { id: rec.Id, error: err });
        return undefined;
      });
      if (task) {
        this.watchTask(rec, task);
      } else {
        const exit = await this.tasks.exitStatus(rec.Id);
        await this.finishRun(rec, exit ?? { exitCode: 255, finishedAt: rfc3339Nano() });
      }
    }
  }

  // ---- create ----

  async create(body: ContainerConfig & { HostConfig?: HostConfig }, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    // NetworkingConfig is not kept yet: endpoints come with networking (issue 5).
    const { HostConfig: hostConfigIn, NetworkingConfig: _networking, ...userConfig } = body as ContainerConfig & { HostConfig?: HostConfig; NetworkingConfig?: unknown };
    if (!userConfig.Image) throw badParameter('config cannot be empty in order to create a container');
    const hostConfig = normalizeHostConfig(hostConfigIn);
    const image = this.images.resolveForContainer(userConfig.Image);
    const id = newId();
    const config = mergeImageDefaults(userConfig, image.defaults);
    if (!config.Hostname) config.Hostname = id.slice(0, 12);
    const { path, args } = commandOf(config);
    const runtime = hostConfig.Runtime || this.defaultRuntime;
    this.tasks.checkRuntime(runtime);
    hostConfig.Runtime = runtime;

    let fullName: string;
    if (name) {
      fullName = validateName(name);
      this.store.reserveName(fullName, id);
    } else {
      do fullName = `/${randomName()}`;
      while (this.store.nameTaken(fullName));
      this.store.reserveName(fullName, id);
    }
    const dir = this.store.dir(id);
    const rec: ContainerRecord = {
      Id: id,
      Created: rfc3339Nano(),
      Path: path,
      Args: args,
      State: initialState(),
      Image: image.id,
      ResolvConfPath: join(dir, 'resolv.conf'),
      HostnamePath: join(dir, 'hostname'),
      HostsPath: join(dir, 'hosts'),
      LogPath: hostConfig.LogConfig?.Type === 'none' ? '' : join(dir, `${id}-json.log`),
      Name: fullName,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      Runtime: runtime,
      Config: config,
      HostConfig: hostConfig,
      SnapshotParent: image.chainId,
    };
    try {
      await fsp.mkdir(dir, { mode: 0o710 });
      await this.tasks.prepare(rec);
      await this.store.save(rec); // the commit point
    } catch (err) {
      this.store.releaseName(fullName, id);
      await this.tasks.discard(id).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
      throw err;
    }
    return { Id: id, Warnings: [] };
  }

  // ---- start ----

  async start(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.startLocked(rec));
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    const st = rec.State.Status;
    if (st === 'running') throw notModified();
    if (st === 'paused') throw conflict('cannot start a paused container, try unpause instead');
    if (st === 'removing' || st === 'dead') throw conflict(`container is marked for removal and cannot be started`);
    const l = this.liveOf(rec.Id);
    l.hub.stdinOnce = !!rec.Config.StdinOnce;
    let task: Task;
    try {
      task = await this.tasks.start(rec, {
        stdout: (d) => l.hub.output(1, d),
        stderr: (d) => l.hub.output(2, d),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      rec.State = { ...rec.State, Status: rec.State.Status === 'created' ? 'created' : 'exited', Error: message, ExitCode: startFailureCode(message) };
      await this.store.save(rec);
      if (rec.HostConfig.AutoRemove) await this.removeLocked(rec, { force: true, volumes: true }).catch(() => undefined);
      if (err instanceof EngineError) throw err;
      throw new EngineError(startFailureStatus(message), message);
    }
    rec.State = {
      ...rec.State,
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: task.pid,
      ExitCode: 0,
      Error: '',
      StartedAt: rfc3339Nano(),
      FinishedAt: ZERO_TIME,
    };
    await this.store.save(rec);
    this.watchTask(rec, task);
  }

  private watchTask(rec: ContainerRecord, task: Task): void {
    const l = this.liveOf(rec.Id);
    l.task = task;
    l.hub.connect(task);
    l.exited = task.exit.then((exit) => this.finishRun(rec, exit));
  }

  /** After a run ends: release what it held, record the exit, wake waiters, auto-remove. */
  private async finishRun(rec: ContainerRecord, exit: { exitCode: number; finishedAt: string; oomKilled?: boolean }): Promise<void> {
    const l = this.liveOf(rec.Id);
    await this.tasks.cleanup(rec).catch((err) => log.warn('cleanup after exit failed', { id: rec.Id, error: err }));
    rec.State = {
      ...rec.State,
      Status: 'exited',
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: !!exit.oomKilled,
      Pid: 0,
      ExitCode: exit.exitCode,
      FinishedAt: exit.finishedAt,
    };
    l.task = undefined;
    await this.store.save(rec).catch((err) => log.error('saving exit failed', { id: rec.Id, error: err }));
    l.hub.close();
    this.wake(l, exit.exitCode, ['not-running', 'next-exit']);
    if (rec.HostConfig.AutoRemove && this.store.find(rec.Id)) {
      await this.removeLocked(rec, { force: true, volumes: true }).catch((err) => log.warn('auto-remove failed', { id: rec.Id, error: err }));
    }
  }

  private wake(l: Live, code: number, conditions: WaitCondition[]): void {
    l.waiters = l.waiters.filter((w) => {
      if (!conditions.includes(w.condition)) return true;
      w.resolve(code);
      return false;
    });
  }

  // ---- stop, kill, restart ----

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.store.get(ref);
    const sig = parseSignal(signal);
    const l = this.liveOf(rec.Id);
    if (!l.task || rec.State.Status !== 'running') {
      throw conflict(`Cannot kill container: ${ref}: Container ${rec.Id} is not running`);
    }
    await l.task.kill(sig);
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.stopLocked(rec, opts));
  }

  private async stopLocked(rec: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    const l = this.liveOf(rec.Id);
    if (!l.task || rec.State.Status !== 'running') throw notModified();
    const sig = parseSignal(opts.signal || rec.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? rec.Config.StopTimeout ?? 10;
    const exited = l.exited!;
    l.stopping = true;
    try {
      await l.task.kill(sig).catch(() => undefined);
      if (timeout < 0) {
        await exited;
        return;
      }
      const done = await Promise.race([exited.then(() => true), delay(timeout * 1000).then(() => false)]);
      if (!done) {
        await l.task?.kill(9).catch(() => undefined);
        await exited;
      }
    } finally {
      l.stopping = false;
    }
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      if (rec.State.Status === 'running') await this.stopLocked(rec, opts);
      await this.startLocked(rec);
    });
  }

  // ---- remove ----

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.removeLocked(rec, opts));
  }

  private async removeLocked(rec: ContainerRecord, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    if (!this.store.find(rec.Id)) return;
    const l = this.liveOf(rec.Id);
    if (isActive(rec)) {
      if (!opts.force) {
        throw conflict(`cannot remove container "${rec.Name}": container is running: stop the container before removing or force remove`);
      }
      const exited = l.exited;
      await l.task?.kill(9).catch(() => undefined);
      await exited;
      if (!this.store.find(rec.Id)) return; // auto-removed meanwhile
    }
    await this.tasks.discard(rec.Id);
    await this.store.remove(rec);
    this.tombstones.set(rec.Id, { code: rec.State.ExitCode, at: Date.now() });
    this.wake(l, rec.State.ExitCode, ['not-running', 'next-exit', 'removed']);
    l.hub.close();
    this.live.delete(rec.Id);
    this.onRemoved?.();
  }

  // ---- wait ----

  /** Throws (synchronously) 404 for an unknown container; the promise settles on the condition. */
  wait(ref: string, condition: WaitCondition, abort?: AbortSignal): Promise<number> {
    const rec = this.store.find(ref);
    if (!rec) {
      // `run --rm`: the docker CLI posts its wait concurrently with start, so a container
      // that ran briefly may be gone before the wait arrives.
      this.pruneTombstones();
      const t = this.tombstones.get(ref);
      if (t && condition !== 'not-running') return Promise.resolve(t.code);
      this.store.get(ref); // throws Docker's 404
    }
    const r = rec!;
    const running = isActive(r);
    if (condition === 'not-running' && !running) return Promise.resolve(r.State.ExitCode);
    if (condition === 'next-exit' && !running && recentlyFinished(r)) {
      // Same race without --rm: the exit the client is waiting for already happened.
      return Promise.resolve(r.State.ExitCode);
    }
    const l = this.liveOf(r.Id);
    return new Promise<number>((resolve, reject) => {
      const w: Waiter = { condition, resolve };
      l.waiters.push(w);
      abort?.addEventListener('abort', () => {
        l.waiters = l.waiters.filter((x) => x !== w);
        reject(new Error('wait aborted'));
      });
    });
  }

  private pruneTombstones(): void {
    const now = Date.now();
    for (const [id, t] of this.tombstones) if (now - t.at > TOMBSTONE_MS) this.tombstones.delete(id);
  }

  // ---- attach and logs ----

  /** Joins a container's attach streams; returns the function that leaves them. */
  attach(ref: string, client: AttachClient): () => void {
    return this.liveOf(this.store.get(ref).Id).hub.add(client);
  }

  isRunning(id: string): boolean {
    const rec = this.store.find(id);
    return !!rec && isActive(rec);
  }

  logs(ref: string, opts: Omit<LogOptions, 'running'>): { record: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const rec = this.store.get(ref);
    if (rec.HostConfig.LogConfig?.Type === 'none' || !rec.LogPath) {
      throw badParameter(`configured logging driver does not support reading`);
    }
    return { record: rec, entries: readLogs(rec.LogPath, { ...opts, running: () => this.isRunning(rec.Id) }) };
  }

  /** Stops every running container (daemon shutdown without live-restore). */
  async shutdown(timeoutOverride?: number): Promise<void> {
    await Promise.all(
      this.store
        .list()
        .filter((r) => r.State.Status === 'running')
        .map((r) => this.stop(r.Id, { timeout: timeoutOverride }).catch((err) => log.warn('stop at shutdown failed', { id: r.Id, error: err }))),
    );
  }

  /** SizeRw (the writable layer) and SizeRootFs (that plus the image), as `ps -s` shows them. */
  async usage(rec: ContainerRecord): Promise<{ rw: number; rootfs: number }> {
    const rw = await this.tasks.usageRw(rec);
    return { rw, rootfs: rw + (this.images.get(rec.Image)?.size ?? 0) };
  }
}

function recentlyFinished(r: ContainerRecord): boolean {
  const finished = Date.parse(r.State.FinishedAt);
  return Number.isFinite(finished) && Date.now() - finished < 2000;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Docker's exit codes for a start that failed: 127 not found, 126 not executable. */
function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory/.test(message)) return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 128;
}

function startFailureStatus(message: string): number {
  return /executable file not found|no such file or directory|permission denied|is a directory|not a directory/.test(message) ? 400 : 500;
}

