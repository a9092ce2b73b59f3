// The container's mount table as Docker builds it: the default pseudo-filesystems, then
// the user's mounts (/etc files, --tmpfs, volumes and binds) parents before children.
// A user mount replaces the default at the same destination; a user /dev replaces
// every default under /dev.
import { posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import type { OciMount } from './types.ts';

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** Docker's default mounts (oci/defaults.go), /dev/shm without its size yet. */
export function defaultMounts(): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777'] },
  ];
}

// Mount flags that cancel each other; the last one given wins (moby/sys/mount's merge rules).
const FLAG_GROUP: Record<string, string> = {
  ro: 'ro', rw: 'ro', suid: 'suid', nosuid: 'suid', dev: 'dev', nodev: 'dev', exec: 'exec', noexec: 'exec',
  sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount', mand: 'mand', nomand: 'mand',
  atime: 'atime', noatime: 'atime', diratime: 'diratime', nodiratime: 'diratime', bind: 'bind', rbind: 'rbind',
  relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Merges tmpfs options so later ones override earlier conflicting ones, keeping first-seen order. */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const opt = options[i]!;
    if (opt === 'defaults' || opt === '') continue;
    let key = FLAG_GROUP[opt];
    if (key === undefined) {
      const eq = opt.indexOf('=');
      const name = eq < 0 ? opt : opt.slice(0, eq);
      if (eq < 0 || !TMPFS_DATA.has(name)) throw badParameter(`invalid tmpfs option ${JSON.stringify(opt)}`);
      key = 'data:' + name;
    }
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(opt);
  }
  return out;
}

/** A --tmpfs mount: Docker's defaults (noexec nosuid nodev rprivate) overridden by the user's options. */
export function tmpfsMount(destination: string, data: string): OciMount {
  if (!posix.isAbsolute(destination)) throw badParameter(`invalid mount config for type "tmpfs": invalid mount path: '${destination}' mount path must be absolute`);
  if (posix.normalize(destination) === '/') throw badParameter(`invalid mount config for type "tmpfs": invalid specification: destination can't be '/'`);
  const user = data === '' ? [] : data.split(',');
  return {
    destination: posix.normalize(destination),
    type: 'tmpfs',
    source: 'tmpfs',
    options: mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...user]),
  };
}

/** A host file bound over one of /etc/hostname, /etc/hosts, /etc/resolv.conf. */
export function etcFileMount(destination: string, source: string, readonly: boolean): OciMount {
  return { destination, type: 'bind', source, options: readonly ? ['rbind', 'ro', 'rprivate'] : ['rbind', 'rprivate'] };
}

function depth(destination: string): number {
  return posix.normalize(destination).split('/').length;
}

export interface MountPlan {
  userMounts: OciMount[];
  shmSize: number;
  /** IpcMode none: no /dev/shm at all. */
  noShm: boolean;
  /** IpcMode host: the host's /dev/shm instead of a private tmpfs. */
  hostShm: boolean;
  readonlyRootfs: boolean;
  privileged: boolean;
  writableCgroups: boolean;
}

export function buildMounts(plan: MountPlan): OciMount[] {
  // Parents before children so a later mount is never hidden by an earlier one; stable
  // for equal depths, so the caller's order decides between siblings.
  const user = [...plan.userMounts].sort((a, b) => depth(a.destination) - depth(b.destination));
  const userDest = new Set(user.map((m) => posix.normalize(m.destination)));
  const userDev = userDest.has('/dev');
  const mounts: OciMount[] = [];
  for (const m of defaultMounts()) {
    if (userDest.has(m.destination)) continue;
    if (userDev && m.destination.startsWith('/dev/')) continue;
    if (m.destination === '/dev/shm') {
      if (plan.noShm) continue;
      if (plan.hostShm) {
        mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
        continue;
      }
      m.options.push(`size=${plan.shmSize}`);
    }
    if (plan.readonlyRootfs && !['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev'].includes(m.destination) && !m.options.includes('ro')) {
      m.options.push('ro');
    }
    if (plan.privileged && m.destination === '/sys') m.options = m.options.filter((o) => o !== 'ro');
    if (plan.writableCgroups && m.type === 'cgroup') m.options = m.options.filter((o) => o !== 'ro');
    mounts.push(m);
  }
  return [...mounts, ...user];
}
