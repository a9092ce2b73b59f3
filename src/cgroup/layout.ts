// Where the cgroup controllers are mounted, and so where a container's cgroup lives.
// On v2 (a cgroup2 filesystem at /sys/fs/cgroup) one tree holds every controller; on v1
// (and the "hybrid" layout, whose cgroup2 mount at /sys/fs/cgroup/unified has no
// controllers) each controller has its own mount. runc's cgroupfs driver puts an absolute
// cgroupsPath P at <mount>/P in each hierarchy.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CgroupV1Reader, type V1Dirs } from './v1.ts';
import { CgroupV2Reader } from './v2.ts';
import type { CgroupStats } from './types.ts';

export type CgroupLayout =
  | { version: 2; root: string }
  /** Controller name ("memory", "cpuacct", "name=systemd"...) -> its mount point. */
  | { version: 1; mounts: Record<string, string> };

/** Mount points in mountinfo escape space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Reads the layout from /proc/self/mountinfo text; `cgroupRoot` is where a v2 tree would be. */
export function parseCgroupMounts(mountinfo: string, cgroupRoot = '/sys/fs/cgroup'): CgroupLayout {
  const mounts: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    // <id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <source> <superopts>
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescapeMount(left.split(' ')[4] ?? '');
    const [fsType, , superOpts = ''] = right.split(' ');
    if (fsType === 'cgroup2') {
      if (mountPoint === cgroupRoot) return { version: 2, root: mountPoint };
      unified ??= mountPoint;
    } else if (fsType === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (opt === 'rw' || opt === 'ro' || opt.startsWith('release_agent=') || opt === 'clone_children' || opt === 'noprefix' || opt === 'xattr') continue;
        mounts[opt] ??= mountPoint;
      }
    }
  }
  if (Object.keys(mounts).length === 0 && unified) return { version: 2, root: unified };
  return { version: 1, mounts };
}

export async function detectCgroupLayout(mountinfoPath = '/proc/self/mountinfo'): Promise<CgroupLayout> {
  return parseCgroupMounts(await fsp.readFile(mountinfoPath, 'utf8'));
}

/** A container's directory in each v1 controller it is read from. */
export function v1Dirs(layout: { mounts: Record<string, string> }, cgroupPath: string): V1Dirs {
  const dir = (c: string) => (layout.mounts[c] ? join(layout.mounts[c], cgroupPath) : undefined);
  return { cpu: dir('cpu'), cpuacct: dir('cpuacct'), memory: dir('memory'), blkio: dir('blkio'), pids: dir('pids') };
}

/** The stats reader of the cgroup at `cgroupPath` (as in the OCI spec, e.g. "/berth/<id>"). */
export function openCgroupStats(layout: CgroupLayout, cgroupPath: string): CgroupStats {
  return layout.version === 2 ? new CgroupV2Reader(join(layout.root, cgroupPath)) : new CgroupV1Reader(v1Dirs(layout, cgroupPath));
}

/** The directory whose cgroup.procs lists the group's processes: on v1 one hierarchy
 * that runc always joins (pids, else freezer, memory or devices). */
export function procsDir(layout: CgroupLayout, cgroupPath: string): string | undefined {
  if (layout.version === 2) return join(layout.root, cgroupPath);
  for (const c of ['pids', 'freezer', 'memory', 'devices', 'cpu']) {
    if (layout.mounts[c]) return join(layout.mounts[c], cgroupPath);
  }
  return undefined;
}
