// berth cp: docker cp through the archive API. From a container: GET /containers/{id}/archive
// and the tar extracted locally (or written to stdout for "-"); to a container: the local
// resource packed as a tar (or stdin's for "-") and PUT, after a HEAD of the destination.
// Which directory receives the archive and under which name follow docker's copy rules
// (copy-paths.ts). Local extraction goes through the daemon's extractor with the
// destination directory as its root, so no entry or link in the archive can write outside it.
import { promises as fsp } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet } from '../flags.ts';
import { humanSizeWithPrecision } from '../format/units.ts';
import { readTar, TarWriter, type TarHeader } from '../../archive/tar.ts';
import { archivePath, extractArchive } from '../../container/archive-copy.ts';
import {
  MODE_DIR, MODE_SYMLINK, getRebaseName, goClean, goDir, linkTargetPath, modeIs, outputModeProblem, prepareArchiveCopy,
  rebaseName, resolveLocalPath, splitCpArg, splitPathDirEntry, hasTrailingSeparator, goBase, goJoin, type CopyInfo,
} from '../copy-paths.ts';

interface CpFlags {
  followLink: BoolFlag;
  archive: BoolFlag;
  quiet: BoolFlag;
}

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** A Node fs error in Go's words: "lstat /x: no such file or directory". */
function goError(e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code || !err.syscall) return err as Error;
  const text = err.message.replace(/^[A-Z]+: /, '').replace(/, .*$/, '');
  return new Error(`${err.syscall} ${err.path ?? ''}: ${text}`);
}

function decodeStat(res: IncomingMessage): PathStat {
  const h = res.headers['x-docker-container-path-stat'];
  if (typeof h !== 'string' || h === '') return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  try {
    return JSON.parse(Buffer.from(h, 'base64').toString()) as PathStat;
  } catch (e) {
    throw new Error(`unable to decode container path stat header: ${(e as Error).message}`);
  }
}

async function statPath(cli: Cli, container: string, path: string): Promise<PathStat> {
  const res = await cli.client.request('HEAD', `/containers/${container}/archive`, { query: { path } });
  res.resume();
  return decodeStat(res);
}

/** Counts the bytes that pass. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/** The same archive with each entry's header passed through `map` (which may throw). */
function mapEntries(input: AsyncIterable<Uint8Array>, map: (h: TarHeader) => TarHeader): Readable {
  const out = new PassThrough();
  void (async () => {
    const w = new TarWriter(out);
    for await (const { header, body } of readTar(input)) {
      const h = map(header);
      await w.add(h, h.type === 'file' ? body : undefined);
    }
    await w.finish();
  })().catch(async (e: Error) => {
    // The entries before the refused one are still extracted, as docker's streaming Untar does.
    while (out.readableLength > 0 && !out.destroyed) await new Promise((r) => setTimeout(r, 5));
    out.destroy(e);
  });
  return out;
}

/** RebaseArchiveEntries: `from` replaced by `to` in each entry's name (and hard links' targets). */
function rebaseArchive(input: AsyncIterable<Uint8Array>, from: string, to: string): Readable {
  return mapEntries(input, (h) => ({
    ...h,
    name: rebaseName(h.name, from, to),
    linkname: h.type === 'hardlink' ? rebaseName(h.linkname, from, to) : h.linkname,
  }));
}

/** go-archive Untar's breakout checks for extraction into dir: names that climb out of it,
 * and links whose targets do, are refused before anything is written for them. */
function guardArchive(input: AsyncIterable<Uint8Array>, dir: string): Readable {
  const inside = (p: string) => p.startsWith(dir);
  return mapEntries(input, (h) => {
    const name = goClean(h.name);
    const path = goJoin(dir, name);
    if (posix.relative(dir, path).startsWith('../')) throw new Error(`${JSON.stringify(name)} is outside of ${JSON.stringify(dir)}`);
    if (h.type === 'symlink' && !inside(goJoin(goDir(path), h.linkname))) throw new Error(`invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(h.linkname)}`);
    if (h.type === 'hardlink' && !inside(goJoin(dir, h.linkname))) throw new Error(`invalid hardlink ${JSON.stringify(goJoin(dir, h.linkname))} -> ${JSON.stringify(h.linkname)}`);
    return h;
  });
}

/** The extractor's refusals worded as go-archive's Untar words them for destination dir. */
function untarError(e: unknown, dir: string): unknown {
  const msg = (e as Error)?.message ?? '';
  const at = (quoted: string) => JSON.stringify(goJoin(dir, JSON.parse(quoted) as string));
  let m = /^cannot overwrite directory ".*" with non-directory ("(?:[^"\\]|\\.)*")$/.exec(msg);
  if (m) return new Error(`cannot overwrite directory ${at(m[1])} with non-directory ${JSON.stringify(dir)}`);
  m = /^cannot overwrite non-directory ("(?:[^"\\]|\\.)*") with directory$/.exec(msg);
  if (m) return new Error(`cannot overwrite non-directory ${at(m[1])} with directory ${JSON.stringify(dir)}`);
  m = /^(".*") is outside of "\/"$/.exec(msg);
  if (m) return new Error(`${m[1]} is outside of ${JSON.stringify(dir)}`);
  return e;
}

/** ValidateOutputPath: the local destination's directory exists; an existing destination is
 * a directory or regular file. */
async function validateOutputPath(path: string): Promise<void> {
  const dir = goDir(goClean(path));
  if (dir !== '' && dir !== '.') {
    const st = await fsp.stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : undefined));
    if (st === null) throw new Error(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw goError(e);
  }
  if (st.isDirectory() || st.isFile()) return;
  const problem = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : st.isFIFO() || st.isSocket() ? undefined : 'got an irregular file';
  if (problem) throw new Error(`invalid output path: ${JSON.stringify(path)} must be a directory or a regular file: ${problem}`);
}

/** CopyInfoDestinationPath: the local destination, its final links followed (at most 10). */
async function localDestination(path: string): Promise<CopyInfo> {
  const original = path;
  const lst = (p: string) => fsp.lstat(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw goError(e);
  });
  let st = await lst(path);
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${original}`);
    path = linkTargetPath(path, await fsp.readlink(path));
    st = await lst(path);
  }
  if (st) return { path, exists: true, isDir: st.isDirectory() };
  const parent = splitPathDirEntry(path).dir;
  let pst;
  try {
    pst = await fsp.stat(parent);
  } catch (e) {
    throw goError(e);
  }
  if (!pst.isDirectory()) throw new Error('not a directory');
  return { path, exists: false, isDir: false };
}

/** CopyInfoSourcePath: the local source with the links before its last element resolved
 * (and the last too with -L). */
async function localSource(path: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebase = '';
  try {
    if (followLink) {
      ({ path: resolved, rebaseName: rebase } = getRebaseName(path, await fsp.realpath(path)));
    } else {
      const slash = path.lastIndexOf('/');
      const dir = path.slice(0, slash + 1);
      const base = path.slice(slash + 1);
      const real = await fsp.realpath(dir);
      resolved = (real === '/' ? '' : real) + '/' + base;
      if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebase = goBase(path);
    }
    const st = await fsp.lstat(resolved);
    return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName: rebase };
  } catch (e) {
    throw goError(e);
  }
}

/** TarResource: a tar of the local resource, entries named by its base name (or rebaseName). */
async function localArchive(src: CopyInfo): Promise<Readable> {
  await fsp.lstat(src.path).catch((e) => {
    throw goError(e);
  });
  const out = new PassThrough();
  archivePath('/', src.path, out, () => {}).catch((e: Error) => out.destroy(goError(e)));
  if (!src.rebaseName) return out;
  return rebaseArchive(out, splitPathDirEntry(src.path).base, src.rebaseName);
}

async function copyFromContainer(cli: Cli, f: CpFlags, quiet: boolean, container: string, srcPath: string, dst: string): Promise<void> {
  const dstPath = dst === '-' ? dst : resolveLocalPath(dst, process.cwd());
  await validateOutputPath(dstPath);
  let rebase = '';
  if (f.followLink.value) {
    const st = await statPath(cli, container, srcPath).catch(() => undefined);
    if (st && modeIs(st.mode, MODE_SYMLINK)) {
      ({ path: srcPath, rebaseName: rebase } = getRebaseName(srcPath, linkTargetPath(srcPath, st.linkTarget)));
    }
  }
  const res = await cli.client.request('GET', `/containers/${container}/archive`, { query: { path: srcPath } });
  if (dstPath === '-') {
    await pipeline(res, cli.out, { end: false });
    return;
  }
  const stat = decodeStat(res);
  const src: CopyInfo = { path: srcPath, exists: true, isDir: modeIs(stat.mode, MODE_DIR), rebaseName: rebase };
  let copied = 0;
  const counted = res.pipe(counter((n) => (copied += n)));
  res.on('error', (e) => counted.destroy(e));
  const content = rebase ? rebaseArchive(counted, splitPathDirEntry(src.path).base, rebase) : counted;
  // docker 28 means to draw a progress line on a terminal stderr but never sees one (it asks a
  // wrapped writer for its fd): only the summary line below is printed.
  let failure: unknown;
  try {
    const dstInfo = await localDestination(dstPath);
    const prepared = prepareArchiveCopy(src, dstInfo);
    const r = prepared.rebase;
    // Untar's own view of its destination: cleaned (in its messages too).
    const dstDir = goClean(prepared.dstDir);
    // The stream stays open when the extractor stops at the end-of-archive marker.
    const input = content.iterator({ destroyOnReturn: false });
    const archive = guardArchive(r ? rebaseArchive(input, r.from, r.to) : input, dstDir);
    // No chown (docker's NoLchown): entries belong to whoever runs the copy. The extractor
    // resolves every name inside dstDir as a root, so nothing lands outside it either way.
    await extractArchive(dstDir, '/', archive, { noOverwriteDirNonDir: true, chown: { uid: process.getuid!(), gid: process.getgid!() } }).catch((e) => {
      throw untarError(e, dstDir);
    });
    // The rest of the stream (end-of-archive padding) still counts as copied.
    for await (const _ of content) void _;
  } catch (e) {
    failure = e;
    res.destroy();
  }
  if (!quiet) cli.err.write(`Successfully copied ${humanSizeWithPrecision(copied, 3)} to ${dstPath}\n`);
  if (failure) throw failure;
}

async function copyToContainer(cli: Cli, f: CpFlags, quiet: boolean, container: string, src: string, dstPath: string): Promise<void> {
  const srcPath = src === '-' ? src : resolveLocalPath(src, process.cwd());
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let dstStat: PathStat | undefined = await statPath(cli, container, dstPath).catch(() => undefined);
  if (dstStat && modeIs(dstStat.mode, MODE_SYMLINK)) {
    dstInfo.path = linkTargetPath(dstPath, dstStat.linkTarget);
    dstStat = await statPath(cli, container, dstInfo.path).catch(() => undefined);
  }
  const problem = outputModeProblem(dstStat?.mode ?? 0);
  if (problem) throw new Error(`destination "${container}:${dstPath}" must be a directory or a regular file: ${problem}`);
  if (dstStat) {
    dstInfo.exists = true;
    dstInfo.isDir = modeIs(dstStat.mode, MODE_DIR);
  }
  let content: Readable;
  let resolvedDst: string;
  let copied = 0;
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
    content = cli.in;
    resolvedDst = dstInfo.path;
  } else {
    const srcInfo = await localSource(srcPath, f.followLink.value);
    const archive = await localArchive(srcInfo);
    let prepared: { dstDir: string; rebase?: { from: string; to: string } };
    try {
      prepared = prepareArchiveCopy(srcInfo, dstInfo);
    } catch (e) {
      archive.destroy();
      throw e;
    }
    resolvedDst = prepared.dstDir;
    const rebased = prepared.rebase ? rebaseArchive(archive, prepared.rebase.from, prepared.rebase.to) : archive;
    content = quiet ? rebased : rebased.pipe(counter((n) => (copied += n)));
    if (!quiet) rebased.on('error', (e) => content.destroy(e));
  }
  const query = { path: resolvedDst, noOverwriteDirNonDir: 'true', copyUIDGID: f.archive.value ? 'true' : undefined };
  const put = () => cli.client.call('PUT', `/containers/${container}/archive`, { query, body: content, headers: { 'Content-Type': 'application/x-tar' } });
  if (quiet) return put();
  let failure: unknown;
  try {
    await put();
  } catch (e) {
    failure = e;
  }
  cli.err.write(`Successfully copied ${humanSizeWithPrecision(copied, 3)} to ${container}:${dstInfo.path}\n`);
  if (failure) throw failure;
}

export const command: CommandDef<CpFlags> = {
  args: exactArgs(2),
  flags: (fs: FlagSet) => ({
    archive: fs.bool('archive', 'a', false, 'Archive mode (copy all uid/gid information)'),
    followLink: fs.bool('follow-link', 'L', false, 'Always follow symbol link in SRC_PATH'),
    quiet: fs.bool('quiet', 'q', false, 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached'),
  }),
  async run(cli: Cli, f: CpFlags, [source, destination]: string[]) {
    if (source === '') throw new Error('source can not be empty');
    if (destination === '') throw new Error('destination can not be empty');
    const quiet = f.quiet.changed ? f.quiet.value : !cli.outIsTerminal;
    const src = splitCpArg(source);
    const dst = splitCpArg(destination);
    if (src.container && dst.container) throw new Error('copying between containers is not supported');
    if (src.container) return copyFromContainer(cli, f, quiet, src.container, src.path, dst.path);
    if (dst.container) return copyToContainer(cli, f, quiet, dst.container, src.path, dst.path);
    throw new Error('must specify at least one container source');
  },
};
