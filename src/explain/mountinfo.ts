// /proc/<pid>/mountinfo as the container sees it: mount points there are relative to the
// process's root, so they are the paths a process inside uses. Masked and read-only paths
// are judged from the topmost mount at each path (the last line for it).
import type { MountFact, PathFact } from './types.ts';

export interface MountEntry {
  mountPoint: string;
  root: string;
  /** Per-mount options (ro/rw, nosuid...). */
  options: string[];
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6) continue;
    out.push({
      root: unescape(left[3]!),
      mountPoint: unescape(left[4]!),
      options: left[5]!.split(','),
      optional: left.slice(6),
      fsType: right[0] ?? '',
      source: unescape(right[1] ?? ''),
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

export function toMountFacts(entries: readonly MountEntry[]): MountFact[] {
  return entries.map((e) => ({
    Destination: e.mountPoint,
    Type: e.fsType,
    Source: e.source,
    Root: e.root,
    Options: e.options.join(','),
    ReadOnly: e.options.includes('ro'),
    Propagation: e.optional.length ? e.optional.join(' ') : 'private',
  }));
}

function topmost(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.mountPoint === path) return entries[i];
  return undefined;
}

/** `exists` tells whether the path is there in the container (for "absent"). */
export function maskedState(entries: readonly MountEntry[], path: string, exists: boolean): PathFact {
  const m = topmost(entries, path);
  if (m) {
    // runc binds the container's /dev/null over files and mounts an empty ro tmpfs over directories.
    if (m.root === '/null' || m.root.endsWith('/null')) return { Path: path, State: 'masked', How: '/dev/null bind' };
    if (m.fsType === 'tmpfs' && m.options.includes('ro')) return { Path: path, State: 'masked', How: 'read-only tmpfs' };
    if (m.options.includes('ro')) return { Path: path, State: 'readonly', How: `read-only ${m.fsType} mount` };
  }
  return { Path: path, State: exists ? 'none' : 'absent', How: '' };
}

/** The mount a path lives on: the last mounted of those whose mount point is the path or a parent of it. */
function covering(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const p = e.mountPoint;
    const under = p === path || p === '/' || path.startsWith(p.endsWith('/') ? p : p + '/');
    if (under && (!best || p.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/** Read-only when the mount holding the path is: its own ro bind, or a read-only rootfs. */
export function readonlyState(entries: readonly MountEntry[], path: string, exists: boolean): PathFact {
  const m = exists ? covering(entries, path) : undefined;
  if (m?.options.includes('ro')) {
    const bind = m.root !== '/' ? 'bind' : 'mount';
    return { Path: path, State: 'readonly', How: `read-only ${m.fsType} ${bind}` };
  }
  return { Path: path, State: exists ? 'none' : 'absent', How: '' };
}
