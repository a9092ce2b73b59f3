// Resolving container paths under a root directory as the container would, for `docker cp`.
//
// The container owns the tree and (while running) may change it under us, so resolution
// never hands a path string to the kernel that could cross a symlink: each directory is
// opened by file descriptor, component by component, with O_NOFOLLOW, and later steps name
// things as /proc/self/fd/<dirfd>/<name> (the kernel takes the fd's own directory, not a
// path, so this is openat(2) without a native binding). Links are read and followed by us:
// an absolute target restarts at the root, ".." never climbs above it. A swap of a
// directory for a link after our check makes the O_NOFOLLOW open fail (ELOOP) instead of
// leaving the root.
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Linux's own limit on links in one lookup (MAXSYMLINKS). */
export const MAX_LINKS = 40;

// O_PATH is absent from Node's constants on some builds; it needs no read permission and
// does not touch the target (a FIFO or device is never opened for I/O).
const O_PATH = 0o10000000;
const DIR_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** /proc/self/fd/<fd>/<name>: name looked up in the directory fd refers to. */
export function at(dir: FileHandle, name = ''): string {
  return name ? `/proc/self/fd/${dir.fd}/${name}` : `/proc/self/fd/${dir.fd}`;
}

/** Opens the directory `name` inside dir, refusing a symlink (ELOOP) or a non-directory. */
export function openDirAt(dir: FileHandle, name: string): Promise<FileHandle> {
  return fsp.open(at(dir, name), DIR_FLAGS);
}

export async function openRootDir(root: string): Promise<FileHandle> {
  return fsp.open(root, constants.O_RDONLY | constants.O_DIRECTORY);
}

interface Level {
  handle: FileHandle;
  name: string;
}

/**
 * A resolved container path: `dir` is the open directory holding the final component
 * `name` ('' when the path is that directory itself, e.g. "/" or "/etc/." after "etc" was
 * followed). Owns its handles: close() when done.
 */
export class ResolvedPath {
  private readonly levels: Level[];
  readonly name: string;

  constructor(levels: Level[], name: string) {
    this.levels = levels;
    this.name = name;
  }

  get dir(): FileHandle {
    return this.levels[this.levels.length - 1]!.handle;
  }

  /** The container path of the final component's parent, e.g. "/etc". */
  get parentPath(): string {
    return '/' + this.levels.slice(1).map((l) => l.name).join('/');
  }

  /** The container path this resolved to, e.g. "/etc/passwd" (links followed). */
  get containerPath(): string {
    const parts = this.levels.slice(1).map((l) => l.name);
    if (this.name) parts.push(this.name);
    return '/' + parts.join('/');
  }

  /** Host path naming the final component through its directory's fd (not followed). */
  get hostPath(): string {
    return at(this.dir, this.name);
  }

  /** lstat of the final component (stat of the directory itself when name is ''). */
  lstat(): Promise<Stats> {
    return this.name ? fsp.lstat(this.hostPath) : this.dir.stat();
  }

  async close(): Promise<void> {
    // The root handle belongs to the caller.
    for (const l of this.levels.slice(1)) await l.handle.close().catch(() => {});
  }
}

export interface ResolveOptions {
  /** Follow a symlink in the final component (PUT's destination does; HEAD/GET don't). */
  followFinal?: boolean;
  /** Create missing directories (mode 0755, root-owned) instead of ENOENT; with
   * followFinal the final component too (the whole path is a directory to be made). */
  mkdirs?: boolean;
  /** Directory to start from for relative paths (default: the root); a container path. */
  base?: string;
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Resolves `path` (a container path; relative ones start at opts.base or "/") under the
 * open root directory. Missing final components are fine (lstat tells); a missing
 * intermediate one is ENOENT, a file in the middle ENOTDIR, too many links ELOOP.
 * A trailing "/" or "/." asks for the final component to be followed, as in Docker.
 */
export async function resolvePath(root: FileHandle, path: string, opts: ResolveOptions = {}): Promise<ResolvedPath> {
  if (path.includes('\0')) throw errnoError('EINVAL', `invalid path ${JSON.stringify(path)}`);
  // "dir/" and "dir/." name the directory itself: followed, and a file there is ENOTDIR.
  const mustBeDir = /(^|\/)\.?$/.test(path);
  const followFinal = opts.followFinal || mustBeDir;
  const pending = path.startsWith('/') ? split(path) : [...split(opts.base ?? '/'), ...path.split('/')].filter((p) => p !== '' && p !== '.');
  const levels: Level[] = [{ handle: root, name: '' }];
  const top = () => levels[levels.length - 1]!;
  let links = 0;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (levels.length > 1) await levels.pop()!.handle.close();
        continue;
      }
      const last = pending.length === 0;
      if (last && !followFinal) return new ResolvedPath(levels, part);
      let st: Stats;
      try {
        st = await fsp.lstat(at(top().handle, part));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && opts.mkdirs && (!last || followFinal)) {
          await fsp.mkdir(at(top().handle, part), 0o755).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'EEXIST') throw e;
          });
          pending.unshift(part); // looked at again: someone may have raced a link in
          continue;
        }
        if (code === 'ENOENT' && last) return new ResolvedPath(levels, part);
        throw err;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw errnoError('ELOOP', `too many levels of symbolic links: ${path}`);
        const target = await fsp.readlink(at(top().handle, part));
        if (target.startsWith('/')) {
          while (levels.length > 1) await levels.pop()!.handle.close();
        }
        // The link's own components, then what followed it in the path. An empty target
        // (not creatable with symlink(2), but possible in a crafted layer) is ENOENT.
        if (target === '') throw errnoError('ENOENT', `empty symlink ${part}`);
        pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      if (!st.isDirectory()) {
        if (last && !mustBeDir) return new ResolvedPath(levels, part);
        throw errnoError('ENOTDIR', `not a directory: ${path}`);
      }
      levels.push({ handle: await openDirAt(top().handle, part), name: part });
    }
    return new ResolvedPath(levels, '');
  } catch (err) {
    for (const l of levels.slice(1)) await l.handle.close().catch(() => {});
    throw err;
  }
}

/** Go's os.FileMode bits, as Docker puts them in a path stat. */
const GO_MODE = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

/** A stat's mode as Go's os.FileMode (file type bits high, permissions low). */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isFIFO()) m += GO_MODE.namedPipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  return m;
}

export const GO_MODE_DIR = GO_MODE.dir;
export const GO_MODE_SYMLINK = GO_MODE.symlink;
