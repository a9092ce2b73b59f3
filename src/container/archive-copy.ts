// `docker cp`'s three operations on a container root: stat a path, tar a resource out,
// extract a tar in. Every name is looked up through archive-path.ts (by directory fd,
// links followed as the container would), so neither a hostile image nor a running
// container changing its tree can make berthd read or write outside the root.
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readTar, TarWriter } from '../archive/tar.ts';
import type { TarHeader, TarWriterHeader } from '../archive/tar.ts';
import { normalizeEntryPath } from '../archive/entry-path.ts';
import { lgetxattr, lsetxattr, mknod, hasCode } from '../util/native.ts';
import { EngineError, badParameter, systemError } from '../util/errors.ts';
import { rfc3339Nano } from '../util/time.ts';
import { at, goFileMode, openDirAt, openRootDir, resolvePath, errnoError } from './archive-path.ts';
import type { ResolvedPath } from './archive-path.ts';

const O_PATH = 0o10000000;

export type IdMap = (uid: number, gid: number) => { uid: number; gid: number };

/** Docker's ContainerPathStat (JSON keys as Go's). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The value of the X-Docker-Container-Path-Stat header. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

/** Go's filepath.Base of the path as Docker sees it ("/" for the root, "." for "/x/."). */
export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

async function withOpenRoot<T>(root: string, fn: (rootFh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await openRootDir(root);
  try {
    return await fn(fh);
  } finally {
    await fh.close();
  }
}

async function withResolved<T>(rootFh: FileHandle, path: string, followFinal: boolean, fn: (r: ResolvedPath) => Promise<T>): Promise<T> {
  const r = await resolvePath(rootFh, path, { followFinal });
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

function nanos(st: Stats): bigint {
  return BigInt(Math.floor(st.mtimeMs)) * 1_000_000n;
}

async function statResolved(rootFh: FileHandle, path: string, r: ResolvedPath, st: Stats): Promise<PathStat> {
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    // Docker reports where the link leads, fully resolved inside the container.
    linkTarget = await withResolved(rootFh, path, true, async (t) => t.containerPath).catch(async () => fsp.readlink(r.hostPath));
  }
  return { name: baseName(path), size: st.size, mode: goFileMode(st), mtime: rfc3339Nano(nanos(st)), linkTarget };
}

/** HEAD's answer for path (final symlink not followed). Throws ENOENT when missing. */
export async function statPath(root: string, path: string): Promise<PathStat> {
  const abs = path.startsWith('/') ? path : `/${path}`;
  return withOpenRoot(root, (rootFh) =>
    withResolved(rootFh, abs, false, async (r) => statResolved(rootFh, abs, r, await r.lstat())),
  );
}

/**
 * Streams a tar of the resource at path onto out and ends it; `onStat` runs first (the
 * response's headers) and errors before it (ENOENT...) leave out untouched. Entries are
 * named as Docker's: a file by its base name, a directory as "<base>/..." ("/..." for the
 * root, "./..." for "dir/.").
 */
export async function archivePath(
  root: string, path: string, out: NodeJS.WritableStream, onStat: (s: PathStat) => void, toContainerIds?: IdMap,
): Promise<void> {
  const abs = path.startsWith('/') ? path : `/${path}`;
  await withOpenRoot(root, (rootFh) =>
    withResolved(rootFh, abs, false, async (r) => {
      const st = await r.lstat();
      onStat(await statResolved(rootFh, abs, r, st));
      const base = baseName(abs);
      const w = new TarWriter(out);
      // --userns-remap: the archive carries the ids the container sees, as Docker's.
      if (toContainerIds) {
        const add = w.add.bind(w);
        w.add = (h, body) => add({ ...h, ...toContainerIds(h.uid ?? 0, h.gid ?? 0) }, body);
      }
      const links = new Map<string, string>();
      if (st.isDirectory()) {
        const prefix = base === '/' ? '' : base;
        const dir = r.name ? await openDirAt(r.dir, r.name) : await fsp.open(at(r.dir), O_PATH | constants.O_DIRECTORY);
        try {
          await addEntry(w, links, r.dir, r.name, prefix, st);
          await addTree(w, links, dir, prefix);
        } finally {
          await dir.close();
        }
      } else {
        await addEntry(w, links, r.dir, r.name, base, st);
      }
      await w.finish();
    }),
  );
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function addTree(w: TarWriter, links: Map<string, string>, dir: FileHandle, prefix: string): Promise<void> {
  const names = (await fsp.readdir(at(dir))).sort(byBytes);
  for (const n of names) {
    let st: Stats;
    try {
      st = await fsp.lstat(at(dir, n));
    } catch (err) {
      if (hasCode(err, 'ENOENT')) continue; // removed meanwhile
      throw err;
    }
    const name = `${prefix}/${n}`;
    if (!st.isDirectory()) {
      await addEntry(w, links, dir, n, name, st);
      continue;
    }
    let sub: FileHandle;
    try {
      sub = await openDirAt(dir, n);
    } catch (err) {
      // Swapped for a link or a file since the lstat: skipped, never followed.
      if (hasCode(err, 'ELOOP', 'ENOTDIR', 'ENOENT')) continue;
      throw err;
    }
    try {
      await addEntry(w, links, dir, n, name, st);
      await addTree(w, links, sub, name);
    } finally {
      await sub.close();
    }
  }
}

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const d = BigInt(rdev);
  return { devmajor: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), devminor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)) };
}

/** One entry for `name` in dir (whose lstat is st). */
async function addEntry(w: TarWriter, links: Map<string, string>, dir: FileHandle, name: string, entryName: string, st: Stats): Promise<void> {
  const host = at(dir, name);
  const base: Omit<TarWriterHeader, 'type' | 'name'> = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  // As Docker's archiver: file capabilities travel with the file, other xattrs do not.
  const cap = name ? safeXattr(host, 'security.capability') : null;
  if (cap) base.xattrs = { 'security.capability': cap };
  if (st.isDirectory()) return w.add({ ...base, name: entryName + '/', type: 'dir' });
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) return w.add({ ...base, name: entryName, type: 'hardlink', linkname: first });
    links.set(key, entryName);
  }
  if (st.isSymbolicLink()) return w.add({ ...base, name: entryName, type: 'symlink', linkname: await fsp.readlink(host) });
  if (st.isCharacterDevice()) return w.add({ ...base, name: entryName, type: 'char', ...devNumbers(st.rdev) });
  if (st.isBlockDevice()) return w.add({ ...base, name: entryName, type: 'block', ...devNumbers(st.rdev) });
  if (st.isFIFO()) return w.add({ ...base, name: entryName, type: 'fifo' });
  if (!st.isFile()) return; // sockets are not archived
  // O_NOFOLLOW|O_NONBLOCK: a file swapped for a link or FIFO since the lstat is not opened.
  let fh: FileHandle;
  try {
    fh = await fsp.open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ELOOP')) return;
    throw err;
  }
  try {
    const now = await fh.stat();
    if (!now.isFile()) return;
    await w.add({ ...base, name: entryName, type: 'file', size: now.size }, fileBody(fh, now.size));
  } finally {
    await fh.close();
  }
}

function safeXattr(path: string, name: string): Buffer | null {
  try {
    return lgetxattr(path, name);
  } catch {
    return null;
  }
}

/** Exactly size bytes; a file that shrank meanwhile is padded with zeros (the header
 * already promised its size, and a short archive would lose every later entry). */
async function* fileBody(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const buf = Buffer.allocUnsafe(Math.min(256 * 1024, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - pos);
      return;
    }
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

// ---------------------------------------------------------------- extraction

export interface ExtractOptions {
  /** Refuse to replace a directory by a non-directory or the reverse (the CLI sets it). */
  noOverwriteDirNonDir?: boolean;
  /** Every entry owned by this uid/gid (copyUIDGID with a container User). */
  chown?: { uid: number; gid: number };
  /** Maps archive ids to host ids (--userns-remap); identity when absent. */
  mapIds?: IdMap;
}

/** The extraction's errors, in Docker's words. */
export const notADirectory = () => badParameter('extraction point is not a directory');

/** The tar stream, gunzipped when it starts with gzip's magic (the API accepts gzip). */
async function* maybeGunzip(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  const rest = (async function* () {
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield Buffer.from(n.value);
    }
  })();
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest).pipe(createGunzip()) as AsyncIterable<Buffer>;
  } else {
    yield* rest;
  }
}

/**
 * Extracts the tar from input into the directory `destPath` of the container root (the
 * destination's final link is followed, as Docker). Entry names are taken relative to it:
 * absolute ones land inside it, ones whose ".." climbs out are refused.
 */
export async function extractArchive(root: string, destPath: string, input: AsyncIterable<Uint8Array>, opts: ExtractOptions = {}): Promise<void> {
  const abs = destPath.startsWith('/') ? destPath : `/${destPath}`;
  await withOpenRoot(root, async (rootFh) => {
    const dest = await withResolved(rootFh, abs, true, async (r) => {
      const st = await r.lstat();
      if (!st.isDirectory()) throw notADirectory();
      return r.containerPath;
    });
    const dirTimes: Array<{ path: string; mtime: Date }> = [];
    for await (const entry of readTar(maybeGunzip(input))) {
      const h = entry.header;
      const rel = normalizeEntryPath(h.name.replace(/^\/+/, ''));
      if (rel === null) throw systemError(`${JSON.stringify(h.name)} is outside of ${JSON.stringify(dest)}`);
      if (rel === '') continue; // "." itself: Docker leaves the destination as it is
      const path = dest === '/' ? `/${rel}` : `${dest}/${rel}`;
      const slash = path.lastIndexOf('/');
      const parent = await resolvePath(rootFh, path.slice(0, slash) || '/', { followFinal: true, mkdirs: true });
      try {
        if (parent.name !== '') {
          // The parent resolved to something that is not a directory (a file in the way).
          throw errnoError('ENOTDIR', `${path.slice(0, slash)}: not a directory`);
        }
        await extractEntry(rootFh, parent.dir, path.slice(slash + 1), h, entry.body, dest, opts);
      } finally {
        await parent.close();
      }
      if (h.type === 'dir') dirTimes.push({ path, mtime: h.mtime });
    }
    // Directory times last: extracting into a directory changes its mtime.
    for (const d of dirTimes.reverse()) {
      await withResolved(rootFh, d.path, false, (r) => fsp.lutimes(r.hostPath, d.mtime, d.mtime)).catch(() => {});
    }
  });
}

async function extractEntry(
  rootFh: FileHandle, dir: FileHandle, name: string, h: TarHeader, body: AsyncIterable<Buffer>, dest: string, opts: ExtractOptions,
): Promise<void> {
  const host = at(dir, name);
  const existing = await fsp.lstat(host).catch((err: unknown) => {
    if (hasCode(err, 'ENOENT')) return undefined;
    throw err;
  });
  if (existing) {
    const isDirEntry = h.type === 'dir';
    if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDirEntry) {
      throw badParameter(`cannot overwrite directory ${JSON.stringify(host.replace(/^\/proc\/self\/fd\/\d+/, ''))} with non-directory ${JSON.stringify(h.name)}`);
    }
    if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDirEntry) {
      throw badParameter(`cannot overwrite non-directory ${JSON.stringify(h.name)} with directory`);
    }
    if (!(existing.isDirectory() && isDirEntry)) await removeTree(dir, name);
  }
  const ids = opts.chown ?? (opts.mapIds ? opts.mapIds(h.uid, h.gid) : { uid: h.uid, gid: h.gid });
  switch (h.type) {
    case 'dir': {
      if (!existing?.isDirectory()) await fsp.mkdir(host, 0o700);
      const fh = await fsp.open(host, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        await setMeta(at(fh), h, ids);
      } finally {
        await fh.close();
      }
      break;
    }
    case 'file': {
      const fh = await fsp.open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for await (const chunk of body) {
          // write(2) may take less than asked; the rest follows.
          for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
        }
        await fh.chown(ids.uid, ids.gid);
        await fh.chmod(h.mode & 0o7777);
        await fh.utimes(h.mtime, h.mtime);
      } finally {
        await fh.close();
      }
      setXattrs(host, h);
      break;
    }
    case 'symlink':
      await fsp.symlink(h.linkname, host);
      await fsp.lchown(host, ids.uid, ids.gid);
      await fsp.lutimes(host, h.mtime, h.mtime);
      break;
    case 'hardlink': {
      const target = normalizeEntryPath(h.linkname.replace(/^\/+/, ''));
      if (target === null || target === '') throw systemError(`invalid hardlink ${JSON.stringify(h.linkname)} -> outside of ${JSON.stringify(dest)}`);
      const t = await resolvePath(rootFh, dest === '/' ? `/${target}` : `${dest}/${target}`, { followFinal: false });
      try {
        await fsp.link(t.hostPath, host);
      } finally {
        await t.close();
      }
      break;
    }
    case 'char':
    case 'block':
    case 'fifo': {
      const kind = h.type === 'char' ? constants.S_IFCHR : h.type === 'block' ? constants.S_IFBLK : constants.S_IFIFO;
      mknod(host, kind | (h.mode & 0o777), h.devmajor, h.devminor);
      const fh = await fsp.open(host, O_PATH | constants.O_NOFOLLOW);
      try {
        await setMeta(at(fh), h, ids);
      } finally {
        await fh.close();
      }
      break;
    }
  }
}

/** Owner, mode, times and xattrs through an O_PATH fd's /proc path: the inode we made,
 * even if its name was swapped since. chown before chmod (chown clears setuid). */
async function setMeta(path: string, h: TarHeader, ids: { uid: number; gid: number }): Promise<void> {
  await fsp.chown(path, ids.uid, ids.gid);
  await fsp.chmod(path, h.mode & 0o7777);
  await fsp.utimes(path, h.mtime, h.mtime);
}

function setXattrs(path: string, h: TarHeader): void {
  for (const [k, v] of Object.entries(h.xattrs)) {
    try {
      lsetxattr(path, k, v);
    } catch (err) {
      // As Docker: xattrs the filesystem or namespace will not take are dropped.
      if (!hasCode(err, 'EOPNOTSUPP', 'EPERM', 'ENOTSUP')) throw err;
    }
  }
}

/** Removes name in dir and, for a directory, everything under it, by fd (never through a
 * link the container put in place meanwhile). */
export async function removeTree(dir: FileHandle, name: string): Promise<void> {
  const st = await fsp.lstat(at(dir, name)).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) {
    await fsp.unlink(at(dir, name));
    return;
  }
  const sub = await openDirAt(dir, name);
  try {
    for (const n of await fsp.readdir(at(sub))) await removeTree(sub, n);
  } finally {
    await sub.close();
  }
  await fsp.rmdir(at(dir, name));
}

/** Maps a failure of these operations to Docker's API error for `path` in container `ref`. */
export function archiveError(err: unknown, ref: string, path: string): unknown {
  if (err instanceof EngineError) return err;
  if (hasCode(err, 'ENOENT')) return new EngineError(404, `Could not find the file ${path} in container ${ref}`);
  if (hasCode(err, 'ELOOP', 'ENOTDIR', 'EINVAL')) return new EngineError(400, (err as Error).message);
  return err;
}
