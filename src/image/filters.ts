// Docker's filter helpers as the image endpoints use them (api/types/filters): key
// validation, label key[=value] lists, boolean filters and since/until timestamps.
import { badParameter } from '../util/errors.ts';

export type Filters = Record<string, string[]>;

function invalidFilter(key: string, values?: string[]): Error {
  let msg = `invalid filter '${key}`;
  if (values) msg += `=${values.join(',')}`;
  return badParameter(msg + "'");
}

export function validateFilters(filters: Filters | undefined, accepted: readonly string[]): void {
  for (const key of Object.keys(filters ?? {})) if (!accepted.includes(key)) throw invalidFilter(key);
}

export function has(filters: Filters | undefined, key: string): boolean {
  return !!filters && Object.hasOwn(filters, key);
}

export function values(filters: Filters | undefined, key: string): string[] {
  return (filters && Object.hasOwn(filters, key) ? filters[key] : undefined) ?? [];
}

/** Every "key" or "key=value" of the filter must be among labels (MatchKVList). */
export function matchKVList(filters: Filters | undefined, key: string, labels: Record<string, string> | null | undefined): boolean {
  const wanted = values(filters, key);
  if (wanted.length === 0) return true;
  if (!labels) return false;
  for (const w of wanted) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (!Object.hasOwn(labels, w)) return false;
    } else if (labels[w.slice(0, eq)] !== w.slice(eq + 1)) {
      return false;
    }
  }
  return true;
}

/** dangling=true|false style filters (GetBoolOrDefault). */
export function boolFilter(filters: Filters | undefined, key: string, dflt: boolean): boolean {
  if (!has(filters, key)) return dflt;
  const v = values(filters, key);
  if (v.length === 0) throw invalidFilter(key);
  const isFalse = v.includes('0') || v.includes('false');
  const isTrue = v.includes('1') || v.includes('true');
  if (isFalse === isTrue) throw invalidFilter(key, v);
  return isTrue;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; undefined when s is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  let total = 0;
  for (const part of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * DURATION_UNITS[part[2]];
  }
  return m[1] === '-' ? -total : total;
}

/**
 * A since/until value as Docker accepts it (GetTimestamp): a Go duration before now
 * ("10m"), RFC3339 dates with or without time and zone, or unix seconds[.nanos].
 * Returns nanoseconds since the epoch.
 */
export function parseTimestamp(value: string, nowMs = Date.now()): bigint {
  const dur = parseGoDuration(value);
  if (dur !== undefined) return BigInt(nowMs) * 1_000_000n - BigInt(Math.round(dur));
  const unix = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const d = /^(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:\d\d)?$/.exec(value);
  if (d) {
    const time = d[2] ? (d[2].length === 5 ? `${d[2]}:00` : d[2]) : '00:00:00';
    // Without a zone Docker reads the value in the daemon's local time.
    const ms = Date.parse(`${d[1]}T${time}${d[4] ?? ''}`);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt((d[3] ?? '').padEnd(9, '0'));
  }
  throw badParameter(`failed to parse value as time or duration: "${value}"`);
}
