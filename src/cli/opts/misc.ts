// Smaller option value parsers: ulimits, block-IO device limits, devices, restart policy,
// CPUs, memory sizes (docker's opts and go-units).
import { ramInBytes } from '../format/units.ts';

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(v);
}

export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const limits = val.slice(eq + 1).split(':');
  let soft: number;
  let hard: number;
  if (limits.length === 2) {
    hard = parseInt64(limits[1]);
    soft = parseInt64(limits[0]);
  } else if (limits.length === 1) {
    soft = parseInt64(limits[0]);
    hard = soft;
  } else throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  if (hard !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Hard: hard, Soft: soft };
}

export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

export function parseThrottleBps(val: string): ThrottleDevice {
  const c = val.indexOf(':');
  const k = c < 0 ? '' : val.slice(0, c);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  let rate: number;
  try {
    rate = ramInBytes(val.slice(c + 1));
  } catch {
    rate = -1;
  }
  if (rate < 0) throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
  return { Path: k, Rate: rate };
}

export function parseThrottleIOps(val: string): ThrottleDevice {
  const c = val.indexOf(':');
  const k = c < 0 ? '' : val.slice(0, c);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  const v = val.slice(c + 1);
  if (!/^\d+$/.test(v)) throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  return { Path: k, Rate: Number(v) };
}

export function parseWeightDevice(val: string): { Path: string; Weight: number } {
  const c = val.indexOf(':');
  const k = c < 0 ? '' : val.slice(0, c);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  const v = val.slice(c + 1);
  const w = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(w <= 65535) || (w > 0 && (w < 10 || w > 1000))) throw new Error(`invalid weight for device: ${val}`);
  return { Path: k, Weight: w };
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

function cleanPath(p: string): string {
  const abs = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length && parts[parts.length - 1] !== '..') parts.pop();
      else if (!abs) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const out = (abs ? '/' : '') + parts.join('/');
  return out || (abs ? '/' : '.');
}

/** --device host[:container][:perms] for a Linux daemon (validateLinuxPath + parseLinuxDevice). */
export function parseDevice(val: string): DeviceMapping {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let validated: string;
  if (split.length === 1) {
    containerPath = split[0];
    validated = cleanPath(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1])) {
      containerPath = split[0];
      validated = `${cleanPath(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1];
      validated = `${split[0]}:${cleanPath(containerPath)}`;
    }
  } else {
    containerPath = split[1];
    if (!validDeviceMode(split[2])) throw new Error(`bad mode specified: ${split[2]}`);
    validated = val;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = validated.split(':');
  let src = arr[0];
  let dst = '';
  let perms = 'rwm';
  if (arr.length === 3) {
    perms = arr[2];
    if (validDeviceMode(arr[1])) perms = arr[1];
    else dst = arr[1];
  } else if (arr.length === 2) {
    if (validDeviceMode(arr[1])) perms = arr[1];
    else dst = arr[1];
  }
  src = arr[0];
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

export function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const c = policy.indexOf(':');
  const k = c < 0 ? policy : policy.slice(0, c);
  const v = c < 0 ? '' : policy.slice(c + 1);
  if (c >= 0 && k === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v !== '') {
    if (!/^[+-]?\d+$/.test(v)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    count = Number(v);
  }
  return { Name: k, MaximumRetryCount: count };
}

/** --cpus: a decimal number of CPUs to nano-CPUs, exactly (big.Rat in docker). */
export function parseCPUs(value: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value.trim() === value ? value : '');
  const frac = /^([+-]?)(\d+)\/(\d+)$/.exec(value);
  if (frac) {
    const num = BigInt(frac[2]) * 1_000_000_000n;
    const den = BigInt(frac[3]);
    if (den === 0n || num % den !== 0n) throw new Error(den === 0n ? `failed to parse ${value} as a rational number` : 'value is too precise');
    return Number((frac[1] === '-' ? -1n : 1n) * (num / den));
  }
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) throw new Error(`failed to parse ${value} as a rational number`);
  const digits = (m[2] || '0') + (m[3] ?? '');
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0) - 9; // value = digits * 10^-(scale+9) * 1e9
  let n = BigInt(digits);
  if (scale > 0) {
    const div = 10n ** BigInt(scale);
    if (n % div !== 0n) throw new Error('value is too precise');
    n /= div;
  } else if (scale < 0) {
    n *= 10n ** BigInt(-scale);
  }
  scale = 0;
  return Number(m[1] === '-' ? -n : n);
}

/** --memory-swap: "-1" is unlimited, otherwise a size. */
export function parseMemSwap(value: string): number {
  return value === '-1' ? -1 : ramInBytes(value);
}
