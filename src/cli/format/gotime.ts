// Times printed as Go prints them: time.Time.String() ("2006-01-02 15:04:05 -0700 MST")
// and RFC 3339, in the local time zone.

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function zoneName(d: Date, offsetMin: number): string {
  if (offsetMin === 0 && (!process.env.TZ || /^(UTC|Etc\/UTC|UTC0|:?UTC|GMT|Etc\/GMT)$/.test(process.env.TZ))) return 'UTC';
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (/^[A-Z]{2,5}$/.test(name)) return name;
  } catch {
    // fall through
  }
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return sign + pad(Math.floor(abs / 60)) + (abs % 60 ? pad(abs % 60) : '');
}

/** time.Unix(sec, 0).String() */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)} ${zoneName(d, off)}`;
}

/** time.Unix(sec, 0).Format(time.RFC3339) */
export function goRFC3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}
