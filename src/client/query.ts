// URL encoding exactly as Go's net/url does it for the docker client: query keys sorted,
// values QueryEscape'd (space as '+'), paths escaped except for '/', ':', '@' and friends.

export type Query = Record<string, string | string[] | undefined>;

function escapeWith(s: string, keep: (c: string) => boolean, spacePlus: boolean): string {
  let out = '';
  for (const b of Buffer.from(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && keep(c)) out += c;
    else if (c === ' ' && spacePlus) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const UNRESERVED = (c: string) => /[A-Za-z0-9\-_.~]/.test(c);

export function queryEscape(s: string): string {
  return escapeWith(s, UNRESERVED, true);
}

export function escapePath(p: string): string {
  return escapeWith(p, (c) => UNRESERVED(c) || '$&+,/:;=@'.includes(c), false);
}

/** url.Values.Encode(): keys in order, each value repeated under its key; undefined skipped. */
export function encodeQuery(q: Query): string {
  const parts: string[] = [];
  for (const key of Object.keys(q).sort()) {
    const v = q[key];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${queryEscape(key)}=${queryEscape(one)}`);
  }
  return parts.join('&');
}

/** docker's filters.Args as the `filters` query value: {"key":{"value":true}}, keys sorted. */
export function encodeFilters(filters: Map<string, string[]>): string | undefined {
  if (filters.size === 0) return undefined;
  const obj: Record<string, Record<string, boolean>> = {};
  for (const k of [...filters.keys()].sort()) {
    obj[k] = {};
    for (const v of [...filters.get(k)!].sort()) obj[k][v] = true;
  }
  // encoding/json escapes HTML characters.
  return JSON.stringify(obj).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
