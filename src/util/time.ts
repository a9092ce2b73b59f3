// Timestamps as Go formats them (Docker's API and logs), and go-units' human durations.

const ZERO_TIME = '0001-01-01T00:00:00Z';
export { ZERO_TIME };

// Date has millisecond precision; hrtime adds the nanoseconds within the millisecond so
// that ordering by timestamp matches ordering of events.
const hrBase = process.hrtime.bigint();
const msBase = BigInt(Date.now()) * 1_000_000n;

/** Nanoseconds since the epoch. */
export function nowNanos(): bigint {
  return msBase + (process.hrtime.bigint() - hrBase);
}

function isoFromNanos(ns: bigint): { base: string; frac: string } {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return { base, frac };
}

/** Go's time.RFC3339Nano: fraction without trailing zeros. */
export function rfc3339Nano(ns: bigint = nowNanos()): string {
  const { base, frac } = isoFromNanos(ns);
  const trimmed = frac.replace(/0+$/, '');
  return trimmed ? `${base}.${trimmed}Z` : `${base}Z`;
}

/** Docker's RFC3339NanoFixed: always nine fraction digits (log timestamps). */
export function rfc3339NanoFixed(ns: bigint = nowNanos()): string {
  const { base, frac } = isoFromNanos(ns);
  return `${base}.${frac}Z`;
}

/** Parses an RFC3339 timestamp with up to nine fraction digits into nanoseconds. */
export function parseRfc3339(s: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return 0n;
  const ms = Date.parse(m[1] + m[3]);
  if (Number.isNaN(ms)) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export function isZeroTime(s: string | undefined): boolean {
  return !s || s.startsWith('0001-01-01');
}

/** go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", ... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** Unix seconds with an optional fraction ("1700000000.5"), as `since`/`until` carry them. */
export function parseUnixTimestamp(s: string): bigint | undefined {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) return undefined;
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
