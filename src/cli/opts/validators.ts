// The per-value checks docker's flags apply as they are parsed (opts.Validate*), with its
// error texts.
import { isIP } from 'node:net';

export function validateEnv(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? val : val.slice(0, eq);
  if (k === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = process.env[k];
  return v !== undefined ? `${k}=${v}` : val;
}

export function validateLabel(val: string): string {
  const eq = val.indexOf('=');
  const key = (eq < 0 ? val : val.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${val}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return val;
}

/** net.ParseIP then IP.String(): the canonical text of an address, or undefined. */
export function canonicalIP(s: string): string | undefined {
  const v = s.trim();
  if (isIP(v) === 4) {
    if (v.split('.').some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
    return v;
  }
  if (isIP(v) === 6 && !v.includes('%')) {
    const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(v) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(v);
    if (mapped) return mapped[1];
    return canonicalIPv6(v);
  }
  return undefined;
}

function canonicalIPv6(v: string): string {
  // Expand to 8 groups, then print as Go does (RFC 5952: longest zero run as "::").
  let head = v;
  let tail = '';
  const dbl = v.indexOf('::');
  if (dbl >= 0) {
    head = v.slice(0, dbl);
    tail = v.slice(dbl + 2);
  }
  const toGroups = (s: string): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const b = part.split('.').map(Number);
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const groups = dbl >= 0 ? [...h, ...new Array(8 - h.length - t.length).fill(0), ...t] : h;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

export function validateIPAddress(val: string): string {
  const ip = canonicalIP(val);
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

const DOMAIN_RE = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

export function validateDNSSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  if (!/[a-zA-Z]/.test(v)) throw new Error(`${v} is not a valid domain`);
  const m = DOMAIN_RE.exec(v);
  if (m && m[1].length < 255) return m[1];
  throw new Error(`${v} is not a valid domain`);
}

export function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? '' : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v[0] === '[' && v[v.length - 1] === ']') v = v.slice(1, -1);
    if (canonicalIP(v) === undefined) throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return `${k}:${v}`;
}

export function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error('bad format for links: ' + val);
  return val;
}

const SYSCTL_NAMES = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? '' : val.slice(0, eq);
  if (eq < 0 || k === '') throw new Error(`sysctl '${val}' is not allowed`);
  if (SYSCTL_NAMES.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.')) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

/** net.ParseMAC: 6, 8 or 20 bytes as xx:xx.., xx-xx.. or xxxx.xxxx... */
export function validateMAC(val: string): string {
  const s = val.trim();
  const ok = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$/.test(s) || /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){7}$/.test(s) || /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){19}$/.test(s) || /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}$/.test(s) || /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){3}$/.test(s) || /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){9}$/.test(s);
  if (!ok) throw new Error(`address ${s}: invalid MAC address`);
  return val;
}

export function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

export function validateDeviceCgroupRule(val: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(val)) return val;
  throw new Error(`invalid device cgroup format '${val}'`);
}
