// Drives a command on a real pty through util-linux script(1): keystrokes go in through
// script's stdin, what the terminal shows comes back on its stdout. Tests wait for output
// (never fixed sleeps) and kill the session if it does not end.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';

export class PtySession {
  readonly proc: ChildProcess;
  /** Resolves with script's exit status: the command's, with -e. */
  readonly exited: Promise<number>;
  private buf = '';
  private waiters: Array<() => void> = [];

  /** `command` runs under `sh -c` on the new pty (prefix it with `stty rows R cols C;`). */
  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.proc = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake();
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.proc.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.wake();
        resolve(code ?? (signal ? 128 : -1));
      }),
    );
  }

  /** Everything the terminal showed so far (latin1, so bytes map 1:1 to characters). */
  get output(): string {
    return this.buf;
  }

  send(data: string | Buffer): void {
    this.proc.stdin!.write(data);
  }

  /** Waits until the output after `from` holds the pattern; returns the index just past it. */
  async waitFor(pattern: string | RegExp, from = 0, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.buf.slice(from);
      if (typeof pattern === 'string') {
        const i = rest.indexOf(pattern);
        if (i >= 0) return from + i + pattern.length;
      } else {
        const m = pattern.exec(rest);
        if (m) return from + m.index + m[0].length;
      }
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`the session ended before ${pattern}; output: ${JSON.stringify(this.buf)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 250);
      });
    }
  }

  /** Resolves with the exit status; kills the session (and fails) when it does not end in time. */
  async exit(timeoutMs = 20_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`the session did not end; output: ${JSON.stringify(this.buf)}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The pty script made, as fd 0 of the descendant named `comm` (the client under test;
   * node names its main thread "node-MainThread"). */
  async ptyPath(comm: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const pid of await descendants(this.proc.pid!)) {
        const name = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
        if (name !== comm && !name.startsWith(`${comm}-`)) continue;
        const link = await fsp.readlink(`/proc/${pid}/fd/0`).catch(() => '');
        if (link.startsWith('/dev/pts/')) return link;
      }
      if (Date.now() > deadline) throw new Error(`no ${comm} process on a pty under script`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills script and everything under it. */
  kill(): void {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    void descendants(this.proc.pid!).then((pids) => {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    });
    this.proc.kill('SIGKILL');
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Sets a pty's size from outside: the kernel sends SIGWINCH to its foreground processes. */
export function setPtySize(pty: string, rows: number, cols: number): Promise<void> {
  return new Promise((resolve, reject) => execFile('stty', ['-F', pty, 'rows', String(rows), 'cols', String(cols)], (err) => (err ? reject(err) : resolve())));
}

async function descendants(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const e of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await fsp.readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const m = /\) \S+ (\d+)/.exec(stat);
    if (!m) continue;
    const ppid = Number(m[1]);
    let list = children.get(ppid);
    if (!list) children.set(ppid, (list = []));
    list.push(Number(e));
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}
