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

/** The changes of an upper dir over its lower dirs (topmost first), sorted by path. */
export async function overlayChanges(upper: string, lowers: readonly string[]): Promise<Change[]> {
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(join(upper, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const st = await fsp.lstat(join(upper, path));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: `/${path}`, Kind: 2 });
        continue;
      }
      out.push({ Path: `/${path}`, Kind: (await inLowers(lowers, path)) ? 0 : 1 });
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
