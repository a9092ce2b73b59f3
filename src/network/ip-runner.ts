// iproute2 batches run by a long-lived /bin/sh instead of processes berthd spawns itself.
// Why: every spawn from berthd forks a process of berthd's size (a few ms on its event loop,
// on the path of every `docker run`), where the shell forks `ip` for the price of a small
// process; and the two batches of a sandbox (host side, then inside) go in one request.
//
// A request is a shell script whose batches read their commands from here-documents (the
// commands are berth's own, built from checked names: no quoting is involved) and whose last
// line prints a marker with the exit status; everything `ip` prints before it is the
// request's output. One request at a time per shell; a shell that dies is replaced, and a
// request it took down fails (the caller cleans up as after any failed batch).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { systemError } from '../util/errors.ts';

export interface Batch {
  /** The network namespace (a name under /run/netns) it runs in; the host's when absent. */
  ns?: string;
  lines: string[];
  /** Go on past failing commands (ip -force): for removals of what may be gone. */
  force?: boolean;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

class Shell {
  private proc: ChildProcess | undefined;
  private out = '';
  private pending: { marker: string; resolve: (r: { code: number; output: string }) => void; reject: (e: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private start(): ChildProcess {
    const p = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => {
      this.out += d;
      this.settle();
    });
    const gone = () => {
      if (this.proc !== p) return;
      this.proc = undefined;
      this.out = '';
      const w = this.pending;
      this.pending = undefined;
      w?.reject(systemError('the iproute2 shell went away'));
    };
    p.on('exit', gone);
    p.on('error', gone);
    p.stdin!.on('error', gone);
    // The daemon's exit is not held up by its helper.
    p.unref();
    (p.stdout as unknown as { unref?: () => void }).unref?.();
    (p.stdin as unknown as { unref?: () => void }).unref?.();
    return p;
  }

  private settle(): void {
    const w = this.pending;
    if (!w) return;
    const at = this.out.indexOf(w.marker);
    if (at < 0) return;
    const end = this.out.indexOf('\n', at);
    if (end < 0) return;
    const code = Number(this.out.slice(at + w.marker.length, end).trim());
    const output = this.out.slice(0, at);
    this.out = this.out.slice(end + 1);
    this.pending = undefined;
    w.resolve({ code, output });
  }

  run(script: (marker: string) => string): Promise<{ code: number; output: string }> {
    const next = this.queue.then(
      () =>
        new Promise<{ code: number; output: string }>((resolve, reject) => {
          this.proc ??= this.start();
          const marker = `@@berth-done-${randomBytes(6).toString('hex')} `;
          this.pending = { marker, resolve, reject };
          this.proc.stdin!.write(script(marker));
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }
}

const shells = [new Shell(), new Shell()];
let turn = 0;

/** Runs the batches in order, each only if the one before succeeded; throws with ip's output. */
export async function runBatches(batches: Batch[]): Promise<void> {
  const r = await tryBatches(batches);
  if (r.code !== 0) throw systemError(`ip: ${r.output.trim() || `exit ${r.code}`}`);
}

/** The same, returning the exit status and what ip printed. */
export async function tryBatches(batches: Batch[]): Promise<{ code: number; output: string }> {
  const parts: string[] = [];
  const tag = randomBytes(6).toString('hex');
  batches.forEach((b, i) => {
    if (b.ns !== undefined && !NAME.test(b.ns)) throw systemError(`invalid network namespace name ${b.ns}`);
    if (b.lines.some((l) => l.includes('\n'))) throw systemError('an iproute2 command spans lines');
    const eof = `BERTH_${tag}_${i}`;
    const args = [...(b.ns ? ['-n', b.ns] : []), ...(b.force ? ['-force'] : []), '-batch', '-'].join(' ');
    parts.push(`ip ${args} 2>&1 <<'${eof}'\n${b.lines.join('\n')}\n${eof}\n`);
  });
  // Joined with && so a failed batch stops the ones after it.
  const body = (marker: string) => `${parts.map((p) => `{ ${p.trimEnd()}\n}`).join(' &&\n')}\necho "${marker}$?"\n`;
  return shells[turn++ % shells.length]!.run(body);
}
