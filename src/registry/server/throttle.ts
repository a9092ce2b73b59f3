// Slows password guessing: a client address with too many failed logins in a window gets
// 429 TOOMANYREQUESTS (with Retry-After) until the window ends, without a bcrypt run, so
// guesses cost the server nothing either.
export class FailureThrottle {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Seconds the client must wait, or undefined when it may try. */
  retryAfter(key: string, now = Date.now()): number | undefined {
    const f = this.failures.get(key);
    if (!f || now - f.since >= this.windowMs) return undefined;
    return f.count >= this.limit ? Math.ceil((f.since + this.windowMs - now) / 1000) : undefined;
  }

  fail(key: string, now = Date.now()): void {
    const f = this.failures.get(key);
    if (!f || now - f.since >= this.windowMs) this.failures.set(key, { count: 1, since: now });
    else f.count++;
    // Forget expired windows now and then, so the map cannot grow without bound.
    if (this.failures.size > 10_000) for (const [k, v] of this.failures) if (now - v.since >= this.windowMs) this.failures.delete(k);
  }
}
