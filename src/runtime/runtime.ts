// The driver for an OCI runtime's command line (runc, crun, ...): state, kill, delete,
// pause, resume, ps and update on containers it already runs. Create/start belong to the
// per-container monitor, which must stay the runtime's parent for the exit status.
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OciResources } from './types.ts';
import { EngineError, conflict, notFound, systemError } from '../util/errors.ts';

export interface RuntimeState {
  /** created | running | pausing | paused | stopped */
  status: string;
  pid: number;
}

export interface RuntimeDriver {
  readonly name: string;
  readonly path: string;
  readonly root: string;
  /** undefined when the runtime does not know the container. */
  state(id: string): Promise<RuntimeState | undefined>;
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  /** Ignores "does not exist". */
  delete(id: string, force?: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  ps(id: string): Promise<number[]>;
  /** Applies new cgroup limits to a running container (`update -r`). */
  update(id: string, resources: Omit<OciResources, 'devices'>): Promise<void>;
}

/** The error text a runtime printed: JSON log lines (--log-format json), logfmt, or plain text. */
export function runtimeMessage(stderr: string): string {
  const messages: string[] = [];
  const plain: string[] = [];
  for (const line of stderr.split('\n').map((l) => l.trim()).filter(Boolean)) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (typeof entry.msg === 'string' && (entry.level === 'error' || entry.level === 'fatal')) messages.push(entry.msg);
      continue;
    } catch {
      // not JSON
    }
    const logfmt = /level=(error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (logfmt) messages.push(JSON.parse(`"${logfmt[2]}"`) as string);
    else if (!/^time="[^"]*" level=(debug|info|warn|warning)\b/.test(line)) plain.push(line);
  }
  return (messages.length ? messages : plain).join('; ');
}

function isNotExist(message: string): boolean {
  return /does not exist|not found|no such container/i.test(message);
}

function toEngineError(runtime: string, args: string[], message: string): EngineError {
  const text = message || `${runtime} ${args.join(' ')} failed`;
  if (isNotExist(text)) return notFound(text);
  if (/not running|not paused|is paused|already paused|is not created|stopped/i.test(text)) return conflict(text);
  return systemError(text);
}

export class OciRuntimeCli implements RuntimeDriver {
  readonly name: string;
  readonly path: string;
  readonly root: string;
  private readonly extraArgs: string[];

  constructor(name: string, path: string, root: string, extraArgs: string[] = []) {
    this.name = name;
    this.path = path;
    this.root = root;
    this.extraArgs = extraArgs;
  }

  private run(args: string[]): Promise<string> {
    const argv = [...this.extraArgs, '--root', this.root, '--log-format', 'json', ...args];
    return new Promise((resolve, reject) => {
      execFile(this.path, argv, { maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const spawnFailed = typeof (err as NodeJS.ErrnoException).code === 'string';
        const message = spawnFailed ? `${this.path}: ${err.message}` : runtimeMessage(stderr);
        reject(toEngineError(this.name, args, message));
      });
    });
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    let out: string;
    try {
      out = await this.run(['state', id]);
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return undefined;
      throw err;
    }
    const s = JSON.parse(out) as { status?: string; pid?: number };
    return { status: s.status ?? 'unknown', pid: s.pid ?? 0 };
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.run(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, force = false): Promise<void> {
    try {
      await this.run(['delete', ...(force ? ['--force'] : []), id]);
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return;
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.run(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.run(['resume', id]);
  }

  async ps(id: string): Promise<number[]> {
    const out = await this.run(['ps', '--format', 'json', id]);
    const pids = JSON.parse(out.trim() || 'null') as number[] | null;
    return pids ?? [];
  }

  async update(id: string, resources: Omit<OciResources, 'devices'>): Promise<void> {
    // The limits go in a file (runc reads LinuxResources JSON from it), removed afterwards.
    const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-update-'));
    try {
      const file = join(dir, 'resources.json');
      await fsp.writeFile(file, JSON.stringify(resources), { mode: 0o600 });
      await this.run(['update', '-r', file, id]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }
}
