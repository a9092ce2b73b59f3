// Go's time.ParseDuration ("1h30m", "1.5s", "300ms") in nanoseconds, and the Duration
// String() form for the rare place it is printed.

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseGoDuration(s: string): number {
  const orig = s;
  const q = JSON.stringify(orig);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration ${q}`);
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    if (m[1] === '' && (m[3] === undefined || m[3] === '')) throw new Error(`time: invalid duration ${q}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new Error(`time: missing unit in duration ${q}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u[0])} in duration ${q}`);
    s = s.slice(u[0].length);
    total += Number(m[1] || '0') * unit + (m[3] ? Math.round(Number('0.' + m[3]) * unit) : 0);
  }
  if (total > 9223372036854775807) throw new Error(`time: invalid duration ${q}`);
  return neg ? -total : total;
}
