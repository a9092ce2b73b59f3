// --since/--until values as docker's client sends them (api/types/time GetTimestamp):
// a duration ("10m") counts back from now, a date or RFC 3339 time becomes
// "seconds.nanoseconds", a Unix timestamp passes through.
import { parseGoDuration } from './duration.ts';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

export function getTimestamp(value: string, now: Date = new Date()): string {
  if (value !== '0') {
    try {
      const d = parseGoDuration(value);
      return String(Math.floor((now.getTime() - d / 1e6) / 1000));
    } catch {
      // not a duration
    }
  }
  const m = DATE_RE.exec(value);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
    let ms: number;
    if (zone === undefined) {
      ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
    } else {
      ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
      if (zone !== 'Z' && zone !== 'z') {
        const sign = zone[0] === '-' ? -1 : 1;
        ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      }
    }
    const nanos = frac ? frac.slice(1).padEnd(9, '0').slice(0, 9) : '000000000';
    return `${Math.floor(ms / 1000)}.${nanos}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse ${JSON.stringify(value)} as a date`);
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}
