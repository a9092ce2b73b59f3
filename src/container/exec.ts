// `docker exec`: processes started in a running container. Each runs under its own
// berth-monitor in exec mode (`runtime exec --detach`), so it has the same stdio, pty and
// exit reporting as a container, and the runtime joins it to the container's namespaces,
// cgroup, seccomp profile and AppArmor profile. As in dockerd, exec records live in memory
// only: a daemon restart forgets them (the processes run on under their monitors).
//
// Files of one exec: <exec-root>/x/<id[:16]>            the monitor's socket (108-byte limit)
//                    <exec-root>/x/<id[:16]>.{json,pid,exit,log}  process, pid, exit, runtime log
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerEventSink, ContainerRecord } from './record.ts';
import { parseDetachKeys, scanDetachKeys } from './attach.ts';
import type { RuntimeDriver } from '../runtime/runtime.ts';
import type { HostFacts, OciProcess, OciSpec } from '../runtime/types.ts';
import { CAPABILITIES } from '../runtime/capabilities.ts';
import { mergeEnv, processEnv } from '../runtime/process.ts';
import { resolveUser } from '../runtime/user.ts';
import { readExitFile, spawnMonitor, startAndWait, type MonitorConnection } from '../monitor/monitor.ts';
import { EngineError, badParameter, conflict, notFound } from '../util/errors.ts';
import { newId } from '../util/ids.ts';
import { log } from '../util/log.ts';

/** The body of POST /containers/{id}/exec (Docker's ExecConfig / ExecCreateRequest). */
export interface ExecCreateRequest {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: number[] | null;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** What GET /exec/{id}/json returns (field names and null-ness as dockerd's ExecInspect). */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user?: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  /** base64, as Go encodes a []byte */
  DetachKeys: string;
  Pid: number;
}

/** Where a started exec's streams go; absent members are not attached. */
export interface ExecIO {
  /** false: the client is behind; no more output is taken until drained() resolves. */
  stdout?(data: Buffer): boolean | void;
  stderr?(data: Buffer): boolean | void;
  drained?(): Promise<void>;
  /** The client's input. Without a TTY its end closes the process's stdin; with one, it
   * ends the session instead, as do the detach keys (the process runs on). */
  stdin?: AsyncIterable<Buffer>;
  /** The session ended before the process did (detach keys, or a TTY's input ended). */
  end?(): void;
}

export interface ExecServiceDeps {
  execRoot: string;
  runtimes: Map<string, RuntimeDriver>;
  /** Looks a container up by id or name; throws Docker's 404 when there is none. */
  containers: { get(ref: string): ContainerRecord };
  host: HostFacts;
  events?: ContainerEventSink;
}

interface Exec {
  id: string;
  containerId: string;
  entrypoint: string;
  args: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  privileged: boolean;
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  detachKeys: Buffer;
  consoleSize?: [number, number];
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** Resolves once the process is running (or failed to); resize waits for it. */
  started: Promise<void>;
  markStarted: () => void;
  conn?: MonitorConnection;
  /** Internal (health checks): forgotten as soon as it is done. */
  internal: boolean;
}

export interface RunResult {
  exitCode: number;
  /** stdout and stderr together, at most 4096 bytes, "..." appended when cut (Docker's health log). */
  output: string;
  /** The timeout passed and the process was killed (exitCode is then -1). */
  timedOut?: boolean;
}

/** Docker keeps finished execs inspectable for 5 to 10 minutes (its GC ticks every 5). */
const FINISHED_KEEP_MS = 10 * 60_000;
const RESIZE_WAIT_MS = 10_000;
const OUTPUT_MAX = 4096;

export class ExecService {
  private readonly d: ExecServiceDeps;
  private readonly execs = new Map<string, Exec>();
  private dirMade: Promise<unknown> | undefined;

  constructor(deps: ExecServiceDeps) {
    this.d = deps;
  }

  private dir(): string {
    return join(this.d.execRoot, 'x');
  }

  private files(id: string) {
    const base = join(this.dir(), id.slice(0, 16));
    return { socket: base, process: `${base}.json`, pid: `${base}.pid`, exit: `${base}.exit`, runtimeLog: `${base}.log` };
  }

  /** Removes what exec monitors of an earlier daemon left once they finished. */
  async init(): Promise<void> {
    const names = await fsp.readdir(this.dir()).catch(() => [] as string[]);
    const finished = names.filter((n) => n.endsWith('.exit')).map((n) => n.slice(0, -'.exit'.length));
    await Promise.all(finished.flatMap((base) => ['', '.json', '.pid', '.exit', '.log'].map((s) => fsp.rm(join(this.dir(), base + s), { force: true }))));
  }

  // ---- create ----

  async create(containerRef: string, req: ExecCreateRequest): Promise<string> {
    const cmd = typeof req.Cmd === 'string' ? [req.Cmd] : req.Cmd ?? [];
    if (cmd.length === 0) throw badParameter('No exec command specified');
    const rec = this.activeContainer(containerRef);
    if (req.User) await this.resolveUser(rec, req.User); // an unknown user fails now, not at start
    let detachKeys: Buffer = Buffer.alloc(0);
    if (req.DetachKeys) {
      try {
        detachKeys = parseDetachKeys(req.DetachKeys);
      } catch {
        throw new EngineError(500, `Invalid escape keys (${req.DetachKeys}) provided`);
      }
    }
    const tty = !!req.Tty;
    const size = req.ConsoleSize;
    const e = this.register(rec, {
      entrypoint: cmd[0]!,
      args: cmd.slice(1),
      env: mergeEnv(processEnv({ ...rec.Config, Tty: tty }, rec.Config.Hostname ?? ''), req.Env ?? []),
      user: req.User || rec.Config.User || '',
      workingDir: req.WorkingDir || rec.Config.WorkingDir || '',
      tty,
      privileged: !!req.Privileged,
      openStdin: !!req.AttachStdin,
      openStdout: !!req.AttachStdout,
      openStderr: !!req.AttachStderr,
      detachKeys,
      consoleSize: size && size.length === 2 ? [size[0]!, size[1]!] : undefined,
      internal: false,
    });
    return e.id;
  }

  private register(rec: ContainerRecord, fields: Omit<Exec, 'id' | 'containerId' | 'running' | 'exitCode' | 'pid' | 'started' | 'markStarted'>): Exec {
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const e: Exec = { ...fields, id: newId(), containerId: rec.Id, running: false, exitCode: null, pid: 0, started, markStarted };
    this.execs.set(e.id, e);
    // As dockerd's exec collector: one created but never started goes after a while, so a
    // client creating execs in a loop cannot fill berthd's memory.
    setTimeout(() => {
      if (this.execs.get(e.id) === e && !e.conn && !e.running && e.exitCode === null) this.execs.delete(e.id);
    }, FINISHED_KEEP_MS).unref();
    this.d.events?.(`exec_create: ${commandText(e)}`, rec, { execID: e.id });
    return e;
  }

  // ---- start ----

  /** The checks dockerd makes before it hijacks the connection (404, 409). */
  check(execId: string): { tty: boolean } {
    const e = this.execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    let rec: ContainerRecord;
    try {
      rec = this.d.containers.get(e.containerId);
    } catch {
      throw notFound(`No such container: ${execId}`);
    }
    checkActive(rec, rec.Id);
    return { tty: e.tty };
  }

  /**
   * Starts the process; resolves once it runs with the promise of its exit code. Rejects
   * with Docker's errors: 409 already running / already run, or the runtime's failure
   * (the exec's exit code is then 126, 127 or 128 as dockerd sets it).
   */
  async start(execId: string, opts: { consoleSize?: number[] | null; io?: ExecIO } = {}): Promise<{ exited: Promise<number> }> {
    this.check(execId);
    const e = this.execs.get(execId)!;
    if (e.exitCode !== null) throw conflict(`exec command ${e.id} has already run`);
    if (e.running) throw conflict(`exec command ${e.id} is already running`);
    e.running = true;
    const rec = this.d.containers.get(e.containerId);
    this.d.events?.(`exec_start: ${commandText(e)}`, rec, { execID: e.id });
    try {
      const conn = await this.launch(e, rec, opts.consoleSize ?? e.consoleSize, opts.io ?? {});
      return { exited: this.watch(e, rec, conn) };
    } catch (err) {
      e.running = false;
      e.markStarted();
      if (err instanceof EngineError) {
        e.exitCode ??= 126; // dockerd's default for a start that failed before the runtime
        this.finished(e);
        throw err;
      }
      const failure = startFailure(err instanceof Error ? err.message : String(err));
      e.exitCode ??= failure.code;
      this.finished(e);
      throw new EngineError(failure.code === 128 ? 500 : 400, failure.message);
    }
  }

  private async launch(e: Exec, rec: ContainerRecord, size: number[] | null | undefined, io: ExecIO): Promise<MonitorConnection> {
    const driver = this.d.runtimes.get(rec.Runtime);
    if (!driver) throw badParameter(`unknown or invalid runtime name: ${rec.Runtime}`);
    const bundle = join(this.d.execRoot, 'containers', rec.Id);
    const f = this.files(e.id);
    this.dirMade ??= fsp.mkdir(this.dir(), { recursive: true, mode: 0o700 }).catch((err) => {
      this.dirMade = undefined;
      throw err;
    });
    const [spec] = await Promise.all([
      fsp.readFile(join(bundle, 'config.json'), 'utf8').then((t) => JSON.parse(t) as OciSpec),
      this.dirMade,
    ]);
    const p = await this.process(e, rec, spec.process, size);
    await fsp.writeFile(f.process, JSON.stringify(p), { mode: 0o600 });
    const conn = spawnMonitor({
      id: rec.Id,
      bundle,
      runtime: driver.path,
      runtimeRoot: driver.root,
      runtimeLog: f.runtimeLog,
      pidFile: f.pid,
      socketPath: f.socket,
      exitFile: f.exit,
      stdin: e.openStdin,
      tty: e.tty,
      exec: f.process,
    });
    e.conn = conn;
    // A client that falls behind holds the process's output back (as it would a pipe),
    // rather than berthd queueing it: this connection carries this exec alone.
    const deliver = (sink: (d: Buffer) => boolean | void) => (d: Buffer) => {
      if (sink(d) === false && io.drained) {
        conn.pause();
        void io.drained().then(() => conn.resume());
      }
    };
    if (e.openStdout && io.stdout) conn.on('stdout', deliver((d) => io.stdout!(d)));
    if (e.openStderr && io.stderr) conn.on('stderr', deliver((d) => io.stderr!(d)));
    try {
      const { pid } = await startAndWait(conn);
      e.pid = pid;
    } catch (err) {
      conn.close();
      await this.removeFiles(e.id);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`OCI runtime exec failed: ${reason}: unknown`);
    }
    e.markStarted();
    if (e.openStdin && io.stdin) void this.pumpStdin(e, rec, conn, io);
    return conn;
  }

  /** The container's process (config.json) with what the exec overrides. */
  private async process(e: Exec, rec: ContainerRecord, base: OciProcess, size: number[] | null | undefined): Promise<OciProcess> {
    const p: OciProcess = { ...base, args: [e.entrypoint, ...e.args], env: e.env, cwd: e.workingDir || '/', terminal: e.tty };
    delete p.consoleSize;
    if (e.tty && size && size.length === 2) p.consoleSize = { height: size[0]!, width: size[1]! };
    if (e.user) {
      const u = await this.resolveUser(rec, e.user);
      p.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
    }
    if (e.privileged) {
      // Every capability, as dockerd gives, but only those this daemon holds itself:
      // the runtime cannot grant more.
      const all = CAPABILITIES.filter((c) => this.d.host.capBounding.includes(c));
      p.capabilities = { bounding: all, effective: [...all], permitted: [...all], inheritable: [] };
    }
    return p;
  }

  private resolveUser(rec: ContainerRecord, user: string) {
    return resolveUser(join(this.d.execRoot, 'containers', rec.Id, 'rootfs'), user, rec.HostConfig.GroupAdd ?? []);
  }

  /** dockerd's CopyStreams: detach keys only with a TTY; at the input's end a pipe is
   * closed, while a TTY session just ends. */
  private async pumpStdin(e: Exec, rec: ContainerRecord, conn: MonitorConnection, io: ExecIO): Promise<void> {
    let detached = false;
    const input = e.tty ? scanDetachKeys(io.stdin!, e.detachKeys, () => (detached = true)) : io.stdin!;
    try {
      for await (const chunk of input) {
        if (!e.running) return;
        if (!conn.writeStdin(chunk)) await conn.stdinDrained();
      }
    } catch {
      // the client went away: its input simply ends
    }
    if (!e.running) return;
    if (detached) this.d.events?.('exec_detach', rec, { execID: e.id });
    if (e.tty) io.end?.();
    else conn.closeStdin();
  }

  /** Resolves with the exit code once the process is gone and the exec is recorded so. */
  private watch(e: Exec, rec: ContainerRecord, conn: MonitorConnection): Promise<number> {
    const f = this.files(e.id);
    return new Promise<number>((resolve) => {
      let done = false;
      const finish = async (code?: number) => {
        if (done) return;
        done = true;
        // A monitor that went away without a word may still have left its exit file.
        if (code === undefined) code = (await readExitFile(f.exit).catch(() => undefined))?.exitCode ?? 255;
        e.running = false;
        e.exitCode = code;
        e.conn = undefined;
        this.d.events?.('exec_die', rec, { execID: e.id, exitCode: String(code) });
        this.finished(e);
        conn.close();
        void this.removeFiles(e.id);
        resolve(code);
      };
      if (conn.exitCode !== undefined) return void finish(conn.exitCode);
      conn.on('exited', (code: number) => void finish(code));
      conn.on('close', () => setTimeout(() => void finish(), 50));
    });
  }

  private finished(e: Exec): void {
    if (e.internal) {
      this.execs.delete(e.id);
      return;
    }
    setTimeout(() => {
      if (this.execs.get(e.id) === e) this.execs.delete(e.id);
    }, FINISHED_KEEP_MS).unref();
  }

  private async removeFiles(id: string): Promise<void> {
    const f = this.files(id);
    await Promise.all([f.process, f.pid, f.exit, f.runtimeLog].map((p) => fsp.rm(p, { force: true }))).catch((err) =>
      log.warn('removing exec files failed', { id, error: err }),
    );
  }

  // ---- resize, inspect ----

  async resize(execId: string, height: number, width: number): Promise<void> {
    this.check(execId);
    const e = this.execs.get(execId)!;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      e.started.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), RESIZE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) throw new EngineError(500, 'timeout waiting for exec session ready');
    if (!e.conn) throw badParameter('exec process is not started');
    e.conn.resize(height, width);
  }

  inspect(execId: string): ExecInspect {
    const e = this.execs.get(execId);
    if (!e) throw notFound(`No such exec instance: ${execId}`);
    try {
      this.d.containers.get(e.containerId);
    } catch {
      this.execs.delete(execId);
      throw notFound(`No such exec instance: ${execId}`);
    }
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: e.tty, entrypoint: e.entrypoint, arguments: e.args, privileged: e.privileged, ...(e.user ? { user: e.user } : {}) },
      OpenStdin: e.openStdin,
      OpenStderr: e.openStderr,
      OpenStdout: e.openStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: e.detachKeys.toString('base64'),
      Pid: e.pid,
    };
  }

  /** The container's execs that have not finished (its inspect's ExecIDs), or null for none. */
  execIdsOf(containerId: string): string[] {
    const out: string[] = [];
    for (const e of this.execs.values()) if (e.containerId === containerId && e.exitCode === null) out.push(e.id);
    return out;
  }

  // ---- container lifecycle ----

  /** The container stopped: execs never started go, and any exec still running (possible
   * only outside the container's pid namespace, --pid=host) is killed. */
  containerStopped(containerId: string): void {
    for (const e of [...this.execs.values()]) {
      if (e.containerId !== containerId) continue;
      if (e.running) e.conn?.signal(9);
      else if (e.exitCode === null) this.execs.delete(e.id);
    }
  }

  /** The container was removed: all its execs go. */
  containerRemoved(containerId: string): void {
    for (const e of [...this.execs.values()]) if (e.containerId === containerId) this.execs.delete(e.id);
  }

  // ---- internal runs (health checks) ----

  /**
   * Runs a command in a running container as the container's user and working directory,
   * collecting its output; after timeoutMs (counted from the start) it is killed. Rejects
   * when the exec cannot be created or started (the container is not running, the command
   * does not exist, ...).
   */
  async run(containerId: string, cmd: string[], opts: { timeoutMs: number; user?: string; env?: string[] }): Promise<RunResult> {
    if (cmd.length === 0) throw badParameter('No exec command specified');
    const rec = this.activeContainer(containerId);
    const e = this.register(rec, {
      entrypoint: cmd[0]!,
      args: cmd.slice(1),
      env: mergeEnv(processEnv({ ...rec.Config, Tty: false }, rec.Config.Hostname ?? ''), opts.env ?? []),
      user: opts.user ?? rec.Config.User ?? '',
      workingDir: rec.Config.WorkingDir ?? '',
      tty: false,
      privileged: false,
      openStdin: false,
      openStdout: true,
      openStderr: true,
      detachKeys: Buffer.alloc(0),
      internal: true,
    });
    const out = new LimitedBuffer(OUTPUT_MAX);
    const sink = (d: Buffer) => out.write(d);
    const { exited } = await this.start(e.id, { io: { stdout: sink, stderr: sink } });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), opts.timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      e.conn?.signal(9);
      await exited; // no dying probes piling up
      return { exitCode: -1, output: out.text(), timedOut: true };
    }
    return { exitCode: await exited, output: out.text() };
  }

  private activeContainer(ref: string): ContainerRecord {
    const rec = this.d.containers.get(ref);
    checkActive(rec, ref);
    return rec;
  }
}

/** dockerd's getActiveContainer checks, with its texts (the paused one names the reference). */
function checkActive(rec: ContainerRecord, ref: string): void {
  const s = rec.State.Status;
  if (s === 'paused') throw conflict(`Container ${ref} is paused, unpause the container before exec`);
  if (s === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
  if (s !== 'running') throw conflict(`container ${rec.Id} is not running`);
}

function commandText(e: Exec): string {
  return `${e.entrypoint} ${e.args.join(' ')}`;
}

/** dockerd's exit code and message for a process that could not be started
 * (setExitCodeFromError: the docker CLI looks for "permission denied" to pick 126). */
function startFailure(message: string): { code: number; message: string } {
  const m = message.toLowerCase();
  if (m.includes('permission denied')) return { code: 126, message };
  if (m.includes('is a directory')) return { code: 126, message: `${message}: permission denied` };
  if (m.includes('not a directory')) {
    return { code: 127, message: `${message}: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type` };
  }
  if (/executable file not found|no such file or directory|system cannot find the file specified|failed to run runc create\/exec call/.test(m)) return { code: 127, message };
  return { code: 128, message };
}

class LimitedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  write(data: Buffer): void {
    const keep = Math.min(this.max - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? s + '...' : s;
  }
}
