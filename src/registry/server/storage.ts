// The registry's files under --root, laid out like distribution's filesystem driver:
//
//   blobs/<alg>/<hex>                                   content, blobs and manifests alike
//   repositories/<name>/_layers/<alg>/<hex>             link: the repository may serve this blob
//   repositories/<name>/_manifests/revisions/<alg>/<hex>  link holding the manifest's media type
//   repositories/<name>/_manifests/tags/<tag>           the digest the tag points at
//   repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex>  link: a manifest whose subject is <hex>
//   repositories/<name>/_uploads/<uuid>/                upload sessions (uploads.ts)
//   tmp/                                                monolithic pushes being hashed
//
// Content appears only complete: bytes are written and hashed elsewhere, then renamed into
// blobs/ once the digest is verified; links and tags are written with writeFileAtomic and
// only after what they point at exists. A kill -9 at any instant leaves at worst an unused
// blob (gc removes it) or a temporary file (init() removes it), never a half-written one.
// Path components never start with "_" in a repository name, so "_layers" and the rest
// cannot clash with a nested repository.
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp, type ReadStream } from 'node:fs';
import { join } from 'node:path';
import { isTempName, writeFileAtomic } from '../../util/atomic.ts';
import { parseDigest, type ParsedDigest } from './digests.ts';

const HEX_NAME = /^[a-f0-9]{64}$|^[a-f0-9]{128}$/;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A directory's entries; none when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Digests named by <alg>/<hex> entries below dir. */
async function digestsUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const alg of await listDir(dir)) {
    for (const hex of await listDir(join(dir, alg))) {
      const d = HEX_NAME.test(hex) ? parseDigest(`${alg}:${hex}`) : undefined;
      if (d) out.push(d.digest);
    }
  }
  return out;
}

export class Storage {
  readonly root: string;
  readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, 'tmp');
  }

  /** Creates the layout and removes what an interrupted write left: tmp/ and temp files. */
  async init(): Promise<void> {
    await fsp.mkdir(join(this.root, 'blobs'), { recursive: true });
    await fsp.mkdir(join(this.root, 'repositories'), { recursive: true });
    await fsp.rm(this.tmpDir, { recursive: true, force: true });
    await fsp.mkdir(this.tmpDir, { recursive: true });
    await this.removeTempFiles(join(this.root, 'blobs'));
    await this.removeTempFiles(join(this.root, 'repositories'));
  }

  private async removeTempFiles(dir: string): Promise<void> {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await this.removeTempFiles(p);
      else if (isTempName(e.name)) await fsp.rm(p, { force: true });
    }
  }

  // --- blobs (global content) ---

  blobPath(d: ParsedDigest): string {
    return join(this.root, 'blobs', d.algorithm, d.hex);
  }

  /** The blob's size, or undefined when it is not stored. */
  async blobSize(d: ParsedDigest): Promise<number | undefined> {
    try {
      const st = await fsp.stat(this.blobPath(d));
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  readBlob(d: ParsedDigest, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.blobPath(d), { highWaterMark: 1 << 20, ...range });
  }

  /** A path in tmp/ for bytes still being hashed. */
  tempPath(): string {
    return join(this.tmpDir, randomBytes(16).toString('hex'));
  }

  /**
   * Moves a fully written file whose digest the caller has verified into blobs/. Flushed
   * first, so even a power cut cannot leave a blob path with lost bytes. An existing blob
   * has these same bytes by definition; rename replaces it atomically.
   */
  async commitBlob(file: string, d: ParsedDigest): Promise<void> {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.mkdir(join(this.root, 'blobs', d.algorithm), { recursive: true });
    await fsp.rename(file, this.blobPath(d));
  }

  /** Stores small content (a manifest) under its digest. */
  async putSmallBlob(bytes: Uint8Array, d: ParsedDigest): Promise<void> {
    if ((await this.blobSize(d)) === bytes.length) return;
    await fsp.mkdir(join(this.root, 'blobs', d.algorithm), { recursive: true });
    await writeFileAtomic(this.blobPath(d), bytes, 0o644);
  }

  async allBlobs(): Promise<string[]> {
    return digestsUnder(join(this.root, 'blobs'));
  }

  async deleteBlob(d: ParsedDigest): Promise<void> {
    await fsp.rm(this.blobPath(d), { force: true });
  }

  // --- repositories ---

  repoDir(name: string): string {
    return join(this.root, 'repositories', ...name.split('/'));
  }

  async repoExists(name: string): Promise<boolean> {
    const dir = this.repoDir(name);
    return (await exists(join(dir, '_layers'))) || (await exists(join(dir, '_manifests')));
  }

  /** Every repository holding blobs or manifests, nested names included. */
  async repositories(): Promise<string[]> {
    return this.reposWith(['_layers', '_manifests']);
  }

  /** Every repository with upload sessions (which may be its only content so far). */
  async repositoriesWithUploads(): Promise<string[]> {
    return this.reposWith(['_uploads']);
  }

  private async reposWith(markers: string[]): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string[]) => {
      const entries = await listDir(dir);
      if (prefix.length > 0 && entries.some((e) => markers.includes(e))) out.push(prefix.join('/'));
      for (const e of entries) {
        if (e.startsWith('_') || isTempName(e)) continue;
        if ((await fsp.stat(join(dir, e)).catch(() => undefined))?.isDirectory()) await walk(join(dir, e), [...prefix, e]);
      }
    };
    await walk(join(this.root, 'repositories'), []);
    return out;
  }

  private layerLink(name: string, d: ParsedDigest): string {
    return join(this.repoDir(name), '_layers', d.algorithm, d.hex);
  }

  /** Makes a stored blob visible in a repository (after a push or a mount). */
  async linkBlob(name: string, d: ParsedDigest): Promise<void> {
    const link = this.layerLink(name, d);
    await fsp.mkdir(join(link, '..'), { recursive: true });
    await writeFileAtomic(link, d.digest, 0o644);
  }

  /** The blob's size if the repository may serve it (linked and stored), else undefined. */
  async repoBlobSize(name: string, d: ParsedDigest): Promise<number | undefined> {
    if (!(await exists(this.layerLink(name, d)))) return undefined;
    return this.blobSize(d);
  }

  /** Unlinks a blob from a repository; false when it was not linked. */
  async unlinkBlob(name: string, d: ParsedDigest): Promise<boolean> {
    const link = this.layerLink(name, d);
    if (!(await exists(link))) return false;
    await fsp.rm(link, { force: true });
    return true;
  }

  async repoBlobLinks(name: string): Promise<string[]> {
    return digestsUnder(join(this.repoDir(name), '_layers'));
  }

  // --- manifests, tags, referrers ---

  private revisionLink(name: string, d: ParsedDigest): string {
    return join(this.repoDir(name), '_manifests', 'revisions', d.algorithm, d.hex);
  }

  private tagsDir(name: string): string {
    return join(this.repoDir(name), '_manifests', 'tags');
  }

  /** Records a stored manifest blob as a revision of the repository, with its media type. */
  async linkManifest(name: string, d: ParsedDigest, mediaType: string): Promise<void> {
    const link = this.revisionLink(name, d);
    await fsp.mkdir(join(link, '..'), { recursive: true });
    await writeFileAtomic(link, mediaType, 0o644);
  }

  /** The media type of a manifest revision of the repository, or undefined. */
  async manifestMediaType(name: string, d: ParsedDigest): Promise<string | undefined> {
    return readText(this.revisionLink(name, d));
  }

  async unlinkManifest(name: string, d: ParsedDigest): Promise<void> {
    await fsp.rm(this.revisionLink(name, d), { force: true });
  }

  async manifestRevisions(name: string): Promise<string[]> {
    return digestsUnder(join(this.repoDir(name), '_manifests', 'revisions'));
  }

  async setTag(name: string, tag: string, digest: string): Promise<void> {
    await fsp.mkdir(this.tagsDir(name), { recursive: true });
    await writeFileAtomic(join(this.tagsDir(name), tag), digest, 0o644);
  }

  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    return (await readText(join(this.tagsDir(name), tag)))?.trim();
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const p = join(this.tagsDir(name), tag);
    if (!(await exists(p))) return false;
    await fsp.rm(p, { force: true });
    return true;
  }

  async tags(name: string): Promise<string[]> {
    return (await listDir(this.tagsDir(name))).filter((t) => !isTempName(t));
  }

  private referrersDir(name: string, subject: ParsedDigest): string {
    return join(this.repoDir(name), '_referrers', subject.algorithm, subject.hex);
  }

  async linkReferrer(name: string, subject: ParsedDigest, referrer: ParsedDigest): Promise<void> {
    const dir = this.referrersDir(name, subject);
    await fsp.mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, `${referrer.algorithm}-${referrer.hex}`), referrer.digest, 0o644);
  }

  async unlinkReferrer(name: string, subject: ParsedDigest, referrer: ParsedDigest): Promise<void> {
    await fsp.rm(join(this.referrersDir(name, subject), `${referrer.algorithm}-${referrer.hex}`), { force: true });
  }

  /** Digests of the repository's manifests whose subject is `subject`. */
  async referrers(name: string, subject: ParsedDigest): Promise<ParsedDigest[]> {
    const out: ParsedDigest[] = [];
    for (const e of await listDir(this.referrersDir(name, subject))) {
      const d = parseDigest(e.replace('-', ':'));
      if (d) out.push(d);
    }
    return out;
  }
}
