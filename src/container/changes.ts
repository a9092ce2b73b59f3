// `docker diff`: what a container changed, read from its overlay's upper dir. A whiteout
// (a character device 0:0) is a deletion; anything else there is a change when the layers
// under it have that path (a file copied up, a directory holding a change) and an addition
// when they do not. Kinds as the API numbers them: 0 modified, 1 added, 2 deleted.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

async function inLowers(lowers: readonly string[], rel: string): Promise<boolean> {
  for (const l of lowers) {
    try {
      await fsp.lstat(join(l, rel));
      return true;
    } catch {
      // not in this layer
    }
  }
  return false;
}

// What the runtime makes in a container's root for its mounts (dockerd keeps these in an
// "init" layer under the container's, so `docker diff` never shows them; berth has no such
// layer, so they are left out here).
const MOUNT_TARGETS = new Set(['/dev', '/dev/pts', '/dev/shm', '/dev/console', '/proc', '/sys', '/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname', '/etc/mtab']);

/** The changes of an upper dir over its lower dirs (topmost first), sorted by path. */
export async function overlayChanges(upper: string, lowers: readonly string[]): Promise<Change[]> {
  const all = await rawChanges(upper, lowers);
  const kept = all.filter((c) => !MOUNT_TARGETS.has(c.Path));
  // A directory of the layers below is in the upper dir only for what changed in it: when
  // that was only mount targets, it did not change.
  const within = (list: Change[], dir: string) => list.some((o) => o.Path.startsWith(`${dir}/`));
  return kept.filter((c) => !(c.dir && c.Kind === 0 && within(all, c.Path) && !within(kept, c.Path))).map(({ Path, Kind }) => ({ Path, Kind }));
}

async function rawChanges(upper: string, lowers: readonly string[]): Promise<Array<Change & { dir: boolean }>> {
  const out: Array<Change & { dir: boolean }> = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(join(upper, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const st = await fsp.lstat(join(upper, path));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: `/${path}`, Kind: 2, dir: false });
        continue;
      }
      out.push({ Path: `/${path}`, Kind: (await inLowers(lowers, path)) ? 0 : 1, dir: st.isDirectory() });
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** The lower dirs of an overlay mount's options ("lowerdir=a:b:c"). */
export function lowerDirs(options: readonly string[]): string[] {
  const o = options.find((x) => x.startsWith('lowerdir='));
  return o ? o.slice('lowerdir='.length).split(':') : [];
}
