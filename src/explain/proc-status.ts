// The lines of /proc/<pid>/status that say how a process is confined: capability masks,
// no_new_privs, seccomp, and the ids it runs with.
import { capsFromMask } from '../runtime/capabilities.ts';
import type { CapabilityFacts, IdMapEntry } from './types.ts';

export interface ProcStatus {
  caps: CapabilityFacts;
  noNewPrivs: boolean;
  seccomp: number;
  seccompFilters: number;
  uid: number[];
  gid: number[];
  groups: number[];
}

export function parseStatus(text: string): ProcStatus {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const caps = (key: string) => {
    const v = fields.get(key);
    return v && /^[0-9a-f]+$/i.test(v) ? capsFromMask(v) : [];
  };
  const ints = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter((s) => s !== '').map(Number);
  const int = (key: string, def: number) => {
    const v = fields.get(key);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : def;
  };
  return {
    caps: { Effective: caps('CapEff'), Permitted: caps('CapPrm'), Inheritable: caps('CapInh'), Bounding: caps('CapBnd'), Ambient: caps('CapAmb') },
    noNewPrivs: fields.get('NoNewPrivs') === '1',
    seccomp: int('Seccomp', -1),
    seccompFilters: int('Seccomp_filters', 0),
    uid: ints('Uid'),
    gid: ints('Gid'),
    groups: ints('Groups'),
  };
}

/** /proc/<pid>/uid_map or gid_map: "<inside> <outside> <count>" per line. */
export function parseIdMap(text: string): IdMapEntry[] {
  const out: IdMapEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    out.push({ ContainerId: Number(f[0]), HostId: Number(f[1]), Size: Number(f[2]) });
  }
  return out;
}

/** The name of `uid` in an /etc/passwd text, or "". */
export function userName(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[2] === String(uid)) return f[0]!;
  }
  return '';
}

/** The inode in a namespace link ("pid:[4026531836]"), or 0. */
export function nsInode(link: string): number {
  const m = /\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : 0;
}
