// Finding a path in a stack of read-only layer dirs the way overlayfs would show it
// (top layer first, whiteouts and opaque dirs hiding what is below), and copying such a
// file up into the layer being written. Needed when a layer hardlinks to a file that an
// earlier layer holds, or creates a file under a directory only a lower layer has.
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { hasCode, lgetxattr, llistxattr, lsetxattr, mknod } from '../util/native.ts';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
/** overlayfs bookkeeping: never copied from a tar or between layers. */
export const INTERNAL_XATTR = /^trusted\.overlay\./;

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(path);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR')) return null;
    throw err;
  }
}

export interface LowerHit {
  path: string;
  st: Stats;
}

/**
 * The topmost visible version of rel ("a/b/c", normalized) in lowerDirs (top first), or
 * null when no layer shows it. Never follows a symlink: a symlink on the way hides the path
 * like any other non-directory would.
 */
export async function lookupLower(lowerDirs: readonly string[], rel: string): Promise<LowerHit | null> {
  const parts = rel === '' ? [] : rel.split('/');
  for (const lower of lowerDirs) {
    let opaque = false;
    let hidden = false;
    let missing = false;
    let abs = lower;
    for (let i = 0; i < parts.length; i++) {
      abs = join(abs, parts[i]!);
      const st = await lstatOrNull(abs);
      if (!st) {
        missing = true;
        break;
      }
      if (isWhiteout(st)) return null;
      if (i < parts.length - 1) {
        if (!st.isDirectory()) {
          hidden = true;
          break;
        }
        if (lgetxattr(abs, OPAQUE_XATTR)?.toString() === 'y') opaque = true;
      } else {
        return { path: abs, st };
      }
    }
    if (parts.length === 0) return { path: lower, st: await fsp.lstat(lower) };
    if (hidden) return null;
    // An opaque directory on the way hides everything below this layer.
    if (missing && opaque) return null;
  }
  return null;
}

/** Copies the extended attributes of src onto dst (except overlayfs' own). */
export function copyXattrs(src: string, dst: string): void {
  let names: string[];
  try {
    names = llistxattr(src);
  } catch (err) {
    if (hasCode(err, 'EOPNOTSUPP')) return;
    throw err;
  }
  for (const name of names) {
    if (INTERNAL_XATTR.test(name)) continue;
    const value = lgetxattr(src, name);
    if (value) lsetxattr(dst, name, value);
  }
}

/** Owner, mode, xattrs and times of st/src onto dst (order matters: chown clears setuid
 * and file capabilities, so chmod and xattrs come after it). */
export async function copyMetadata(src: string, st: Stats, dst: string): Promise<void> {
  await fsp.lchown(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) await fsp.chmod(dst, st.mode & 0o7777);
  copyXattrs(src, dst);
  await fsp.lutimes(dst, st.atime, st.mtime);
}

/** Copies one non-directory lower file (regular, symlink, device, fifo) to dst, which must
 * not exist. */
export async function copyUp(hit: LowerHit, dst: string): Promise<void> {
  const { st, path } = hit;
  if (st.isFile()) {
    await fsp.copyFile(path, dst, constants.COPYFILE_EXCL);
  } else if (st.isSymbolicLink()) {
    await fsp.symlink(await fsp.readlink(path), dst);
  } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
    const type = st.mode & constants.S_IFMT;
    const rdev = BigInt(st.rdev);
    const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    mknod(dst, type | 0o600, major, minor);
  } else {
    throw new Error(`cannot copy up ${path}: unsupported file type`);
  }
  await copyMetadata(path, st, dst);
}
