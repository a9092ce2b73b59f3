// Deterministic tars of directory trees, in Docker's layer style: names relative without
// "./", directories with a trailing "/", children sorted by name right after their parent,
// mtimes in whole seconds, no user/group names. The same tree always gives the same bytes,
// so a layer packed twice has the same diffId.
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { llistxattr, lgetxattr, hasCode } from '../util/native.ts';
import { completeHeader, encodeHeader, paddingFor } from './tar-header.ts';
import type { TarEntryType, TarHeader } from './tar-header.ts';

// overlayfs keeps its bookkeeping in trusted.overlay.*; it describes this host's layout,
// never the content, so it never goes into an archive.
const INTERNAL_XATTR = /^trusted\.overlay\./;
const OPAQUE_XATTR = 'trusted.overlay.opaque';
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

// Small entries are gathered into chunks of about this size before being yielded.
const BATCH = 64 * 1024;
const READ_CHUNK = 256 * 1024;

export interface PackOptions {
  /** Name under which dir appears in the archive (e.g. "etc" gives "etc/", "etc/passwd").
   * Without it, entries are relative to dir and dir itself is not an entry. dir may then
   * also be a single file. */
  root?: string;
}

/** A tar of the tree at dir (owners, modes, mtimes, symlinks, hardlinks, devices, fifos,
 * xattrs; sockets skipped). */
export function packDir(dir: string, opts: PackOptions = {}): AsyncGenerator<Buffer> {
  return pack(dir, opts.root, false);
}

export interface OverlayDiffOptions {
  /** Only the paths ("/etc/passwd") it accepts are entries (a directory's children are still each asked). */
  include?: (path: string) => boolean;
  /** The owners as the archive gives them (from the host's ids to a user namespace's). */
  mapIds?: (uid: number, gid: number) => [number, number];
}

/** A Docker layer tar of an overlay upper dir: whiteouts (char device 0:0) become empty
 * ".wh.NAME" files and opaque directories get a "DIR/.wh..wh..opq" entry. */
export function packOverlayDiff(upperDir: string, opts: OverlayDiffOptions = {}): AsyncGenerator<Buffer> {
  return pack(upperDir, undefined, true, opts);
}

function major(rdev: number): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}

function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
}

function typeOf(st: Stats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // socket
}

function readXattrs(path: string): Record<string, Buffer> {
  let names: string[];
  try {
    names = llistxattr(path);
  } catch (err) {
    if (hasCode(err, 'EOPNOTSUPP')) return {};
    throw err;
  }
  const out: Record<string, Buffer> = {};
  for (const name of names.filter((n) => !INTERNAL_XATTR.test(n)).sort()) {
    const value = lgetxattr(path, name);
    if (value) out[name] = value;
  }
  return out;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function* pack(top: string, root: string | undefined, overlay: boolean, opts: OverlayDiffOptions = {}): AsyncGenerator<Buffer> {
  const { include, mapIds } = opts;
  const firstNames = new Map<string, string>(); // "dev:ino" -> first archive name (hardlinks)
  let batch: Buffer[] = [];
  let batched = 0;
  const push = (b: Buffer) => {
    batch.push(b);
    batched += b.length;
  };
  const flush = (): Buffer | undefined => {
    if (batched === 0) return undefined;
    const out = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return out;
  };

  // One entry: pushes its header (and, for files, yields its content).
  async function* entry(abs: string, name: string, st: Stats): AsyncGenerator<Buffer> {
    const type = typeOf(st);
    if (!type) return;
    const [uid, gid] = mapIds ? mapIds(st.uid, st.gid) : [st.uid, st.gid];
    const base: Partial<TarHeader> = {
      mode: st.mode & 0o7777,
      uid,
      gid,
      mtime: st.mtime,
    };
    if (overlay && type === 'char' && st.rdev === 0) {
      const slash = name.lastIndexOf('/');
      const whiteout = name.slice(0, slash + 1) + WHITEOUT_PREFIX + name.slice(slash + 1);
      push(encodeHeader(completeHeader({ ...base, name: whiteout, type: 'file', mode: 0o600, size: 0 })));
      return;
    }
    const xattrs = readXattrs(abs);
    if (type !== 'dir' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = firstNames.get(key);
      if (first !== undefined) {
        push(encodeHeader(completeHeader({ ...base, name, type: 'hardlink', linkname: first, xattrs })));
        return;
      }
      firstNames.set(key, name);
    }
    const header = completeHeader({
      ...base,
      name: type === 'dir' ? name + '/' : name,
      type,
      size: type === 'file' ? st.size : 0,
      linkname: type === 'symlink' ? await fsp.readlink(abs) : '',
      devmajor: type === 'char' || type === 'block' ? major(st.rdev) : 0,
      devminor: type === 'char' || type === 'block' ? minor(st.rdev) : 0,
      xattrs,
    });
    push(encodeHeader(header));
    if (type === 'dir' && overlay) {
      const opaque = lgetxattr(abs, OPAQUE_XATTR);
      if (opaque?.toString() === 'y') {
        push(encodeHeader(completeHeader({ ...base, mode: st.mode & 0o777, name: `${name}/${OPAQUE_MARKER}`, type: 'file', size: 0 })));
      }
    }
    if (type === 'file' && st.size > 0) {
      const ready = flush();
      if (ready) yield ready;
      yield* fileContent(abs, st.size);
      push(paddingFor(st.size));
    }
  }

  async function* walk(absDir: string, relDir: string): AsyncGenerator<Buffer> {
    const names = (await fsp.readdir(absDir)).sort(byteOrder);
    for (const n of names) {
      const abs = join(absDir, n);
      const rel = relDir ? `${relDir}/${n}` : n;
      const st = await fsp.lstat(abs);
      if (!include || include(`/${rel}`)) yield* entry(abs, rel, st);
      if (st.isDirectory()) yield* walk(abs, rel);
      if (batched >= BATCH) yield flush()!;
    }
  }

  const st = await fsp.lstat(top);
  const rootName = root?.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
  if (rootName) yield* entry(top, rootName, st);
  else if (!st.isDirectory()) yield* entry(top, top.replace(/\/+$/, '').split('/').pop()!, st);
  if (st.isDirectory()) yield* walk(top, rootName ?? '');
  push(Buffer.alloc(1024));
  yield flush()!;
}

/** Exactly size bytes of the file; a file that shrank while being read is an error (the
 * header already promised its size). */
async function* fileContent(path: string, size: number): AsyncGenerator<Buffer> {
  // O_NOFOLLOW: a file swapped for a symlink since the lstat must not pull in its target.
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) throw new Error(`${path}: file shrank while being archived`);
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
