// The path rules of `docker cp` (docker's cp.go and go-archive's copy.go), as pure
// functions: which side is a container, Go's filepath.Clean/Dir/Base/Join, trailing "/" and
// "/." kept, symlink rebasing, and where and under which name an archive is extracted.
import { posix } from 'node:path';

/** Go's filepath.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Go's filepath.Base. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

/** Go's filepath.Dir. */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}

/** Go's filepath.Join. */
export function goJoin(...parts: string[]): string {
  const kept = parts.filter((x) => x !== '');
  return kept.length === 0 ? '' : goClean(kept.join('/'));
}

/** CONTAINER:PATH or a local path ("./a:b" and "/a:b" are local). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

export function hasTrailingSeparator(p: string): boolean {
  return p.endsWith('/');
}

export function specifiesCurrentDir(p: string): boolean {
  return goBase(p) === '.';
}

/** The path asserts a directory: it ends in "/" or "/.". */
export function assertsDirectory(p: string): boolean {
  return hasTrailingSeparator(p) || specifiesCurrentDir(p);
}

export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let p = cleaned;
  if (!specifiesCurrentDir(p) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(p)) p += '/';
    p += '.';
  }
  if (!hasTrailingSeparator(p) && hasTrailingSeparator(original)) p += '/';
  return p;
}

/** An absolute local path, its trailing "/" or "/." kept (cp's resolveLocalPath). */
export function resolveLocalPath(local: string, cwd: string): string {
  return preserveTrailingDotOrSeparator(goClean(posix.resolve(cwd, local)), local);
}

/** The directory and the entry it names, a trailing "." kept. */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return { dir: goDir(cleaned), base: goBase(cleaned) };
}

/** A link's target as a path (relative targets are joined to the link's directory). */
export function linkTargetPath(linkPath: string, target: string): string {
  return target.startsWith('/') ? target : goJoin(splitPathDirEntry(linkPath).dir, target);
}

/** GetRebaseName: the resolved path with path's trailing "/" or "/." and, when the last
 * element changed, the name entries must be given back. */
export function getRebaseName(path: string, resolved: string): { path: string; rebaseName: string } {
  let r = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(r)) r += '/.';
  if (hasTrailingSeparator(path) && !hasTrailingSeparator(r)) r += '/';
  return { path: r, rebaseName: goBase(path) !== goBase(r) ? goBase(path) : '' };
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** Where to extract and how to rename the archive's first path element (PrepareArchiveCopy);
 * the error texts are go-archive's. */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: { from: string; to: string } } {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName || splitPathDirEntry(src.path).base;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new Error('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new Error('no such directory');
  return { dstDir, rebase: { from: srcBase, to: dstBase } };
}

/** RebaseArchiveEntries' renaming of one entry name (the first occurrence of from). */
export function rebaseName(name: string, from: string, to: string): string {
  const old = from === '/' ? '' : from;
  const i = name.indexOf(old);
  return i < 0 ? name : name.slice(0, i) + to + name.slice(i + old.length);
}

// Go's os.FileMode bits as the X-Docker-Container-Path-Stat header carries them.
export { GO_MODE_DIR as MODE_DIR, GO_MODE_SYMLINK as MODE_SYMLINK } from '../container/archive-path.ts';
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;

/** ValidateOutputPathFileMode's complaint about a mode, if any. */
export function modeIs(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

/** ValidateOutputPathFileMode's complaint about a mode, if any. */
export function outputModeProblem(mode: number): string | undefined {
  if (modeIs(mode, MODE_DEVICE)) return 'got a device';
  if (modeIs(mode, MODE_IRREGULAR)) return 'got an irregular file';
  return undefined;
}
