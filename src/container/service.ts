// The container lifecycle: create, start, stop, kill, restart, pause, rename, update,
// remove, prune, wait, restart policies, and the bookkeeping around a container's monitor.
// State changes are saved before they are reported, so a daemon killed at any instant
// restarts into a true picture.
import { promises as fsp } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ContainerConfig, HostConfig } from '../runtime/types.ts';
import type { EndpointRequest } from '../network/endpoint.ts';
import type { ContainerEventSink, ContainerRecord } from './record.ts';
import { initialState, isActive } from './record.ts';
import { ContainerStore } from './store.ts';
import { AttachHub, type AttachClient } from './attach.ts';
import { adaptResources, checkResources, commandOf, mergeImageDefaults, mergeResourceUpdate, normalizeHostConfig, type ImageDefaults, type UpdateRequest } from './create-config.ts';
import { randomName, validateName } from './names.ts';
import { adaptNamespaceModes, checkNamespaceConflicts, defaultHostname, resolveNamespaceJoins, type NamespaceDefaults } from './namespace-join.ts';
import type { LogEntry, LogOptions } from './logs.ts';
import { logPathFor, openLogReader, resolveLogConfig, type LogConfig } from './log-config.ts';
import { decideRestart, isNonePolicy, policyRestarts, validateRestartPolicy } from './restart-policy.ts';
import { pruneCandidates, type Filters } from './list.ts';
import type { TaskRunner, Task, ExitStatus } from './task.ts';
import type { RuntimeDriver } from '../runtime/runtime.ts';
import { blockIOResources, cpuResources, memoryResources, pidsResources } from '../runtime/resources.ts';
import { EngineError, badParameter, conflict, notFound, notModified, systemError } from '../util/errors.ts';
import { newId } from '../util/ids.ts';
import { log } from '../util/log.ts';
import { ZERO_TIME, isZeroTime, rfc3339Nano } from '../util/time.ts';
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

/** A policy restart waiting out its back-off. */
interface PendingRestart {
  timer: NodeJS.Timeout;
  /** The start itself is under way (inside the container's lock). */
  started: boolean;
  canceled: boolean;
  /** Settles when the attempt is over, or on cancel. */
  done: Promise<void>;
  finish: () => void;
}

interface Live {
  hub: AttachHub;
  task?: Task;
  waiters: Waiter[];
  /** Serializes lifecycle operations on one container. */
  lock: Promise<unknown>;
  /** Resolves when the current run's exit has been recorded (state saved, waiters woken). */
  exited?: Promise<void>;
  stopping?: boolean;
  /** A signal being sent: the die event waits for its kill event. */
  signalling?: Promise<unknown>;
  // The restart manager (moby's restartmanager), reset by every manual start:
  /** The last back-off, 0 before the first policy restart. */
  backoffMs: number;
  /** Set by a stop or kill: the next exit is final, whatever the policy. */
  noRestart: boolean;
  /** A `restart` is stopping the container: its exit does not auto-remove it. */
  manualRestart: boolean;
  pending?: PendingRestart;
  /** A client attached to the stopped container: a start is coming (`start -a`, `run`), so
   * a `next-exit` wait is for that run, not for the exit just before it. */
  startExpected?: boolean;
}

type StartKind = 'manual' | 'policy';

/** Exits of recently removed containers, for a wait that arrives after --rm removed them. */
const TOMBSTONE_MS = 60_000;
/** How long `kill` (SIGKILL) waits for the exit, as dockerd. */
const KILL_WAIT_MS = 10_000;
/** dockerd's default stop timeout in seconds. */
const DEFAULT_STOP_TIMEOUT = 10;

export class ContainerService {
  readonly store: ContainerStore;
  private readonly images: ImageSource;
  private readonly tasks: TaskRunner;
  private readonly live = new Map<string, Live>();
  private readonly tombstones = new Map<string, { code: number; at: number }>();
  private shuttingDown = false;
  private pruning = false;
  defaultRuntime = 'runc';
  /** The daemon's log driver for containers that name none (set from daemon config). */
  logDefault: LogConfig = { Type: 'json-file', Config: {} };
  /** The OCI runtimes by name, for pause, resume and update (set by the engine). */
  runtimes: Map<string, RuntimeDriver> | undefined;
  /** The daemon's default IPC and cgroup namespace modes for containers that name none. */
  namespaceDefaults: NamespaceDefaults = {};
  /** Whether the kernel can limit swap (a swap limit is dropped with a warning when not). */
  swapLimit = true;
  /** Called after a container is removed (the image store collects layers nothing uses). */
  onRemoved: ((rec: ContainerRecord) => void) | undefined;
  /** Lifecycle events (Docker's actions); the engine forwards them to the event bus. */
  events: ContainerEventSink | undefined;
  /** After every start (manual or policy) and after a re-attach to a running container. */
  onRunning: ((rec: ContainerRecord) => void) | undefined;
  /** When a run ends, before any policy restart. */
  onStopped: ((rec: ContainerRecord) => void) | undefined;
  /** After a pause or an unpause (health checks rest while a container is frozen). */
  onPauseChange: ((rec: ContainerRecord, paused: boolean) => void) | undefined;
  /** After a rename (the networks' endpoint lists carry the name). */
  onRenamed: ((rec: ContainerRecord) => Promise<void>) | undefined;
  /** Volumes and binds: decides the mount points of a create (making the volumes it names);
   * the returned undo removes what it made when the create fails. */
  mountsAtCreate: ((rec: ContainerRecord) => Promise<() => Promise<void>>) | undefined;
  /** After a removal: releases the container's volumes (and removes anonymous ones with rm -v). */
  mountsRemoved: ((rec: ContainerRecord, removeAnonymous: boolean) => Promise<void>) | undefined;
  /** Checks a create's network part and records the endpoints asked for (networking). */
  networkAtCreate: ((rec: ContainerRecord, endpoints: Record<string, EndpointRequest | null> | null | undefined) => void) | undefined;

  constructor(store: ContainerStore, images: ImageSource, tasks: TaskRunner) {
    this.store = store;
    this.images = images;
    this.tasks = tasks;
  }

  private liveOf(id: string): Live {
    let l = this.live.get(id);
    if (!l) {
      l = { hub: new AttachHub(), waiters: [], lock: Promise.resolve(), backoffMs: 0, noRestart: false, manualRestart: false };
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

  private emit(action: string, rec: ContainerRecord, attrs?: Record<string, string>): void {
    try {
      this.events?.(action, rec, attrs);
    } catch (err) {
      log.warn('event sink failed', { action, id: rec.Id, error: err });
    }
  }

  private hook(fn: ((rec: ContainerRecord) => void) | undefined, rec: ContainerRecord): void {
    try {
      fn?.(rec);
    } catch (err) {
      log.warn('lifecycle hook failed', { id: rec.Id, error: err });
    }
  }

  private driverOf(rec: ContainerRecord): RuntimeDriver {
    const d = this.runtimes?.get(rec.Runtime);
    if (!d) throw systemError(`unknown or invalid runtime name: ${rec.Runtime}`);
    return d;
  }

  /**
   * Re-attaches to containers that kept running while the daemon was down, records the
   * exits it missed, and then applies restart policies as dockerd does at its start.
   */
  async init(beforeRestore?: () => Promise<void>): Promise<void> {
    await this.store.init();
    // Networking re-adopts what the records say runs before exits found now undo it.
    await beforeRestore?.();
    const all = this.store.list();
    await this.tasks.cleanupOrphans(new Set(all.map((r) => r.Id)), new Set(all.filter((r) => isActive(r)).map((r) => r.Id)));
    const toStart: ContainerRecord[] = [];
    const toRemove: ContainerRecord[] = [];
    for (const rec of this.store.list()) {
      if (rec.HostConfig.RestartPolicy && !rec.HostConfig.RestartPolicy.Name) rec.HostConfig.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
      if (isActive(rec)) {
        // A container waiting for a policy restart has no process to find.
        const wasRestarting = rec.State.Status === 'restarting';
        const hub = this.liveOf(rec.Id).hub;
        const out = { stdout: (d: Buffer) => hub.output(1, d), stderr: (d: Buffer) => hub.output(2, d), subscribe: (cb: (wanted: boolean) => void) => hub.subscribe(cb) };
        const task = wasRestarting ? undefined : await this.tasks.reattach(rec, out).catch((err) => {
          log.warn('cannot reattach to container', { id: rec.Id, error: err });
          return undefined;
        });
        if (task) {
          this.watchTask(rec, task);
          if (rec.State.Status === 'running') this.hook(this.onRunning, rec);
          continue;
        }
        // It ended while the daemon was down (or was waiting for a policy restart).
        const exit = wasRestarting ? undefined : await this.tasks.exitStatus(rec.Id);
        await this.tasks.cleanup(rec).catch((err) => log.warn('cleanup after exit failed', { id: rec.Id, error: err }));
        rec.State = {
          ...rec.State,
          Status: 'exited',
          Running: false,
          Paused: false,
          Restarting: false,
          Pid: 0,
          OOMKilled: !!exit?.oomKilled,
          // No exit status at all: 255, as dockerd reports a lost container.
          ExitCode: exit ? exit.exitCode : wasRestarting ? rec.State.ExitCode : 255,
          FinishedAt: exit?.finishedAt ?? (wasRestarting ? rec.State.FinishedAt : rfc3339Nano()),
        };
        await this.store.save(rec).catch((err) => log.error('saving exit failed', { id: rec.Id, error: err }));
      }
      const startedBefore = rec.HasBeenStartedBefore ?? !isZeroTime(rec.State.StartedAt);
      const facts = {
        exitCode: rec.State.ExitCode,
        manuallyStopped: !!rec.HasBeenManuallyStopped,
        restartCount: rec.RestartCount,
        ranMs: Date.parse(rec.State.FinishedAt) - Date.parse(rec.State.StartedAt),
      };
      if (startedBefore && rec.State.Status === 'exited' && policyRestarts(rec.HostConfig.RestartPolicy, facts)) toStart.push(rec);
      // dockerd removes every --rm container that does not run (created ones too).
      else if (rec.HostConfig.AutoRemove && !isActive(rec)) toRemove.push(rec);
    }
    for (const rec of toRemove) {
      await this.remove(rec.Id, { force: true, volumes: true }).catch((err) => log.warn('auto-remove at start failed', { id: rec.Id, error: err }));
    }
    // As dockerd: a start at daemon start is a fresh start (the restart count goes back to 0).
    await keepingAlive(() =>
      Promise.all(
        toStart.map((rec) =>
          this.locked(rec.Id, () => this.startLocked(rec, 'manual')).catch((err) => log.warn('restart at daemon start failed', { id: rec.Id, error: err })),
        ),
      ),
    );
  }

  // ---- create ----

  async create(body: ContainerConfig & { HostConfig?: HostConfig }, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    const { HostConfig: hostConfigIn, NetworkingConfig: networking, ...userConfig } = body as ContainerConfig & {
      HostConfig?: HostConfig;
      NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointRequest | null> | null } | null;
    };
    if (!userConfig.Image) throw badParameter('config cannot be empty in order to create a container');
    const hostConfig = normalizeHostConfig(hostConfigIn);
    const namespaceWarnings = checkNamespaceConflicts(userConfig, hostConfig);
    const warnings = checkResources(hostConfig, { update: false, swapLimit: this.swapLimit, cpus: availableParallelism() });
    warnings.push(...namespaceWarnings);
    adaptResources(hostConfig);
    hostConfig.LogConfig = resolveLogConfig(hostConfig.LogConfig, this.logDefault);
    const image = this.images.resolveForContainer(userConfig.Image);
    adaptNamespaceModes(hostConfig, this.store, this.namespaceDefaults);
    const id = newId();
    const config = mergeImageDefaults(userConfig, image.defaults);
    if (!config.Hostname) config.Hostname = defaultHostname(hostConfig, id);
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
      LogPath: logPathFor(dir, id, hostConfig.LogConfig),
      Name: fullName,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      Runtime: runtime,
      Config: config,
      HostConfig: hostConfig,
      SnapshotParent: image.chainId,
    };
    let undoMounts: (() => Promise<void>) | undefined;
    try {
      this.networkAtCreate?.(rec, networking?.EndpointsConfig);
      undoMounts = await this.mountsAtCreate?.(rec);
    } catch (err) {
      this.store.releaseName(fullName, id);
      throw err;
    }
    try {
      await fsp.mkdir(dir, { mode: 0o710 });
      await this.tasks.prepare(rec);
      await this.store.save(rec); // the commit point
    } catch (err) {
      this.store.releaseName(fullName, id);
      await this.tasks.discard(id).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
      await undoMounts?.().catch((e) => log.warn('undoing volumes of a failed create failed', { id, error: e }));
      throw err;
    }
    this.emit('create', rec);
    return { Id: id, Warnings: warnings };
  }

  // ---- start ----

  async start(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.startLocked(rec, 'manual'));
  }

  /** A manual start (also the daemon's own at its start) resets the restart manager. */
  private async startLocked(rec: ContainerRecord, kind: StartKind): Promise<void> {
    const st = rec.State.Status;
    if (st === 'paused') throw conflict('cannot start a paused container, try unpause instead');
    if (st === 'running' || (st === 'restarting' && kind === 'manual')) throw notModified('container is already running');
    if (st === 'removing' || st === 'dead' || !this.store.find(rec.Id)) throw conflict(`container is marked for removal and cannot be started`);
    const l = this.liveOf(rec.Id);
    if (kind === 'manual') {
      l.backoffMs = 0;
      l.noRestart = false;
      rec.RestartCount = 0;
      rec.HasBeenManuallyStopped = false;
    }
    l.hub.stdinOnce = !!rec.Config.StdinOnce;
    let task: Task;
    try {
      const joins = resolveNamespaceJoins(rec, this.store);
      // dockerd: a container in another's network namespace takes that one's hostname.
      if (joins.network) rec.Config = { ...rec.Config, Hostname: joins.network.hostname, Domainname: joins.network.domainname ?? '' };
      task = await this.tasks.start(
        rec,
        {
          stdout: (d) => l.hub.output(1, d),
          stderr: (d) => l.hub.output(2, d),
          subscribe: (cb) => l.hub.subscribe(cb),
        },
        joins,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      rec.State = {
        ...rec.State,
        Status: rec.State.Status === 'created' ? 'created' : 'exited',
        Running: false,
        Restarting: false,
        Error: message,
        // A failed policy restart keeps the exit code of the run before it (dockerd).
        ExitCode: kind === 'policy' ? rec.State.ExitCode : startFailureCode(message),
      };
      await this.store.save(rec);
      if (kind === 'policy') this.wake(l, rec.State.ExitCode, ['not-running', 'next-exit']);
      if (rec.HostConfig.AutoRemove) await this.removeLocked(rec, { force: true, volumes: true }, rec.Id).catch(() => undefined);
      if (err instanceof EngineError) throw err;
      throw new EngineError(startFailureStatus(message), message);
    }
    const health = rec.Config.Healthcheck && hasProbe(rec.Config.Healthcheck) ? { Log: [], ...rec.State.Health, Status: 'starting', FailingStreak: 0 } : rec.State.Health;
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
      ...(health ? { Health: health } : {}),
    };
    rec.HasBeenStartedBefore = true;
    l.manualRestart = false;
    l.startExpected = false;
    await this.store.save(rec);
    this.watchTask(rec, task);
    this.emit('start', rec);
    this.hook(this.onRunning, rec);
  }

  private watchTask(rec: ContainerRecord, task: Task): void {
    const l = this.liveOf(rec.Id);
    l.task = task;
    l.hub.connect(task);
    l.exited = task.exit.then((exit) => this.finishRun(rec, exit));
  }

  /**
   * After a run ends: release what it held, decide on a policy restart, record the exit,
   * wake waiters; then either schedule the restart or auto-remove (inside the lock).
   */
  private async finishRun(rec: ContainerRecord, exit: ExitStatus): Promise<void> {
    const l = this.liveOf(rec.Id);
    await this.tasks.cleanup(rec).catch((err) => log.warn('cleanup after exit failed', { id: rec.Id, error: err }));
    l.task = undefined;
    this.hook(this.onStopped, rec);
    const ranMs = Date.now() - Date.parse(rec.State.StartedAt);
    let restart = false;
    let delayMs = 0;
    if (!l.noRestart && !isNonePolicy(rec.HostConfig.RestartPolicy)) {
      const d = decideRestart(
        rec.HostConfig.RestartPolicy,
        { exitCode: exit.exitCode, manuallyStopped: this.shuttingDown || !!rec.HasBeenManuallyStopped, restartCount: rec.RestartCount, ranMs },
        l.backoffMs,
      );
      l.backoffMs = d.backoffMs;
      restart = d.restart;
      delayMs = d.delayMs;
    }
    if (restart) rec.RestartCount++;
    rec.State = {
      ...rec.State,
      // Docker counts a container waiting to restart as running (Running and Restarting).
      Status: restart ? 'restarting' : 'exited',
      Running: restart,
      Paused: false,
      Restarting: restart,
      OOMKilled: !!exit.oomKilled,
      Pid: 0,
      ExitCode: exit.exitCode,
      FinishedAt: exit.finishedAt,
    };
    await this.store.save(rec).catch((err) => log.error('saving exit failed', { id: rec.Id, error: err }));
    await l.signalling?.catch(() => undefined);
    // Docker reports the OOM kill before the exit it caused.
    if (exit.oomKilled) this.emit('oom', rec);
    this.emit('die', rec, { exitCode: String(exit.exitCode), execDuration: String(Math.max(0, Math.floor(ranMs / 1000))) });
    l.hub.close();
    this.wake(l, exit.exitCode, ['not-running', 'next-exit']);
    if (restart) {
      log.info('restarting container', { id: rec.Id, restartCount: rec.RestartCount, exitCode: exit.exitCode, delayMs });
      this.scheduleRestart(rec, delayMs);
    } else if (rec.HostConfig.AutoRemove && !l.manualRestart) {
      void this.locked(rec.Id, async () => {
        // Started again meanwhile: that run is not this exit's to remove.
        if (isActive(rec)) return;
        await this.removeLocked(rec, { force: true, volumes: true }, rec.Id);
      }).catch((err) => log.warn('auto-remove failed', { id: rec.Id, error: err }));
    }
  }

  private scheduleRestart(rec: ContainerRecord, delayMs: number): void {
    const l = this.liveOf(rec.Id);
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const p: PendingRestart = { timer: undefined as unknown as NodeJS.Timeout, started: false, canceled: false, done, finish };
    p.timer = setTimeout(() => {
      void this.locked(rec.Id, async () => {
        if (p.canceled || l.pending !== p) return;
        p.started = true;
        try {
          await this.startLocked(rec, 'policy');
        } catch (err) {
          log.warn('policy restart failed', { id: rec.Id, error: err });
        } finally {
          if (l.pending === p) l.pending = undefined;
          p.finish();
        }
      });
    }, delayMs);
    p.timer.unref();
    l.pending = p;
  }

  /**
   * Ends a wait for a policy restart: the container becomes exited with its last exit code.
   * Returns false when there was nothing to cancel (an attempt already under way has been
   * waited for: the caller then deals with the container as it is).
   */
  private async cancelRestart(rec: ContainerRecord): Promise<boolean> {
    const l = this.liveOf(rec.Id);
    l.noRestart = true;
    const p = l.pending;
    if (!p) return false;
    if (p.started) {
      await p.done;
      return false;
    }
    p.canceled = true;
    clearTimeout(p.timer);
    l.pending = undefined;
    p.finish();
    rec.State = { ...rec.State, Status: 'exited', Running: false, Restarting: false, Paused: false, Pid: 0 };
    await this.store.save(rec);
    this.wake(l, rec.State.ExitCode, ['not-running', 'next-exit']);
    return true;
  }

  private wake(l: Live, code: number, conditions: WaitCondition[]): void {
    l.waiters = l.waiters.filter((w) => {
      if (!conditions.includes(w.condition)) return true;
      w.resolve(code);
      return false;
    });
  }

  // ---- signals: kill, stop, restart ----

  /**
   * Sends a signal as dockerd's killWithSignal: marks a manual stop, makes the next exit
   * final when it is the stop signal (or SIGKILL, or any signal without a StopSignal),
   * thaws a paused container so the signal lands, and reports the kill event.
   */
  private async signal(rec: ContainerRecord, sig: number): Promise<void> {
    const l = this.liveOf(rec.Id);
    const stopSig = configuredStopSignal(rec);
    const final = sig === 9 || stopSig === undefined || stopSig === sig;
    if (final) l.noRestart = true;
    if (!this.shuttingDown && !rec.HasBeenManuallyStopped) {
      rec.HasBeenManuallyStopped = true;
      await this.store.save(rec).catch((err) => log.warn('saving container failed', { id: rec.Id, error: err }));
    }
    if (rec.State.Status === 'restarting') {
      // Nothing runs: a final signal just ends the wait for the restart.
      if (final && (await this.cancelRestart(rec))) return;
      if (!isActive(rec) || rec.State.Status === 'restarting') return;
    }
    const task = l.task;
    if (!task) return;
    const wasPaused = rec.State.Status === 'paused';
    const sending = (async () => {
      await task.kill(sig).catch((err) => {
        // The process is already gone: its exit is on its way.
        if (err instanceof EngineError && (err.status === 404 || err.status === 409)) return;
        throw err;
      });
      if (final && wasPaused) {
        await this.driverOf(rec).resume(rec.Id).catch((err) => log.warn('cannot unpause container', { id: rec.Id, error: err }));
        if (rec.State.Status === 'paused') {
          rec.State = { ...rec.State, Status: 'running', Paused: false };
          await this.store.save(rec).catch(() => undefined);
        }
      }
      this.emit('kill', rec, { signal: String(sig) });
    })();
    l.signalling = sending;
    try {
      await sending;
    } finally {
      if (l.signalling === sending) l.signalling = undefined;
    }
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const sig = parseSignal(signal || 'SIGKILL');
    const rec = this.store.get(ref);
    const l = this.liveOf(rec.Id);
    if (!isActive(rec)) throw conflict(`container ${rec.Id} is not running`);
    const exited = l.task ? l.exited : undefined;
    await this.signal(rec, sig);
    // Like dockerd, a SIGKILL returns once the container is down.
    if (sig === 9 && exited) await within(exited, KILL_WAIT_MS);
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.stopLocked(rec, opts));
  }

  private async stopLocked(rec: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
    if (!isActive(rec)) throw notModified('container is already stopped');
    const l = this.liveOf(rec.Id);
    const sig = parseSignal(opts.signal || rec.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? rec.Config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    l.stopping = true;
    try {
      const exited = l.task ? l.exited : undefined;
      await this.signal(rec, sig).catch((err) => log.warn('sending the stop signal failed', { id: rec.Id, error: err }));
      if (exited) {
        const done = timeout < 0 ? await exited.then(() => true) : await within(exited, timeout * 1000);
        if (!done) {
          log.info('container failed to exit within its stop timeout: using the force', { id: rec.Id, timeout, signal: sig });
          await this.signal(rec, 9).catch((err) => log.warn('kill failed', { id: rec.Id, error: err }));
          await exited;
        }
      }
    } finally {
      l.stopping = false;
    }
    this.emit('stop', rec);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      if (isActive(rec)) {
        this.liveOf(rec.Id).manualRestart = true;
        await this.stopLocked(rec, opts);
      }
      await this.startLocked(rec, 'manual');
      this.emit('restart', rec);
    });
  }

  // ---- pause, unpause ----

  async pause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      const st = rec.State.Status;
      if (!isActive(rec)) throw conflict(`container ${rec.Id} is not running`);
      if (st === 'paused') throw conflict(`Container ${rec.Id} is already paused`);
      if (st === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
      try {
        await this.driverOf(rec).pause(rec.Id);
      } catch (err) {
        throw systemError(`cannot pause container ${rec.Id}: ${(err as Error).message}`);
      }
      rec.State = { ...rec.State, Status: 'paused', Paused: true };
      await this.store.save(rec);
      this.emit('pause', rec);
      this.onPauseChange?.(rec, true);
    });
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      // dockerd answers 500 here (a plain error), not 409.
      if (rec.State.Status !== 'paused') throw systemError(`Container ${rec.Id} is not paused`);
      try {
        await this.driverOf(rec).resume(rec.Id);
      } catch (err) {
        throw systemError(`Cannot unpause container ${rec.Id}: ${(err as Error).message}`);
      }
      rec.State = { ...rec.State, Status: 'running', Paused: false };
      await this.store.save(rec);
      this.emit('unpause', rec);
      this.onPauseChange?.(rec, false);
    });
  }

  // ---- rename, update ----

  async rename(ref: string, newName: string): Promise<void> {
    if (!ref || !newName) throw badParameter('Neither old nor new names may be empty');
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      const wanted = newName.startsWith('/') ? newName : `/${newName}`;
      if (rec.Name === wanted) throw badParameter('Renaming a container with the same name as its current name');
      try {
        validateName(wanted);
        this.store.reserveName(wanted, rec.Id);
      } catch (err) {
        if (err instanceof EngineError) throw new EngineError(err.status, `Error when allocating new name: ${err.message}`);
        throw err;
      }
      const oldName = rec.Name;
      rec.Name = wanted;
      try {
        await this.store.save(rec);
      } catch (err) {
        rec.Name = oldName;
        this.store.releaseName(wanted, rec.Id);
        throw err;
      }
      this.store.releaseName(oldName, rec.Id);
      await this.onRenamed?.(rec).catch((err) => log.warn('renaming network endpoints failed', { id: rec.Id, error: err }));
      this.emit('rename', rec, { oldName });
    });
  }

  /** POST /containers/{id}/update: a restart policy and resource limits, applied live. */
  async update(ref: string, body: UpdateRequest): Promise<{ Warnings: string[] | null }> {
    const { RestartPolicy: policy, ...resources } = body;
    // The API takes 0 and any negative pids limit as "unlimited".
    if (resources.PidsLimit != null && resources.PidsLimit <= 0) resources.PidsLimit = 0;
    validateRestartPolicy(policy);
    const warnings = checkResources(resources, { update: true, swapLimit: this.swapLimit, cpus: availableParallelism() });
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      const cannot = (err: unknown) => {
        const e = err instanceof EngineError ? err : systemError(String((err as Error)?.message ?? err));
        return new EngineError(e.status, `Cannot update container ${rec.Id}: ${e.message}`);
      };
      if (!this.store.find(rec.Id)) throw cannot(conflict('container is marked for removal and cannot be "update"'));
      const before = rec.HostConfig;
      let next: HostConfig;
      try {
        next = mergeResourceUpdate(before, resources);
        if (policy?.Name) {
          if (before.AutoRemove && !isNonePolicy(policy)) throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
          next.RestartPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
        }
      } catch (err) {
        throw cannot(err);
      }
      rec.HostConfig = next;
      try {
        await this.store.save(rec);
      } catch (err) {
        rec.HostConfig = before;
        throw cannot(err);
      }
      try {
        // A stopped or restarting container gets its limits at its next start.
        const st = rec.State.Status;
        if (st === 'running' || st === 'paused') await this.applyResources(rec);
      } catch (err) {
        rec.HostConfig = before;
        await this.store.save(rec).catch(() => undefined);
        throw cannot(systemError((err as Error).message));
      } finally {
        this.emit('update', rec);
      }
    });
    return { Warnings: warnings.length ? warnings : null };
  }

  private async applyResources(rec: ContainerRecord): Promise<void> {
    const hc = rec.HostConfig;
    const r: Parameters<RuntimeDriver['update']>[1] = {};
    const memory = memoryResources(hc, this.swapLimit);
    if (memory) r.memory = memory;
    const cpu = cpuResources(hc);
    if (cpu) r.cpu = cpu;
    const pids = pidsResources(hc);
    if (pids) r.pids = pids;
    const blockIO = await blockIOResources(hc);
    if (blockIO) r.blockIO = blockIO;
    await this.driverOf(rec).update(rec.Id, r);
  }

  // ---- resize, attach ----

  /** A new TTY size for the container's process; 409 when it does not run. */
  resize(ref: string, rows: number, cols: number): void {
    const rec = this.store.get(ref);
    const l = this.liveOf(rec.Id);
    const st = rec.State.Status;
    if (!l.task || (st !== 'running' && st !== 'paused')) throw conflict(`container ${rec.Id} is not running`);
    l.task.resize(rows, cols);
    this.emit('resize', rec, { height: String(rows), width: String(cols) });
  }

  /** Joins a container's attach streams; returns the function that leaves them. */
  attach(ref: string, client: AttachClient): () => void {
    const rec = this.store.get(ref);
    const l = this.liveOf(rec.Id);
    if (!isActive(rec)) l.startExpected = true;
    const leave = l.hub.add(client);
    this.emit('attach', rec);
    return leave;
  }

  // ---- remove, prune ----

  /** Runs `fn` under a container's lock: no start, stop or removal of it meanwhile (docker cp). */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.locked(id, fn);
  }

  /** Runs `fn` on a container's record under its lock and saves what it changed (network connect). */
  async changeRecord(ref: string, fn: (rec: ContainerRecord) => Promise<void>): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, async () => {
      if (!this.store.find(rec.Id)) throw notFound(`No such container: ${ref}`);
      await fn(rec);
      await this.store.save(rec);
    });
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.locked(rec.Id, () => this.removeLocked(rec, opts, ref));
  }

  /** `ref` is the name the caller used: dockerd's messages quote it. */
  private async removeLocked(rec: ContainerRecord, opts: { force?: boolean; volumes?: boolean }, ref: string): Promise<void> {
    if (!this.store.find(rec.Id)) return;
    const l = this.liveOf(rec.Id);
    if (isActive(rec)) {
      if (!opts.force) {
        if (rec.State.Status === 'paused') throw conflict(`cannot remove container "${ref}": container is paused and must be unpaused first`);
        throw conflict(`cannot remove container "${ref}": container is ${rec.State.Status}: stop the container before removing or force remove`);
      }
      const exited = l.task ? l.exited : undefined;
      await this.signal(rec, 9).catch((err) => log.warn('kill before remove failed', { id: rec.Id, error: err }));
      if (exited) await exited;
      if (!this.store.find(rec.Id)) return; // auto-removed meanwhile
    }
    await this.tasks.discard(rec.Id);
    await this.store.remove(rec);
    this.tombstones.set(rec.Id, { code: rec.State.ExitCode, at: Date.now() });
    this.wake(l, rec.State.ExitCode, ['not-running', 'next-exit', 'removed']);
    l.hub.close();
    this.live.delete(rec.Id);
    this.emit('destroy', rec);
    await this.mountsRemoved?.(rec, !!opts.volumes).catch((err) => log.warn('releasing volumes failed', { id: rec.Id, error: err }));
    this.onRemoved?.(rec);
  }

  /** POST /containers/prune: removes stopped containers matching until/label filters. */
  async prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    if (this.pruning) throw conflict('a prune operation is already running');
    this.pruning = true;
    try {
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const rec of pruneCandidates(this.store, filters)) {
        const size = await this.tasks.usageRw(rec).catch(() => 0);
        try {
          await this.locked(rec.Id, async () => {
            // Started since it was picked: not prunable any more.
            if (isActive(rec)) throw conflict(`container ${rec.Id} is running`);
            await this.removeLocked(rec, {}, rec.Id);
          });
        } catch (err) {
          log.warn('failed to prune container', { id: rec.Id, error: err });
          continue;
        }
        reclaimed += size;
        deleted.push(rec.Id);
      }
      return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    } finally {
      this.pruning = false;
    }
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
    // A container waiting for a policy restart counts as running, as in dockerd.
    const running = isActive(r);
    if (condition === 'not-running' && !running) return Promise.resolve(r.State.ExitCode);
    if (condition === 'next-exit' && !running && !this.live.get(r.Id)?.startExpected && recentlyFinished(r)) {
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

  // ---- logs and queries ----

  isRunning(id: string): boolean {
    const rec = this.store.find(id);
    return !!rec && isActive(rec);
  }

  logs(ref: string, opts: Omit<LogOptions, 'running'>): { record: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const rec = this.store.get(ref);
    return { record: rec, entries: openLogReader(rec, { ...opts, running: () => this.isRunning(rec.Id) }) };
  }

  /** Stops every container that runs (daemon shutdown without live-restore); no policy
   * restarts from here on. Each container's own stop signal and timeout apply. */
  async shutdown(timeoutOverride?: number): Promise<void> {
    this.shuttingDown = true;
    await keepingAlive(() =>
      Promise.all(
        this.store
          .list()
          .filter((r) => isActive(r))
          .map((r) => this.stop(r.Id, { timeout: timeoutOverride }).catch((err) => log.warn('stop at shutdown failed', { id: r.Id, error: err }))),
      ),
    );
  }

  /** SizeRw (the writable layer) and SizeRootFs (that plus the image), as `ps -s` shows them. */
  async usage(rec: ContainerRecord): Promise<{ rw: number; rootfs: number }> {
    const rw = await this.tasks.usageRw(rec);
    return { rw, rootfs: rw + (this.images.get(rec.Image)?.size ?? 0) };
  }
}

/**
 * Runs fn with a handle that keeps Node's event loop alive: monitor connections are
 * unref()'d, so before the API listens (daemon start) or after it closed (shutdown)
 * nothing else would, and Node would exit while a start or an exit is still awaited.
 */
async function keepingAlive<T>(fn: () => Promise<T>): Promise<T> {
  const handle = setInterval(() => undefined, 60_000);
  try {
    return await fn();
  } finally {
    clearInterval(handle);
  }
}

/** Whether a health check config runs a probe (an empty test or NONE disables it). */
function hasProbe(h: NonNullable<ContainerConfig['Healthcheck']>): boolean {
  const test = (h as { Test?: string[] | null }).Test;
  return !!test && test.length > 0 && test[0] !== 'NONE';
}

function recentlyFinished(r: ContainerRecord): boolean {
  const finished = Date.parse(r.State.FinishedAt);
  return Number.isFinite(finished) && Date.now() - finished < 2000;
}

/** Whether `p` settled within `ms` (the timer does not outlive it). */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([p.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/** Config.StopSignal as a number; undefined when unset or not a signal. */
function configuredStopSignal(rec: ContainerRecord): number | undefined {
  if (!rec.Config.StopSignal) return undefined;
  try {
    return parseSignal(rec.Config.StopSignal);
  } catch {
    return undefined;
  }
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
