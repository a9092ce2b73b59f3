// berthd's side of berth-monitor, the small C process that runs one container
// (native/monitor.c): spawning it, talking to it, and reading what it leaves on disk.
// Connections are unref()'d so berthd can exit while its containers keep running;
// call ref() on one when something must stay alive waiting for it.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { readJson } from '../util/atomic.ts';
import { drainedOf } from '../util/drained.ts';
import { encodeFrame, FrameDecoder, MAX_PAYLOAD } from './protocol.ts';
import { repoRoot } from '../util/repo-root.ts';

export interface MonitorOptions {
  id: string;
  bundle: string;
  runtime: string;
  runtimeRoot: string;
  runtimeLog: string;
  pidFile: string;
  socketPath: string;
  exitFile: string;
  /** The container's log; absent: no log (log driver none). */
  logPath?: string;
  /** How the log is written (native/log-writer.h); absent: json-file, never rotated. */
  log?: MonitorLogOptions;
  stdin?: boolean;
  tty?: boolean;
  /** Create, then run start only when start() is called. */
  waitStart?: boolean;
  /** Path of an OCI process.json: run it in the (running) container `id` with the
   * runtime's `exec` instead of running the container; the monitor then never deletes. */
  exec?: string;
}

export interface MonitorLogOptions {
  driver: 'json-file' | 'local';
  /** Rotate once the file holds this many bytes; -1 or absent: never. */
  maxSize?: number;
  /** Files kept, the current one included. */
  maxFile?: number;
  /** gzip rotated files. */
  compress?: boolean;
  /** json-file: a JSON object written as every entry's "attrs". */
  attrs?: string;
}

export interface ExitRecord {
  exitCode: number;
  signal: number;
  finishedAt: string;
  /** The kernel OOM-killed a process of the container's cgroup during the run. */
  oomKilled?: boolean;
}

export interface MonitorFailure {
  stage: 'create' | 'start';
  status: number;
}

export type MonitorState = 'connecting' | 'created' | 'running' | 'exited' | 'failed';


export function monitorBinary(): string {
  return process.env.BERTH_MONITOR || join(repoRoot(), 'build', 'berth-monitor');
}

export function monitorArgs(opts: MonitorOptions): string[] {
  const args = [
    '--id', opts.id,
    '--bundle', opts.bundle,
    '--runtime', opts.runtime,
    '--runtime-root', opts.runtimeRoot,
    '--runtime-log', opts.runtimeLog,
    '--pid-file', opts.pidFile,
    '--socket', opts.socketPath,
    '--exit-file', opts.exitFile,
  ];
  if (opts.logPath !== undefined) {
    args.push('--log-path', opts.logPath);
    const l = opts.log;
    if (l) {
      args.push('--log-driver', l.driver);
      if (l.maxSize !== undefined && l.maxSize >= 0) args.push('--log-max-size', String(l.maxSize));
      if (l.maxFile !== undefined) args.push('--log-max-file', String(l.maxFile));
      if (l.compress) args.push('--log-compress');
      if (l.attrs) args.push('--log-attrs', l.attrs);
    }
  }
  if (opts.stdin) args.push('--stdin');
  if (opts.tty) args.push('--tty');
  if (opts.waitStart) args.push('--wait-start');
  if (opts.exec !== undefined) args.push('--exec', opts.exec);
  return args;
}

/**
 * One connection to a monitor. Events: 'stdout' (Buffer), 'stderr' (Buffer),
 * 'created' (pid), 'started', 'failed' (MonitorFailure), 'exited' (code), 'close'.
 * finishedAt is set before 'exited' by monitors that send it.
 */
export class MonitorConnection extends EventEmitter {
  pid: number | undefined;
  state: MonitorState = 'connecting';
  exitCode: number | undefined;
  /** When the container exited (RFC 3339), as the exit file says it. */
  finishedAt: string | undefined;
  /** The monitor reported an OOM kill in the container's cgroup (before 'exited'). */
  oomKilled = false;
  failure: MonitorFailure | undefined;
  /** Set when this connection spawned the monitor. */
  monitorPid: number | undefined;
  /** Where runtimeError() looks when start fails; known when we spawned the monitor. */
  runtimeLog: string | undefined;
  /** Why the monitor could not even be spawned. */
  spawnError: Error | undefined;
  closed = false;
  /** The monitor reported that the runtime's start succeeded. */
  started = false;
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // A monitor that dies mid-write resets the socket; 'close' tells the rest.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  #onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.#decoder.push(chunk);
    } catch {
      this.#socket.destroy(); // not a monitor speaking
      return;
    }
    for (const { type, payload } of frames) {
      switch (type) {
        case 'o':
          this.emit('stdout', payload);
          break;
        case 'e':
          this.emit('stderr', payload);
          break;
        case 'C':
          this.pid = Number(payload.toString());
          if (this.state === 'connecting') this.state = 'created';
          this.emit('created', this.pid);
          break;
        case 'S':
          this.started = true;
          if (this.state === 'connecting' || this.state === 'created') this.state = 'running';
          this.emit('started');
          break;
        case 'F': {
          const [stage, status] = payload.toString().split(' ');
          this.failure = { stage: stage === 'start' ? 'start' : 'create', status: Number(status) };
          this.state = 'failed';
          this.emit('failed', this.failure);
          break;
        }
        case 'T':
          this.finishedAt = payload.toString();
          break;
        case 'O':
          this.oomKilled = true;
          break;
        case 'X':
          this.exitCode = Number(payload.toString());
          this.state = 'exited';
          this.emit('exited', this.exitCode);
          break;
      }
    }
  }

  /** Returns false when the socket holds more than it wants (wait for stdinDrained()). */
  #send(type: string, payload: Uint8Array | string = ''): boolean {
    if (this.closed || this.#socket.destroyed || !this.#socket.writable) return true;
    return this.#socket.write(encodeFrame(type, payload));
  }

  /**
   * Sends stdin data; false when the caller should wait for stdinDrained() before sending
   * more. The monitor stops reading while the container does not take its input, so this
   * is what keeps a client's upload out of berthd's memory.
   */
  writeStdin(data: Uint8Array | string): boolean {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let ok = true;
    for (let off = 0; off < buf.length; off += MAX_PAYLOAD) ok = this.#send('i', buf.subarray(off, off + MAX_PAYLOAD)) && ok;
    return ok;
  }

  /** Stops taking frames: the monitor then holds the process's output back (its queue for
   * us fills, and it stops reading the process's pipes) until resume(). */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Resolves when the socket can take more stdin, or the connection is gone. */
  stdinDrained(): Promise<void> {
    return this.closed ? Promise.resolve() : drainedOf(this.#socket);
  }

  closeStdin(): void {
    this.#send('c');
  }

  resize(rows: number, cols: number): void {
    this.#send('r', `${Math.trunc(rows)} ${Math.trunc(cols)}`);
  }

  /** Signals the process the monitor runs (used for exec processes, which the runtime's
   * kill cannot reach); ignored once it has exited. */
  signal(sig: number): void {
    this.#send('K', String(Math.trunc(sig)));
  }

  /**
   * Whether this connection gets the container's output ('stdout'/'stderr' events; on by
   * default). Off, the monitor still writes the log but sends this client nothing of it,
   * so a container writing gigabytes costs berthd nothing while nobody is attached.
   */
  output(on: boolean): void {
    this.#send(on ? 'v' : 'q');
  }

  /** Lets a monitor spawned with waitStart run the runtime's start; ignored otherwise. */
  start(): void {
    this.#send('S');
  }

  /** Hangs up; the monitor and its container carry on. */
  close(): void {
    if (this.closed) return;
    this.#socket.destroySoon(); // after what is already written, 'c' included
  }

  /** Keeps the process alive while this connection is open. */
  ref(): this {
    this.#socket.ref();
    return this;
  }

  unref(): this {
    this.#socket.unref();
    return this;
  }
}

export function spawnMonitor(opts: MonitorOptions): MonitorConnection {
  const child = spawn(monitorBinary(), monitorArgs(opts), {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const socket = child.stdio[3] as Socket;
  const conn = new MonitorConnection(socket);
  conn.monitorPid = child.pid;
  conn.runtimeLog = opts.runtimeLog;
  child.on('error', (err) => {
    conn.spawnError = err;
    socket.destroy();
  });
  child.unref();
  conn.unref();
  return conn;
}

/** Reattaches to a running monitor; rejects (ENOENT, ECONNREFUSED) when it is gone. */
export function connectMonitor(socketPath: string, runtimeLog?: string): Promise<MonitorConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const conn = new MonitorConnection(socket);
      conn.runtimeLog = runtimeLog;
      resolve(conn.unref());
    });
  });
}

export async function readExitFile(path: string): Promise<ExitRecord | undefined> {
  const rec = await readJson<Partial<ExitRecord>>(path);
  if (!rec || typeof rec.exitCode !== 'number') return undefined;
  return { exitCode: rec.exitCode, signal: rec.signal ?? 0, finishedAt: rec.finishedAt ?? '', ...(rec.oomKilled === true ? { oomKilled: true } : {}) };
}

const RUNTIME_LOG_TAIL = 256 * 1024;

/** The last error runc logged (its JSON log), or a generic text when there is none. */
export async function runtimeError(runtimeLog: string): Promise<string> {
  let text = '';
  try {
    const fh = await fsp.open(runtimeLog, 'r');
    try {
      const { size } = await fh.stat();
      const length = Math.min(size, RUNTIME_LOG_TAIL);
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    // no log: fall through to the generic message
  }
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if ((entry.level === 'error' || entry.level === 'fatal') && typeof entry.msg === 'string' && entry.msg) return entry.msg;
    } catch {
      // a line cut by the tail window or a crash: skip it
    }
  }
  return 'container runtime failed without an error message';
}

/**
 * Sends the start request (ignored unless the monitor waits for it) and resolves once the
 * container runs; rejects with the runtime's error when create or start fails.
 */
export function startAndWait(conn: MonitorConnection): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    const fail = async () => {
      cleanup();
      if (conn.spawnError) return reject(new Error(`berth-monitor: ${conn.spawnError.message}`));
      if (conn.state === 'exited') return reject(new Error('container exited before it started'));
      const message = conn.runtimeLog ? await runtimeError(conn.runtimeLog) : 'container runtime failed';
      reject(new Error(message));
    };
    const started = () => {
      cleanup();
      resolve({ pid: conn.pid ?? 0 });
    };
    const cleanup = () => {
      conn.off('started', started);
      conn.off('failed', fail);
      conn.off('exited', fail);
      conn.off('close', fail);
    };
    if (conn.started) return resolve({ pid: conn.pid ?? 0 });
    if (conn.state === 'failed' || conn.state === 'exited' || conn.closed) return void fail();
    conn.on('started', started);
    conn.on('failed', fail);
    conn.on('exited', fail);
    conn.on('close', fail);
    conn.start();
  });
}
