// What pulls and pushes share: the progress messages they stream, a counter that reports
// bytes as they pass, the slots that bound how many layers move at once, and which failure
// to report when one layer's failure aborted the others.

/** One JSON progress message of a pull or push, as the docker CLI renders them. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
}

const PROGRESS_INTERVAL_MS = 100;

/**
 * A counting pass-through: report(n) at most every PROGRESS_INTERVAL_MS and once at the end;
 * a fired signal ends it at the next piece.
 */
export async function* counted<T extends Uint8Array>(src: AsyncIterable<T>, report: (n: number) => void, signal?: AbortSignal): AsyncGenerator<T> {
  let n = 0;
  let last = 0;
  for await (const c of src) {
    if (signal?.aborted) throw signal.reason;
    n += c.length;
    const now = Date.now();
    if (now - last >= PROGRESS_INTERVAL_MS) {
      last = now;
      report(n);
    }
    yield c;
  }
  report(n);
}

/** Slots handed out first come, first served. */
export class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  /** Takes a slot; false when it had to wait for one. */
  tryAcquire(): boolean {
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return false;
  }
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** The error that started a failure, not the aborts it caused in the other transfers. */
export function firstCause(results: PromiseSettledResult<void>[], fallback: unknown): unknown {
  for (const r of results) {
    if (r.status === 'rejected' && !(r.reason instanceof DOMException && r.reason.name === 'AbortError')) return r.reason;
  }
  return fallback;
}
