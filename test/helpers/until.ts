// Polling for integration tests: the kernel and the daemon do things in their own time.
import assert from 'node:assert/strict';

/** Polls until `fn` gives a truthy value; fails with `what` after a generous deadline. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
