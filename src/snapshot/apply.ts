// Unpacking a layer tar into a directory, safely: the tar is untrusted input, so every
// path is resolved inside root component by component without following symlinks, and
// anything that would land outside root is refused.
// Two whiteout conventions: 'overlay' turns Docker's ".wh." files into overlayfs whiteouts
// (char device 0:0) and opaque xattrs, for a layer dir used as an overlay lower/upper;
// 'plain' performs the deletions, for a flat root filesystem.
import { createHash } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { normalizeEntryPath, readTar } from '../archive/tar.ts';
import type { TarEntry, TarHeader } from '../archive/tar.ts';
import { badParameter } from '../util/errors.ts';
import { hasCode, lsetxattr, mknod } from '../util/native.ts';
import { INTERNAL_XATTR, OPAQUE_XATTR, copyMetadata, copyUp, lookupLower } from './lower-lookup.ts';

export interface ApplyOptions {
  /** Layers below the one being written, top first: hardlink targets and parent
   * directories missing from root are looked up there. A function is called only when a
   * lookup is needed (once): a layer can be unpacked while the one below it still is, and
   * waits for it only if the tar refers to its content. */
  lowerDirs?: string[] | (() => Promise<string[]>);
  format: 'overlay' | 'plain';
  /** Ownership from the tar headers to ownership on disk (--userns-remap shifts it into the
   * subordinate range); the identity when absent. */
  mapIds?: (uid: number, gid: number) => [number, number];
}

export interface ApplyTarResult {
  /** "sha256:<hex>" of the exact bytes read, trailing padding included */
  diffId: string;
  size: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
// Other ".wh..wh." names are AUFS bookkeeping (hardlink dirs) that carry no content.
const AUFS_META_PREFIX = '.wh..wh.';

function hostile(name: string, why: string): Error {
  return badParameter(`invalid tar entry ${JSON.stringify(name)}: ${why}`);
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(path);
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return null;
    throw err;
  }
}

/** Unpacks an uncompressed tar into root (created if missing) and returns its digest. */
export async function applyTar(root: string, tar: AsyncIterable<Uint8Array>, opts: ApplyOptions): Promise<ApplyTarResult> {
  const hash = createHash('sha256');
  let size = 0;
  const source = tar[Symbol.asyncIterator]();
  const next = async () => {
    const r = await source.next();
    if (!r.done) {
      hash.update(r.value);
      size += r.value.length;
    }
    return r;
  };
  // The reader stops at the end-of-archive marker; its return() must not close the source,
  // since the digest covers every byte up to the source's end.
  const counted: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({ next, return: async () => ({ done: true as const, value: undefined }) }),
  };
  try {
    await fsp.mkdir(root, { recursive: true });
    // A tar without a "./" entry leaves the root as made: owned by the (mapped) root.
    if (opts.mapIds) await fsp.lchown(root, ...opts.mapIds(0, 0));
    const x = new Extractor(root, opts);
    for await (const entry of readTar(counted)) await x.apply(entry);
    while (!(await next()).done) {
      // drain
    }
    await x.finish();
  } catch (err) {
    await source.return?.();
    throw err;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

const identity = (uid: number, gid: number): [number, number] => [uid, gid];

class Extractor {
  private readonly root: string;
  private readonly lowers: () => Promise<string[]>;
  private readonly format: 'overlay' | 'plain';
  private readonly ids: (uid: number, gid: number) => [number, number];
  /** Relative dirs already checked to be real directories (not symlinks) inside root. */
  private knownDirs = new Set<string>(['']);
  /** Paths this tar created, so a 'plain' opaque marker deletes only older content. */
  private readonly unpacked = new Set<string>();
  /** Directory times, set last because creating entries inside a dir changes its mtime. */
  private readonly dirTimes = new Map<string, [Date, Date]>();

  constructor(root: string, opts: ApplyOptions) {
    this.root = root;
    const given = opts.lowerDirs ?? [];
    let found: Promise<string[]> | undefined;
    this.lowers = typeof given === 'function' ? () => (found ??= given()) : () => Promise.resolve(given);
    this.format = opts.format;
    this.ids = opts.mapIds ?? identity;
  }

  async apply({ header: h, body }: TarEntry): Promise<void> {
    const rel = normalizeEntryPath(h.name);
    if (rel === null) throw hostile(h.name, 'path escapes the root');
    const parts = rel === '' ? [] : rel.split('/');
    const base = parts.at(-1) ?? '';

    if (rel === '') {
      if (h.type !== 'dir') throw hostile(h.name, 'the root must be a directory');
      await this.setMetadata(this.root, h);
      return;
    }
    if (parts.some((p, i) => p.startsWith(AUFS_META_PREFIX) && !(p === OPAQUE_MARKER && i === parts.length - 1))) return;

    const parent = await this.ensureParents(h.name, parts.slice(0, -1));
    if (base === OPAQUE_MARKER) return this.opaque(parent, parts.slice(0, -1).join('/'));
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(h, parent, base.slice(WHITEOUT_PREFIX.length));

    // A hardlink's target is resolved before anything at the entry's own path is removed.
    const linkTarget = h.type === 'hardlink' ? await this.hardlinkTarget(h, rel) : undefined;

    const abs = join(parent, base);
    const existing = await lstatOrNull(abs);
    if (existing && !(h.type === 'dir' && existing.isDirectory())) await this.removeExisting(abs, existing);

    switch (h.type) {
      case 'dir':
        if (!existing?.isDirectory()) await fsp.mkdir(abs, 0o700);
        break;
      case 'file':
        await writeFile(abs, body);
        break;
      case 'symlink':
        await fsp.symlink(h.linkname, abs);
        break;
      case 'hardlink':
        await fsp.link(linkTarget!, abs);
        break;
      case 'char':
      case 'block':
      case 'fifo': {
        const type = h.type === 'char' ? constants.S_IFCHR : h.type === 'block' ? constants.S_IFBLK : constants.S_IFIFO;
        mknod(abs, type | 0o600, h.devmajor, h.devminor);
        break;
      }
    }
    // A hardlink shares its target's inode: its own header fields must not change it.
    if (h.type !== 'hardlink') await this.setMetadata(abs, h);
    this.unpacked.add(rel);
  }

  async finish(): Promise<void> {
    for (const [abs, [atime, mtime]] of this.dirTimes) {
      try {
        await fsp.lutimes(abs, atime, mtime);
      } catch (err) {
        if (!hasCode(err, 'ENOENT')) throw err;
      }
    }
  }

  /** Makes sure every parent of an entry is a real directory inside root, creating missing
   * ones (with a lower layer's attributes when one has that directory, else 0755 root). */
  private async ensureParents(name: string, parents: string[]): Promise<string> {
    let rel = '';
    for (const part of parents) {
      rel = rel ? `${rel}/${part}` : part;
      if (this.knownDirs.has(rel)) continue;
      const abs = join(this.root, rel);
      const st = await lstatOrNull(abs);
      if (!st) {
        await fsp.mkdir(abs, 0o755);
        const lower = await lookupLower(await this.lowers(), rel);
        if (lower?.st.isDirectory()) {
          await copyMetadata(lower.path, lower.st, abs);
          this.dirTimes.set(abs, [lower.st.atime, lower.st.mtime]);
        } else {
          await fsp.chmod(abs, 0o755); // the umask may have narrowed it
          if (this.ids !== identity) await fsp.lchown(abs, ...this.ids(0, 0));
        }
      } else if (st.isSymbolicLink()) {
        throw hostile(name, `parent ${rel} is a symlink`);
      } else if (!st.isDirectory()) {
        throw hostile(name, `parent ${rel} is not a directory`);
      }
      this.knownDirs.add(rel);
    }
    return join(this.root, rel);
  }

  private async removeExisting(abs: string, st: Stats): Promise<void> {
    if (st.isDirectory()) {
      await fsp.rm(abs, { recursive: true, force: true });
      // Cached directories below (or at) this path are gone.
      this.knownDirs = new Set(['']);
    } else {
      await fsp.unlink(abs);
    }
  }

  private async hardlinkTarget(h: TarHeader, rel: string): Promise<string> {
    const target = normalizeEntryPath(h.linkname);
    if (target === null || target === '') throw hostile(h.name, `hardlink target ${JSON.stringify(h.linkname)} escapes the root`);
    if (target === rel) throw hostile(h.name, 'hardlink to itself');
    const parts = target.split('/');
    // Walk the target's parents without creating or following anything.
    let dir = this.root;
    let present = true;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const st = await lstatOrNull(dir);
      if (!st) {
        present = false;
        break;
      }
      if (st.isSymbolicLink()) throw hostile(h.name, `hardlink target ${JSON.stringify(h.linkname)} goes through a symlink`);
      if (!st.isDirectory()) throw hostile(h.name, `hardlink target ${JSON.stringify(h.linkname)} is not reachable`);
    }
    const abs = join(this.root, target);
    const st = present ? await lstatOrNull(abs) : null;
    if (st) {
      if (st.isDirectory()) throw hostile(h.name, 'hardlink to a directory');
      return abs;
    }
    // Not in this layer: a lower layer's file is copied up so the link has something to
    // share (overlayfs cannot link across layers).
    const lower = await lookupLower(await this.lowers(), target);
    if (!lower || lower.st.isDirectory()) throw hostile(h.name, `hardlink target ${JSON.stringify(h.linkname)} not found`);
    const parent = await this.ensureParents(h.name, parts.slice(0, -1));
    const copy = join(parent, parts.at(-1)!);
    await copyUp(lower, copy);
    return copy;
  }

  private async opaque(dir: string, rel: string): Promise<void> {
    if (this.format === 'overlay') {
      lsetxattr(dir, OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    await this.removeOlder(dir, rel);
  }

  /** 'plain' opaque directory: deletes what was there before this tar. */
  private async removeOlder(dir: string, rel: string): Promise<void> {
    for (const name of await fsp.readdir(dir)) {
      const childRel = rel ? `${rel}/${name}` : name;
      const abs = join(dir, name);
      if (!this.unpacked.has(childRel)) {
        await fsp.rm(abs, { recursive: true, force: true });
        this.knownDirs = new Set(['']);
      } else if ((await fsp.lstat(abs)).isDirectory()) {
        await this.removeOlder(abs, childRel);
      }
    }
  }

  private async whiteout(h: TarHeader, dir: string, name: string): Promise<void> {
    if (name === '' || name === '.' || name === '..') throw hostile(h.name, 'invalid whiteout');
    const abs = join(dir, name);
    const existing = await lstatOrNull(abs);
    if (existing) await this.removeExisting(abs, existing);
    if (this.format === 'plain') return;
    mknod(abs, constants.S_IFCHR | 0o600, 0, 0);
    await fsp.lchown(abs, ...this.ids(h.uid, h.gid));
  }

  private async setMetadata(abs: string, h: TarHeader): Promise<void> {
    await fsp.lchown(abs, ...this.ids(h.uid, h.gid));
    // chmod follows symlinks, and a symlink's own mode means nothing on Linux.
    if (h.type !== 'symlink') await fsp.chmod(abs, h.mode);
    for (const [name, value] of Object.entries(h.xattrs)) {
      // overlayfs reads trusted.overlay.* as instructions (opaque, redirects); a layer
      // expresses those only through whiteout files.
      if (INTERNAL_XATTR.test(name)) continue;
      lsetxattr(abs, name, value);
    }
    const atimeText = h.pax?.atime;
    const atime = atimeText && /^[0-9]+(\.[0-9]+)?$/.test(atimeText) ? new Date(Number(atimeText) * 1000) : h.mtime;
    if (h.type === 'dir') this.dirTimes.set(abs, [atime, h.mtime]);
    else await fsp.lutimes(abs, atime, h.mtime);
  }
}

async function writeFile(abs: string, body: AsyncIterable<Buffer>): Promise<void> {
  // O_EXCL|O_NOFOLLOW: whatever was at this path was removed; if something reappeared,
  // fail rather than write through it.
  const fh = await fsp.open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}
