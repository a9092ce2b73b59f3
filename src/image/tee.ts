// Splits one byte stream into two consumed concurrently (a layer tar going to the snapshot
// and to the content store in one pass). The faster reader waits once it is `highWater`
// chunks ahead; an error, a reader quitting early, or abort() (a consumer that failed
// without ever reading) fails the other reader too.
export interface Tee<T> {
  branches: [AsyncIterable<T>, AsyncIterable<T>];
  /** Fails both readers (for a consumer that gave up before reading its branch). */
  abort(reason: unknown): void;
}

export function teeStream<T>(src: AsyncIterable<T>, highWater = 8): Tee<T> {
  const it = src[Symbol.asyncIterator]();
  const queues: T[][] = [[], []];
  const closed = [false, false];
  let done = false;
  let error: unknown;
  let pulling: Promise<void> | undefined;
  let wake: Array<() => void> = [];
  const notify = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((resolve) => wake.push(resolve));
  const pull = () => {
    pulling ??= (async () => {
      try {
        const r = await it.next();
        if (r.done) done = true;
        else for (let k = 0; k < 2; k++) if (!closed[k]) queues[k].push(r.value);
      } catch (err) {
        error ??= err;
      } finally {
        pulling = undefined;
        notify();
      }
    })();
    return pulling;
  };
  const branch = (k: number): AsyncIterable<T> => ({
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          if (queues[k].length > 0) {
            yield queues[k].shift()!;
            notify();
            continue;
          }
          if (error !== undefined) throw error;
          if (done) return;
          if (!closed[1 - k] && queues[1 - k].length >= highWater) {
            await changed();
            continue;
          }
          await pull();
        }
      } finally {
        closed[k] = true;
        queues[k] = [];
        if (!done && error === undefined) {
          // This reader stopped early: the other cannot get a complete stream.
          error = new Error('stream reader stopped early');
          void it.return?.().catch(() => undefined);
        }
        notify();
      }
    },
  });
  return {
    branches: [branch(0), branch(1)],
    abort(reason: unknown) {
      if (done || error !== undefined) return;
      error = reason ?? new Error('stream aborted');
      void it.return?.().catch(() => undefined);
      notify();
    },
  };
}
