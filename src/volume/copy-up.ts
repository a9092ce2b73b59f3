// The first use of an empty volume takes in what the image has at the mount's path, as
// dockerd's copyExistingContents does: every file with its owner, mode, times, xattrs and
// hard links, then the directory's own owner and mode onto the volume's root.
import { promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { copyMetadata, copyUp } from '../snapshot/lower-lookup.ts';

/** Copies the tree at src (a directory) into dst (an existing directory), unless dst has entries. */
export async function copyIntoEmptyVolume(src: string, dst: string): Promise<boolean> {
  if ((await fsp.readdir(dst)).length > 0) return false;
  const links = new Map<string, string>();
  await copyChildren(src, dst, links);
  const st = await fsp.stat(src);
  await fsp.chown(dst, st.uid, st.gid);
  await fsp.chmod(dst, st.mode & 0o7777);
  return true;
}

async function copyChildren(src: string, dst: string, links: Map<string, string>): Promise<void> {
  for (const name of await fsp.readdir(src)) {
    const from = join(src, name);
    const to = join(dst, name);
    const st = await fsp.lstat(from);
    if (st.isDirectory()) {
      await fsp.mkdir(to, { mode: 0o700 });
      await copyChildren(from, to, links);
      await copyMetadata(from, st, to);
      continue;
    }
    if (st.isSocket()) continue; // a socket is bound by a process, not copied
    if (await linked(st, to, links)) continue;
    await copyUp({ path: from, st }, to);
  }
}

/** A second name of an inode already copied becomes a hard link to the copy. */
async function linked(st: Stats, to: string, links: Map<string, string>): Promise<boolean> {
  if (st.nlink < 2 || st.isSymbolicLink()) return false;
  const key = `${st.dev}:${st.ino}`;
  const first = links.get(key);
  if (!first) {
    links.set(key, to);
    return false;
  }
  await fsp.link(first, to);
  return true;
}
