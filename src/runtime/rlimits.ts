// --ulimit values become process.rlimits. A hard limit above the daemon's own cannot be
// granted (root here lacks CAP_SYS_RESOURCE), and runc would only fail at start with an
// obscure setrlimit error, so it is refused up front with a clear message.
import { badParameter } from '../util/errors.ts';
import type { OciRlimit, RawJsonNumber, Ulimit } from './types.ts';

// Node 26 has JSON.rawJSON; the TypeScript lib for our target does not declare it yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): RawJsonNumber }).rawJSON;

// Docker's (go-units) ulimit names; "as" is deliberately absent there too.
const NAMES = new Set([
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc',
  'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
]);

const UNLIMITED = 2n ** 64n - 1n;

/** Docker sends -1 for "unlimited"; rlimits are uint64. */
function toRlimit(v: number): bigint {
  return v < 0 ? UNLIMITED : BigInt(Math.trunc(v));
}

function toJsonValue(v: bigint): number | RawJsonNumber {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : rawJSON(v.toString());
}

export function containerRlimits(ulimits: readonly Ulimit[] | null | undefined, hostHard: Record<string, bigint | 'unlimited'>): OciRlimit[] {
  const out: OciRlimit[] = [];
  for (const u of ulimits ?? []) {
    if (!NAMES.has(u.Name)) throw badParameter(`invalid ulimit type: ${u.Name}`);
    const soft = toRlimit(u.Soft);
    const hard = toRlimit(u.Hard);
    if (soft > hard) throw badParameter(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    const max = hostHard[u.Name];
    if (max !== undefined && max !== 'unlimited' && hard > max) {
      const shown = hard === UNLIMITED ? 'unlimited' : String(hard);
      throw badParameter(`ulimit ${u.Name}: hard limit ${shown} exceeds the daemon's hard limit ${max}`);
    }
    out.push({ type: 'RLIMIT_' + u.Name.toUpperCase(), hard: toJsonValue(hard), soft: toJsonValue(soft) });
  }
  return out;
}
