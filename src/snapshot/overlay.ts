// The overlayfs snapshotter. On disk, under root:
//   snapshots/<chain-id hex>/diff/    one layer's files (whiteouts as overlayfs expects them)
//   snapshots/<chain-id hex>/parent   the parent's chain id ("sha256:...") or empty
//   snapshots/<chain-id hex>/link     the layer's short name, see l/
//   l/<12 chars> -> ../snapshots/<hex>/diff
//   active/<key>/{upper/,work/,parent}  a container's writable layer
//   empty/                            the lower dir of a container without image layers
//   tmp/                              work in progress; emptied by init()
// Everything appears by renaming a finished directory out of tmp/, so a kill -9 at any
// point leaves either nothing or a complete snapshot.
//
// Mount data is limited to one page. As Docker's overlay2 does, lowerdir names layers by
// their short links (root/l/XXXXXXXXXXXX) rather than by 64-hex-digit paths, which keeps
// about 100 layers within a page for a root like /var/lib/berth/overlay2; beyond that mountAll() (mount.ts)
// switches to paths relative to root, which fits overlayfs's own limit of 500 layers.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { applyTar } from './apply.ts';
import type { ApplyLayerOptions, ApplyResult, Mount, Snapshotter } from './snapshotter.ts';
import { badParameter, conflict, notFound } from '../util/errors.ts';
import { hasCode } from '../util/native.ts';

const CHAIN_ID = /^sha256:([0-9a-f]{64})$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const LINK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// Mount options for every container: no inode index (we never export the fs), and no
// redirects/metacopy, so an upper dir always holds complete copies that can be packed into
// a plain layer tar.
const OVERLAY_FLAGS = ['index=off', 'redirect_dir=nofollow', 'metacopy=off'];

function hexOf(chainId: string): string {
  const m = CHAIN_ID.exec(chainId);
  if (!m) throw badParameter(`invalid chain id: ${JSON.stringify(chainId)}`);
  return m[1]!;
}

function checkKey(key: string): void {
  if (!KEY.test(key)) throw badParameter(`invalid snapshot key: ${JSON.stringify(key)}`);
}

function newLinkName(): string {
  return [...randomBytes(12)].map((b) => LINK_ALPHABET[b % LINK_ALPHABET.length]).join('');
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Like Promise.all, but settles only after every promise has: the cleanup that follows a
 * failure must not race the others. */
async function allSettledOrThrow(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Drains a stream we do not unpack, for its digest. */
async function digestOnly(tar: AsyncIterable<Uint8Array>): Promise<ApplyResult> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of tar) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

export interface OverlayOptions {
  /** --userns-remap: layer ownership shifted into the remapped range on unpack. */
  mapIds?: (uid: number, gid: number) => [number, number];
}

export class OverlaySnapshotter implements Snapshotter {
  readonly root: string;
  private readonly mapIds: OverlayOptions['mapIds'];

  constructor(root: string, opts: OverlayOptions = {}) {
    this.root = root;
    this.mapIds = opts.mapIds;
  }

  /** Directories that are a container's "/" belong to its root (the remapped one, if any),
   * as Docker's overlay2 makes them. */
  private async ownByRoot(...dirs: string[]): Promise<void> {
    if (!this.mapIds) return;
    const [uid, gid] = this.mapIds(0, 0);
    for (const d of dirs) await fsp.chown(d, uid, gid);
  }

  private snapshotDir(chainId: string): string {
    return join(this.root, 'snapshots', hexOf(chainId));
  }

  private activeDir(key: string): string {
    checkKey(key);
    return join(this.root, 'active', key);
  }

  private async tempDir(): Promise<string> {
    const dir = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    await fsp.mkdir(dir, { recursive: true });
    return dir;
  }

  /** Deletions running in the background, of directories already moved into tmp/. */
  private readonly deleting = new Set<Promise<void>>();

  /** Moves a directory into tmp/ (instantly invisible) and deletes it there without
   * waiting: a crash leaves it in tmp/, which init() empties. */
  private async discard(dir: string): Promise<boolean> {
    const trash = join(this.root, 'tmp', `rm-${randomBytes(8).toString('hex')}`);
    try {
      await fsp.rename(dir, trash);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return false;
      throw err;
    }
    const done: Promise<void> = fsp
      .rm(trash, { recursive: true, force: true })
      .catch(() => undefined) // what is left is init()'s to remove
      .finally(() => this.deleting.delete(done));
    this.deleting.add(done);
    return true;
  }

  /** Resolves once the deletions removeActive() left running have finished. */
  async settled(): Promise<void> {
    while (this.deleting.size) await Promise.all(this.deleting);
  }

  async init(): Promise<void> {
    for (const d of ['snapshots', 'active', 'l', 'tmp', 'empty']) await fsp.mkdir(join(this.root, d), { recursive: true, mode: 0o700 });
    await fsp.chmod(join(this.root, 'empty'), 0o755);
    await this.ownByRoot(join(this.root, 'empty'));
    for (const name of await fsp.readdir(join(this.root, 'tmp'))) {
      await fsp.rm(join(this.root, 'tmp', name), { recursive: true, force: true });
    }
    // Links whose snapshot never got committed (crash mid-apply) or was half removed.
    const links = new Set<string>();
    for (const name of await fsp.readdir(join(this.root, 'l'))) {
      const link = join(this.root, 'l', name);
      try {
        await fsp.stat(link); // follows the link: is its snapshot there?
        links.add(name);
      } catch (err) {
        if (!hasCode(err, 'ENOENT')) throw err;
        await fsp.rm(link, { force: true });
      }
    }
    for (const hex of await fsp.readdir(join(this.root, 'snapshots'))) {
      const name = await this.readText(join(this.root, 'snapshots', hex, 'link'));
      if (name && !links.has(name)) await fsp.symlink(`../snapshots/${hex}/diff`, join(this.root, 'l', name));
    }
  }

  async has(chainId: string): Promise<boolean> {
    return exists(join(this.snapshotDir(chainId), 'diff'));
  }

  /** The directory holding one committed layer's own files. */
  diffDir(chainId: string): string {
    return join(this.snapshotDir(chainId), 'diff');
  }

  async applyLayer(parent: string | undefined, chainId: string, tar: AsyncIterable<Uint8Array>, expectedDiffId?: string, opts: ApplyLayerOptions = {}): Promise<ApplyResult> {
    const target = this.snapshotDir(chainId);
    const parentReady = opts.parentReady;
    // The parent must exist by the time its content is needed, and before the commit.
    const needParent = async () => {
      if (parentReady) await parentReady;
      if (parent !== undefined && !(await this.has(parent))) throw notFound(`parent snapshot ${parent} does not exist`);
    };
    if (!parentReady) await needParent();
    const check = (result: ApplyResult) => {
      if (expectedDiffId !== undefined && result.diffId !== expectedDiffId) {
        throw badParameter(`layer digest mismatch: expected ${expectedDiffId}, got ${result.diffId}`);
      }
      return result;
    };
    if (await this.has(chainId)) return check(await digestOnly(tar));

    const tmp = await this.tempDir();
    let linkPath: string | undefined;
    try {
      const lowerDirs = async () => {
        await needParent();
        return parent ? (await this.chain(parent)).map((hex) => join(this.root, 'snapshots', hex, 'diff')) : [];
      };
      const result = check(await applyTar(join(tmp, 'diff'), tar, { lowerDirs, format: 'overlay', mapIds: this.mapIds }));
      await needParent(); // committed only on top of a committed parent
      await fsp.writeFile(join(tmp, 'parent'), parent ?? '');
      // The link exists before the rename; a crash in between leaves only a dangling link,
      // which init() removes.
      let name: string;
      for (;;) {
        name = newLinkName();
        try {
          await fsp.symlink(`../snapshots/${hexOf(chainId)}/diff`, join(this.root, 'l', name));
          linkPath = join(this.root, 'l', name);
          break;
        } catch (err) {
          if (!hasCode(err, 'EEXIST')) throw err;
        }
      }
      await fsp.writeFile(join(tmp, 'link'), name);
      try {
        await fsp.rename(tmp, target);
      } catch (err) {
        // Someone committed the same chain id meanwhile: theirs is as good as ours.
        if (!hasCode(err, 'EEXIST', 'ENOTEMPTY')) throw err;
        await fsp.rm(linkPath, { force: true });
        await fsp.rm(tmp, { recursive: true, force: true });
      }
      return result;
    } catch (err) {
      if (linkPath) await fsp.rm(linkPath, { force: true });
      await fsp.rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** The chain from chainId down to the base layer, as hex ids, top first. */
  private async chain(chainId: string): Promise<string[]> {
    const out: string[] = [];
    let id: string | undefined = chainId;
    while (id) {
      const hex = hexOf(id);
      if (out.includes(hex)) throw new Error(`snapshot chain loop at ${id}`);
      const parent = await this.readText(join(this.root, 'snapshots', hex, 'parent'));
      if (parent === undefined) throw notFound(`snapshot ${id} does not exist`);
      out.push(hex);
      id = parent || undefined;
    }
    return out;
  }

  private async readText(path: string): Promise<string | undefined> {
    try {
      return (await fsp.readFile(path, 'utf8')).trim();
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** Idempotent: removing a snapshot that does not exist does nothing. */
  async remove(chainId: string): Promise<void> {
    const dir = this.snapshotDir(chainId);
    const link = await this.readText(join(dir, 'link'));
    const trash = join(this.root, 'tmp', `rm-${randomBytes(8).toString('hex')}`);
    try {
      await fsp.rename(dir, trash);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      throw err;
    }
    if (link) await fsp.rm(join(this.root, 'l', link), { force: true });
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /** Bytes of the layer's own files, each inode counted once, directories not counted (as
   * Docker reports layer sizes). */
  async usage(chainId: string): Promise<number> {
    const diff = join(this.snapshotDir(chainId), 'diff');
    if (!(await exists(diff))) throw notFound(`snapshot ${chainId} does not exist`);
    const seen = new Set<number>();
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
        const path = join(dir, ent.name);
        if (ent.isDirectory()) {
          await walk(path);
          continue;
        }
        const st = await fsp.lstat(path);
        if (st.nlink > 1) {
          if (seen.has(st.ino)) continue;
          seen.add(st.ino);
        }
        total += st.size;
      }
    };
    await walk(diff);
    return total;
  }

  async prepare(key: string, parent: string | undefined): Promise<Mount[]> {
    const dir = this.activeDir(key);
    const [taken, parentThere] = await Promise.all([exists(dir), parent === undefined || this.has(parent)]);
    if (taken) throw conflict(`snapshot ${key} already exists`);
    if (!parentThere) throw notFound(`parent snapshot ${parent} does not exist`);
    const tmp = await this.tempDir();
    try {
      await allSettledOrThrow([
        fsp.mkdir(join(tmp, 'upper'), { mode: 0o755 }).then(() => fsp.chmod(join(tmp, 'upper'), 0o755)),
        fsp.mkdir(join(tmp, 'work'), { mode: 0o700 }),
        fsp.writeFile(join(tmp, 'parent'), parent ?? ''),
      ]);
      await this.ownByRoot(join(tmp, 'upper'), join(tmp, 'work'));
      try {
        await fsp.rename(tmp, dir);
      } catch (err) {
        if (hasCode(err, 'EEXIST', 'ENOTEMPTY')) throw conflict(`snapshot ${key} already exists`);
        throw err;
      }
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return this.mounts(key);
  }

  async mounts(key: string): Promise<Mount[]> {
    const dir = this.activeDir(key);
    const parent = await this.readText(join(dir, 'parent'));
    if (parent === undefined) throw notFound(`snapshot ${key} does not exist`);
    let lowers: string[];
    if (parent) {
      lowers = [];
      for (const hex of await this.chain(parent)) {
        const name = await this.readText(join(this.root, 'snapshots', hex, 'link'));
        lowers.push(name ? join(this.root, 'l', name) : join(this.root, 'snapshots', hex, 'diff'));
      }
    } else {
      lowers = [join(this.root, 'empty')];
    }
    return [{
      type: 'overlay',
      source: 'overlay',
      options: [`lowerdir=${lowers.join(':')}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`, ...OVERLAY_FLAGS],
    }];
  }

  upperDir(key: string): string {
    return join(this.activeDir(key), 'upper');
  }

  /** Idempotent: removing a writable snapshot that does not exist does nothing. It is gone
   * when this resolves; its files may take a moment longer (see settled()). */
  async removeActive(key: string): Promise<void> {
    await this.discard(this.activeDir(key));
  }
}
