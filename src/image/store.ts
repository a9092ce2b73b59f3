// The image store: image records and repository references over a content store (blobs)
// and a snapshotter (unpacked layers).
//
// On disk, under root:
//   images/<id-hex>.json  one record per image (layers' diff/chain ids and sizes, parent,
//                         known manifest digests, record creation and last tag time)
//   refs.json             { "docker.io/library/busybox:latest": "sha256:<id>", ... }
//   layers.json           { "<chain id>": "<parent chain id or ''>" } every snapshot the
//                         store created, written before the snapshot is applied, so that
//                         snapshots orphaned by a crash can still be found and removed.
// Writes go blobs -> snapshots -> record -> refs (and the reverse on delete), each file
// replaced atomically, so a kill -9 at any instant leaves a store that init() repairs:
// records whose blobs or snapshots are missing are dropped, refs to missing images are
// dropped, blobs no record references are deleted.
// Records and refs are kept in memory after init(): resolve() is on the hot path of run.
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContentStore, PendingBlob } from '../content/store.ts';
import { digestOf, hexOf, isDigest } from '../content/digest.ts';
import type { ApplyLayerOptions, Snapshotter } from '../snapshot/snapshotter.ts';
import { isTempName, readJson, writeJsonAtomic } from '../util/atomic.ts';
import { badParameter, conflict, notFound, EngineError } from '../util/errors.ts';
import { shortId } from '../util/ids.ts';
import { log } from '../util/log.ts';
import { parseRfc3339, rfc3339Nano } from '../util/time.ts';
import { chainIds } from './layers.ts';
import { teeStream } from './tee.ts';
import { Mutex } from './mutex.ts';
import {
  familiarName, familiarString, fullName, isIdPrefix, parseExact, parseReference, referenceString, withDefaultTag,
  type Reference,
} from './reference.ts';
import type { ImageConfig, ImageRuntimeConfig } from './types.ts';
import { boolFilter, has, matchKVList, parseTimestamp, validateFilters, values, type Filters } from './filters.ts';
import { historyView, inspectView, type HistoryItem, type ImageSummary, type ImageView } from './views.ts';
import { listImages, type ListCandidate, type ListOptions } from './list.ts';
import { RefIndex } from './refs.ts';
import {
  CONFLICT_ACTIVE_REFERENCE, CONFLICT_DEPENDENT_CHILD, CONFLICT_HARD, CONFLICT_RUNNING, CONFLICT_SOFT, CONFLICT_STOPPED,
  isImageIdPrefix, isSingleReference, normalizeUsers, type DeleteItem, type UsedBy,
} from './delete-rules.ts';

export type { DeleteItem, ImageUser, UsedBy } from './delete-rules.ts';
export type { ListOptions } from './list.ts';

export interface LayerInfo {
  diffId: string;
  chainId: string;
  /** Disk usage of this layer's snapshot (Docker's layer DiffSize). */
  size: number;
}

interface RecordFile {
  id: string;
  parent?: string;
  layers: LayerInfo[];
  manifests: string[];
  created: string;
  lastTagTime?: string;
}

interface Entry {
  file: RecordFile;
  config: ImageConfig;
}

export interface ImageRecord {
  /** "sha256:<hex>": the digest of the config blob. */
  id: string;
  config: ImageConfig;
  /** Chain id of the top layer; undefined for an image without layers. */
  chainId: string | undefined;
  layers: readonly LayerInfo[];
  /** Parent image id ('' when none: images that were loaded or imported). */
  parent: string;
  manifests: readonly string[];
  /** Familiar "name:tag" strings, sorted as Docker sorts them. */
  repoTags: string[];
  /** Familiar "name@digest" strings. */
  repoDigests: string[];
  size: number;
  /** When this record was made. */
  created: string;
  lastTagTime: string | undefined;
}

export interface PruneReport {
  ImagesDeleted: DeleteItem[] | null;
  SpaceReclaimed: number;
}

/** Docker's image events (docker events): the actor is the image id, name its "name" attribute. */
export type ImageEventAction = 'create' | 'tag' | 'untag' | 'delete' | 'load' | 'import' | 'save' | 'pull' | 'push';
export type ImageEventListener = (action: ImageEventAction, id: string, name: string) => void;

/** Where a new image's layer tars come from when the content store lacks them. */
export type LayerSource = PendingBlob | (() => AsyncIterable<Uint8Array>);

export interface CreateOptions {
  parent?: string;
  /** Digests of manifests known to describe this image (e.g. from an OCI archive). */
  manifests?: string[];
  /** Uncompressed layer tars by diff id, for layers the content store does not have yet. */
  layerSources?: ReadonlyMap<string, LayerSource>;
}

/** A snapshotter that can tell where a committed layer's files are (for GraphDriver data). */
interface DiffDirs {
  diffDir(chainId: string): string;
}

const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'] as const;

interface DeleteConflict {
  hard: boolean;
  used: boolean;
  error: EngineError;
}

export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshotter: Snapshotter;
  private readonly images = new Map<string, Entry>();
  private readonly refs: RefIndex;
  /** Chain id -> parent chain id ('' for a base layer): every snapshot this store made. */
  private readonly layerRegistry = new Map<string, string>();
  private readonly mutex = new Mutex();
  /** Snapshots of images being pulled (no record yet): kept from layer collection, with a count per pull. */
  private readonly pinned = new Map<string, number>();
  /** Called after each image event; set by the daemon to feed /events. */
  onEvent: ImageEventListener | undefined;

  constructor(root: string, content: ContentStore, snapshotter: Snapshotter) {
    this.root = root;
    this.content = content;
    this.snapshotter = snapshotter;
    this.refs = new RefIndex(join(root, 'refs.json'));
  }

  private get imagesDir(): string {
    return join(this.root, 'images');
  }
  private recordPath(id: string): string {
    return join(this.imagesDir, `${hexOf(id)}.json`);
  }
  private get layersPath(): string {
    return join(this.root, 'layers.json');
  }

  emit(action: ImageEventAction, id: string, name = id): void {
    try {
      this.onEvent?.(action, id, name);
    } catch (err) {
      log.warn('image event listener failed', { error: err });
    }
  }

  // ---- start-up and repair ----

  async init(): Promise<void> {
    await this.mutex.run(async () => {
      this.images.clear();
      this.layerRegistry.clear();
      await fsp.mkdir(this.imagesDir, { recursive: true });
      for (const [chain, parent] of Object.entries((await readJson<Record<string, string>>(this.layersPath)) ?? {})) {
        if (isDigest(chain) && (parent === '' || isDigest(parent))) this.layerRegistry.set(chain, parent);
      }
      for (const name of await fsp.readdir(this.imagesDir)) {
        const path = join(this.imagesDir, name);
        if (isTempName(name)) {
          await fsp.rm(path, { force: true });
          continue;
        }
        const m = /^([a-f0-9]{64})\.json$/.exec(name);
        if (!m) continue;
        const id = `sha256:${m[1]}`;
        const entry = await this.loadEntry(path, id).catch((err) => {
          log.warn('unreadable image record', { id, error: err });
          return undefined;
        });
        if (!entry) {
          log.warn('dropping image record whose content is missing', { id });
          await fsp.rm(path, { force: true });
          continue;
        }
        this.images.set(id, entry);
      }
      let registryChanged = false;
      for (const e of this.images.values()) {
        e.file.layers.forEach((l, i) => {
          if (!this.layerRegistry.has(l.chainId)) {
            this.layerRegistry.set(l.chainId, i === 0 ? '' : e.file.layers[i - 1].chainId);
            registryChanged = true;
          }
        });
      }
      for (const chain of [...this.layerRegistry.keys()]) {
        if (!(await this.snapshotter.has(chain))) {
          this.layerRegistry.delete(chain);
          registryChanged = true;
        }
      }
      if (registryChanged) await this.saveLayerRegistry();

      const refsChanged = await this.refs.load((id) => this.images.has(id));
      if (refsChanged) await this.refs.save();
      await this.collectBlobs(await this.content.list());
    });
  }

  /** Reads and checks one record; undefined when its config, layer blobs or snapshots are gone. */
  private async loadEntry(path: string, id: string): Promise<Entry | undefined> {
    const file = await readJson<RecordFile>(path);
    if (!file || file.id !== id || !Array.isArray(file.layers)) return undefined;
    if (!(await this.content.has(id))) return undefined;
    const bytes = await this.content.readBytes(id);
    if (digestOf(bytes) !== id) return undefined;
    const config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    const chains = chainIds(diffIds);
    if (diffIds.length !== file.layers.length) return undefined;
    for (let i = 0; i < diffIds.length; i++) {
      const l = file.layers[i];
      if (l.diffId !== diffIds[i] || l.chainId !== chains[i]) return undefined;
      if (!(await this.content.has(l.diffId)) || !(await this.snapshotter.has(l.chainId))) return undefined;
    }
    file.manifests = (file.manifests ?? []).filter(isDigest);
    if (file.parent !== undefined && !isDigest(file.parent)) delete file.parent;
    return { file, config };
  }

  // ---- lookups (in memory) ----

  /** Finds an image by id, id prefix, name[:tag] or name@digest. Throws 404 (or 400 for a malformed reference). */
  resolve(nameOrId: string): ImageRecord {
    return this.toRecord(this.resolveEntry(nameOrId));
  }

  /** resolve() in the shape the container service wants. */
  resolveForContainer(nameOrId: string): { id: string; defaults: ImageRuntimeConfig; chainId?: string } {
    const e = this.resolveEntry(nameOrId);
    const layers = e.file.layers;
    return { id: e.file.id, defaults: e.config.config ?? {}, chainId: layers.length ? layers[layers.length - 1].chainId : undefined };
  }

  /** Like resolve(), but undefined instead of a 404. */
  find(nameOrId: string): ImageRecord | undefined {
    try {
      return this.resolve(nameOrId);
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return undefined;
      throw err;
    }
  }

  get(id: string): ImageRecord | undefined {
    const e = this.images.get(id);
    return e && this.toRecord(e);
  }

  all(): ImageRecord[] {
    return [...this.images.values()].map((e) => this.toRecord(e));
  }

  private resolveEntry(s: string): Entry {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(s)) {
      const id = s.startsWith('sha256:') ? s : `sha256:${s}`;
      const e = this.images.get(id);
      if (!e) throw notFound(`No such image: ${id}`);
      return e;
    }
    const ref = parseReference(s);
    const key = ref.digest !== undefined ? `${fullName(ref)}@${ref.digest}` : referenceString(withDefaultTag(ref));
    const byRef = this.refs.get(key);
    if (byRef) return this.images.get(byRef)!;
    if (isIdPrefix(s)) {
      const hex = s.startsWith('sha256:') ? s.slice(7) : s;
      let found: Entry | undefined;
      let count = 0;
      for (const [id, e] of this.images) {
        if (id.startsWith(`sha256:${hex}`)) {
          found = e;
          count++;
        }
      }
      if (count === 1) return found!;
    }
    throw notFound(`No such image: ${familiarString(ref.digest !== undefined ? ref : withDefaultTag(ref))}`);
  }

  private toRecord(e: Entry): ImageRecord {
    const refs = this.refs.of(e.file.id).map(parseExact);
    const layers = e.file.layers;
    return {
      id: e.file.id,
      config: e.config,
      chainId: layers.length ? layers[layers.length - 1].chainId : undefined,
      layers,
      parent: e.file.parent ?? '',
      manifests: e.file.manifests,
      repoTags: refs.filter((r) => r.tag !== undefined && r.digest === undefined).map(familiarString),
      repoDigests: refs.filter((r) => r.digest !== undefined).map(familiarString),
      size: layers.reduce((n, l) => n + l.size, 0),
      created: e.file.created,
      lastTagTime: e.file.lastTagTime,
    };
  }

  private view(e: Entry): ImageView {
    const r = this.toRecord(e);
    return { ...r, layerSizes: e.file.layers.map((l) => l.size) };
  }

  private children(id: string): string[] {
    const out: string[] = [];
    for (const [cid, e] of this.images) if (e.file.parent === id) out.push(cid);
    return out;
  }

  // ---- API views ----

  inspect(nameOrId: string): Record<string, unknown> {
    const e = this.resolveEntry(nameOrId);
    return inspectView(this.view(e), this.graphDriverData(e));
  }

  history(nameOrId: string): HistoryItem[] {
    return historyView(this.view(this.resolveEntry(nameOrId)));
  }

  private graphDriverData(e: Entry): Record<string, string> {
    const s = this.snapshotter as Snapshotter & Partial<DiffDirs>;
    const layers = e.file.layers;
    if (layers.length === 0 || typeof s.diffDir !== 'function') return {};
    const dirs = layers.map((l) => s.diffDir!(l.chainId)).reverse();
    const top = dirname(dirs[0]);
    const data: Record<string, string> = {};
    if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
    data.MergedDir = join(top, 'merged');
    data.UpperDir = dirs[0];
    data.WorkDir = join(top, 'work');
    return data;
  }

  /** GET /images/json, with Docker's filters and dangling/intermediate rules; newest first. */
  list(opts: ListOptions = {}): ImageSummary[] {
    const candidates: ListCandidate[] = [...this.images.values()].map((e) => ({
      view: this.view(e),
      refs: this.refs.of(e.file.id).map(parseExact),
      created: this.createdNanos(e),
      hasChildren: this.children(e.file.id).length > 0,
      layers: e.file.layers,
    }));
    return listImages(candidates, opts, (name) => this.createdNanos(this.resolveEntry(name)));
  }

  private createdNanos(e: Entry): bigint | undefined {
    return e.config.created ? parseRfc3339(e.config.created) : undefined;
  }

  // ---- creating images ----

  /**
   * Adds an image from its config blob. Layers missing from the content store are taken
   * from opts.layerSources (verified against the config's diff ids); layers without a
   * snapshot are unpacked. Adding an image that exists merges the manifests it is known by.
   */
  createImage(configBytes: Uint8Array, opts: CreateOptions = {}): Promise<ImageRecord> {
    return this.mutex.run(() => this.createLocked(Buffer.from(configBytes), opts));
  }

  private async createLocked(configBytes: Buffer, opts: CreateOptions): Promise<ImageRecord> {
    const id = digestOf(configBytes);
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch {
      throw badParameter('invalid image config: not JSON');
    }
    if (!config || typeof config !== 'object' || !config.rootfs || !Array.isArray(config.rootfs.diff_ids)) {
      throw badParameter('invalid image config: no rootfs.diff_ids');
    }
    const diffIds = config.rootfs.diff_ids;
    for (const d of diffIds) if (!isDigest(d)) throw badParameter(`invalid image config: bad diff id ${JSON.stringify(d)}`);
    if (config.os && config.os !== 'linux') throw badParameter(`image operating system "${config.os}" cannot be used on this platform`);
    if (opts.parent !== undefined && !this.images.has(opts.parent)) throw notFound(`No such image: ${opts.parent}`);
    const chains = chainIds(diffIds);

    if (!(await this.content.has(id))) await this.content.put(configBytes, id);
    const layers: LayerInfo[] = [];
    for (let i = 0; i < diffIds.length; i++) {
      const diffId = diffIds[i];
      const chainId = chains[i];
      const parent = i === 0 ? undefined : chains[i - 1];
      if (!(await this.content.has(diffId))) await this.storeLayerBlob(diffId, i, opts.layerSources?.get(diffId));
      if (!(await this.snapshotter.has(chainId))) {
        // Registered before it exists: a crash mid-apply leaves a findable orphan.
        if (!this.layerRegistry.has(chainId)) {
          this.layerRegistry.set(chainId, parent ?? '');
          await this.saveLayerRegistry();
        }
        try {
          await this.snapshotter.applyLayer(parent, chainId, this.content.readStream(diffId), diffId);
        } catch (err) {
          this.layerRegistry.delete(chainId);
          await this.saveLayerRegistry();
          throw err;
        }
      } else if (!this.layerRegistry.has(chainId)) {
        this.layerRegistry.set(chainId, parent ?? '');
        await this.saveLayerRegistry();
      }
      layers.push({ diffId, chainId, size: await this.snapshotter.usage(chainId) });
    }

    const manifests = (opts.manifests ?? []).filter(isDigest);
    const existing = this.images.get(id);
    if (existing) {
      const more = manifests.filter((m) => !existing.file.manifests.includes(m));
      if (more.length) {
        const file = { ...existing.file, manifests: [...existing.file.manifests, ...more] };
        await writeJsonAtomic(this.recordPath(id), file);
        existing.file = file;
      }
      return this.toRecord(existing);
    }
    const file: RecordFile = { id, layers, manifests, created: rfc3339Nano() };
    if (opts.parent) file.parent = opts.parent;
    await writeJsonAtomic(this.recordPath(id), file);
    const entry = { file, config };
    this.images.set(id, entry);
    return this.toRecord(entry);
  }

  private async storeLayerBlob(diffId: string, index: number, src: LayerSource | undefined): Promise<void> {
    if (!src) throw badParameter(`missing content for layer ${index} (${diffId})`);
    if (typeof src === 'function') {
      const pending = await this.content.spool(src());
      try {
        if (pending.digest !== diffId) throw invalidDiffId(index, diffId, pending.digest);
        await pending.commit();
      } finally {
        await pending.discard();
      }
      return;
    }
    if (src.digest !== diffId) throw invalidDiffId(index, diffId, src.digest);
    await src.commit();
  }

  /**
   * Unpacks one layer of an image being built elsewhere (a pull) straight from its
   * uncompressed tar stream: the bytes go to the snapshot and, in the same pass, to the
   * content store under the diff id, committed only when both check out. The image record
   * comes later from createImage(), which then finds the layer in place. Call pin() first.
   */
  async applyLayerStream(parent: string | undefined, chainId: string, diffId: string, tar: AsyncIterable<Uint8Array>, opts: ApplyLayerOptions = {}): Promise<void> {
    await this.mutex.run(async () => {
      if (!this.layerRegistry.has(chainId)) {
        // Registered before it exists: a crash mid-apply leaves a findable orphan.
        this.layerRegistry.set(chainId, parent ?? '');
        await this.saveLayerRegistry();
      }
    });
    const tee = teeStream(tar);
    const [toContent, toSnapshot] = tee.branches;
    // A consumer failing before it reads (a missing parent) must not leave the other waiting.
    const failBoth = <T>(p: Promise<T>) =>
      p.catch((err: unknown) => {
        tee.abort(err);
        throw err;
      });
    // The snapshot's apply hashes the bytes and checks them against diffId; the copy for
    // the content store is the same bytes, committed only after that check passed.
    const [spooled, applied] = await Promise.allSettled([
      failBoth(this.content.spool(toContent, { verifiedBy: diffId })),
      failBoth(this.snapshotter.applyLayer(parent, chainId, toSnapshot, diffId, opts)),
    ]);
    const pending = spooled.status === 'fulfilled' ? spooled.value : undefined;
    try {
      if (applied.status === 'rejected') throw applied.reason;
      if (spooled.status === 'rejected') throw spooled.reason;
      if (applied.value.diffId !== diffId) throw badParameter(`layer digest mismatch: expected ${diffId}, got ${applied.value.diffId}`);
      await pending!.commit();
    } finally {
      await pending?.discard();
    }
  }

  /**
   * Keeps these snapshots from layer collection until unpin() (a pull in progress). Taken
   * under the store's lock, so a collection already under way finishes first: after pin(),
   * hasLayer() answers stay true.
   */
  pin(chainIds: readonly string[]): Promise<void> {
    return this.mutex.run(async () => {
      for (const c of chainIds) this.pinned.set(c, (this.pinned.get(c) ?? 0) + 1);
    });
  }

  unpin(chainIds: readonly string[]): void {
    for (const c of chainIds) {
      const n = (this.pinned.get(c) ?? 0) - 1;
      if (n > 0) this.pinned.set(c, n);
      else this.pinned.delete(c);
    }
  }

  /** Whether a layer is unpacked and its tar stored (a pull can skip it: "Already exists"). */
  async hasLayer(chainId: string, diffId: string): Promise<boolean> {
    return (await this.snapshotter.has(chainId)) && (await this.content.has(diffId));
  }

  // ---- references ----

  /** docker tag SOURCE TARGET: target is "repo[:tag]" (default tag latest). */
  tag(source: string, target: string): Promise<void> {
    return this.mutex.run(async () => {
      const e = this.resolveEntry(source);
      let ref = parseReference(target);
      if (ref.digest !== undefined) throw badParameter('refusing to create a tag with a digest reference');
      ref = withDefaultTag(ref);
      if (familiarName(ref) === 'sha256') throw badParameter('refusing to create an ambiguous tag using digest algorithm as name');
      this.refs.set(referenceString(ref), e.file.id);
      await this.refs.save();
      e.file = { ...e.file, lastTagTime: rfc3339Nano() };
      await writeJsonAtomic(this.recordPath(e.file.id), e.file);
      this.emit('tag', e.file.id, familiarString(ref));
    });
  }

  /**
   * Points a full reference (tag or digest form) at an image, as docker load does (no
   * LastTagTime). Returns the id it pointed at before, if another image. A digest reference
   * moves to another image only with force (a pull by digest, as dockerd's AddDigest(…, true)).
   */
  setReference(ref: Reference, id: string, force = false): Promise<string | undefined> {
    return this.mutex.run(async () => {
      if (!this.images.has(id)) throw notFound(`No such image: ${id}`);
      if (ref.digest === undefined && ref.tag === undefined) ref = withDefaultTag(ref);
      if (ref.digest !== undefined && ref.tag !== undefined) ref = { domain: ref.domain, path: ref.path, digest: ref.digest };
      if (familiarName(ref) === 'sha256') throw badParameter('refusing to create an ambiguous tag using digest algorithm as name');
      const key = referenceString(ref);
      const prev = this.refs.get(key);
      if (prev === id) return undefined;
      if (prev && ref.digest !== undefined && !force) throw conflict(`Cannot overwrite digest ${ref.digest}`);
      this.refs.set(key, id);
      await this.refs.save();
      return prev;
    });
  }

  private async saveLayerRegistry(): Promise<void> {
    await writeJsonAtomic(this.layersPath, Object.fromEntries(this.layerRegistry));
  }

  // ---- deleting ----

  /** docker rmi, with Docker's untag/delete rules and conflicts (daemon/images/image_delete.go). */
  remove(nameOrId: string, opts: { force?: boolean; noprune?: boolean }, usedBy: UsedBy): Promise<DeleteItem[]> {
    return this.mutex.run(() => this.removeLocked(nameOrId, !!opts.force, !opts.noprune, usedBy));
  }

  private async removeLocked(nameOrId: string, force: boolean, prune: boolean, usedBy: UsedBy): Promise<DeleteItem[]> {
    const e = this.resolveEntry(nameOrId);
    const id = e.file.id;
    const records: DeleteItem[] = [];
    let repoRefs = this.refs.of(id).map(parseExact);
    let removedRepositoryRef = false;

    if (!isImageIdPrefix(id, nameOrId)) {
      if (!force && isSingleReference(repoRefs)) {
        const ctr = normalizeUsers(usedBy(id))[0];
        if (ctr) {
          throw conflict(`conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(ctr.id)} is using its referenced image ${shortId(id)}`);
        }
      }
      let parsed = withDefaultTag(parseReference(nameOrId));
      if (parsed.digest !== undefined) parsed = { domain: parsed.domain, path: parsed.path, digest: parsed.digest };
      this.refs.delete(referenceString(parsed));
      records.push({ Untagged: familiarString(parsed) });
      this.emit('untag', id);
      repoRefs = this.refs.of(id).map(parseExact);
      // Untagging the last tag of a repository also drops that repository's digest references.
      if (parsed.digest === undefined) {
        const name = fullName(parsed);
        if (!repoRefs.some((r) => r.digest === undefined && fullName(r) === name)) {
          const remaining: Reference[] = [];
          for (const r of repoRefs) {
            if (r.digest !== undefined && fullName(r) === name) {
              this.refs.delete(referenceString(r));
              records.push({ Untagged: familiarString(r) });
              this.emit('untag', id);
            } else {
              remaining.push(r);
            }
          }
          repoRefs = remaining;
        }
      }
      await this.refs.save();
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const mask = CONFLICT_HARD | (force ? 0 : CONFLICT_STOPPED);
      const c = this.checkConflict(id, mask, usedBy);
      if (c) throw c.error;
      for (const r of repoRefs) {
        this.refs.delete(referenceString(r));
        records.push({ Untagged: familiarString(r) });
        this.emit('untag', id);
      }
      await this.refs.save();
    }
    await this.deleteHelper(id, records, force, prune, removedRepositoryRef, usedBy);
    return records;
  }

  private checkConflict(id: string, mask: number, usedBy: UsedBy): DeleteConflict | undefined {
    const make = (hard: boolean, used: boolean, message: string): DeleteConflict => ({
      hard,
      used,
      error: conflict(`conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`),
    });
    if (mask & CONFLICT_DEPENDENT_CHILD && this.children(id).length > 0) return make(true, false, 'image has dependent child images');
    const list = mask & (CONFLICT_RUNNING | CONFLICT_STOPPED) ? normalizeUsers(usedBy(id)) : [];
    if (mask & CONFLICT_RUNNING) {
      const ctr = list.find((u) => u.running);
      if (ctr) return make(true, true, `image is being used by running container ${shortId(ctr.id)}`);
    }
    if (mask & CONFLICT_ACTIVE_REFERENCE && this.refs.of(id).length > 0) return make(false, false, 'image is referenced in multiple repositories');
    if (mask & CONFLICT_STOPPED) {
      const ctr = list.find((u) => !u.running);
      if (ctr) return make(false, true, `image is being used by stopped container ${shortId(ctr.id)}`);
    }
    return undefined;
  }

  private isDangling(id: string): boolean {
    return this.refs.of(id).length === 0 && this.children(id).length === 0;
  }

  private async deleteHelper(id: string, records: DeleteItem[], force: boolean, prune: boolean, quiet: boolean, usedBy: UsedBy): Promise<void> {
    const c = this.checkConflict(id, CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT), usedBy);
    if (c) {
      // After untagging by name, a conflict just means the image stays.
      if (quiet && (!this.isDangling(id) || c.used)) return;
      throw c.error;
    }
    const parent = this.images.get(id)?.file.parent;
    const refs = this.refs.of(id);
    for (const key of refs) {
      this.refs.delete(key);
      records.push({ Untagged: familiarize(key) });
      this.emit('untag', id);
    }
    if (refs.length) await this.refs.save();
    const removedLayers = await this.deleteImage(id, normalizeUsers(usedBy(id)).length > 0);
    records.push({ Deleted: id });
    this.emit('delete', id);
    for (const chain of removedLayers) records.push({ Deleted: chain });
    if (!prune || !parent || !this.images.has(parent)) return;
    await this.deleteHelper(parent, records, false, true, true, usedBy);
  }

  /** Drops the record, then the snapshots and blobs nothing else needs. Returns the removed chain ids, top first. */
  private async deleteImage(id: string, inUseByContainers: boolean): Promise<string[]> {
    const e = this.images.get(id);
    if (!e) return [];
    await fsp.rm(this.recordPath(id), { force: true });
    this.images.delete(id);
    const mine = e.file.layers.map((l) => l.chainId);
    const keep = this.liveChains();
    // A container's writable layer sits on these snapshots: they stay until gcLayers().
    if (inUseByContainers) for (const c of mine) this.keepWithAncestors(keep, c);
    for (const c of this.layerRegistry.keys()) if (!mine.includes(c)) this.keepWithAncestors(keep, c);
    const removed: string[] = [];
    for (const c of [...mine].reverse()) {
      if (keep.has(c)) continue;
      await this.snapshotter.remove(c);
      this.layerRegistry.delete(c);
      removed.push(c);
    }
    if (removed.length) await this.saveLayerRegistry();
    await this.collectBlobs([id, ...e.file.layers.map((l) => l.diffId), ...e.file.manifests]);
    return removed;
  }

  private liveChains(): Set<string> {
    const keep = new Set<string>(this.pinned.keys());
    for (const e of this.images.values()) for (const l of e.file.layers) keep.add(l.chainId);
    return keep;
  }

  private keepWithAncestors(keep: Set<string>, chain: string): void {
    for (let c: string | undefined = chain; c && !keep.has(c); c = this.layerRegistry.get(c)) keep.add(c);
  }

  /** Deletes those of the given blobs that no image references. */
  private async collectBlobs(candidates: Iterable<string>): Promise<void> {
    const referenced = new Set<string>();
    for (const e of this.images.values()) {
      referenced.add(e.file.id);
      for (const l of e.file.layers) referenced.add(l.diffId);
      for (const m of e.file.manifests) referenced.add(m);
    }
    for (const d of new Set(candidates)) if (!referenced.has(d)) await this.content.delete(d);
  }

  /**
   * Removes snapshots this store made that no image needs and that are not (ancestors of)
   * the given chain ids, i.e. the parents of existing containers' writable layers. Call it
   * once containers are known (after start-up, after a container is removed).
   */
  gcLayers(inUse: Iterable<string>): Promise<string[]> {
    return this.mutex.run(async () => {
      const keep = this.liveChains();
      for (const c of inUse) this.keepWithAncestors(keep, c);
      const depth = (c: string) => {
        let n = 0;
        for (let p = this.layerRegistry.get(c); p; p = this.layerRegistry.get(p)) n++;
        return n;
      };
      const doomed = [...this.layerRegistry.keys()].filter((c) => !keep.has(c)).sort((a, b) => depth(b) - depth(a));
      for (const c of doomed) {
        await this.snapshotter.remove(c);
        this.layerRegistry.delete(c);
      }
      if (doomed.length) await this.saveLayerRegistry();
      return doomed;
    });
  }

  /** POST /images/prune: dangling images by default, all unused ones with dangling=false. */
  prune(opts: { filters?: Filters }, usedBy: UsedBy): Promise<PruneReport> {
    return this.mutex.run(async () => {
      const f = opts.filters;
      validateFilters(f, PRUNE_FILTERS);
      const danglingOnly = boolFilter(f, 'dangling', true);
      let until: bigint | undefined;
      for (const v of values(f, 'until')) {
        const t = parseTimestamp(v);
        if (until === undefined || t < until) until = t;
      }
      const layerSizes = new Map<string, number>();
      for (const e of this.images.values()) for (const l of e.file.layers) layerSizes.set(l.chainId, l.size);

      const candidates: string[] = [];
      for (const [id, e] of this.images) {
        const refs = this.refs.of(id);
        // "Heads" only in dangling mode: images that are nobody's parent.
        if (danglingOnly && this.children(id).length > 0) continue;
        if (refs.length === 0 && this.children(id).length > 0) continue;
        const created = this.createdNanos(e);
        if (until !== undefined && (created === undefined || created > until)) continue;
        const labels = e.config.config?.Labels;
        if (!matchKVList(f, 'label', labels)) continue;
        if (has(f, 'label!') && matchKVList(f, 'label!', labels)) continue;
        candidates.push(id);
      }
      const deleted: DeleteItem[] = [];
      for (const id of candidates) {
        if (!this.images.has(id) || usedBy(id).length > 0) continue;
        const refs = this.refs.of(id).map(parseExact);
        const names: string[] = [];
        if (refs.length > 0) {
          if (!danglingOnly || !refs.some((r) => r.tag !== undefined)) names.push(...refs.map(referenceString));
        } else {
          names.push(hexOf(id));
        }
        for (const name of names) {
          try {
            deleted.push(...(await this.removeLocked(name, false, true, usedBy)));
          } catch (err) {
            if (!(err instanceof EngineError) || (err.status !== 409 && err.status !== 404)) throw err;
          }
        }
      }
      let reclaimed = 0;
      for (const d of deleted) if (d.Deleted && layerSizes.has(d.Deleted)) reclaimed += layerSizes.get(d.Deleted)!;
      return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    });
  }
}

function familiarize(fullRef: string): string {
  return familiarString(parseExact(fullRef));
}

function invalidDiffId(index: number, expected: string, got: string): EngineError {
  return badParameter(`invalid diffID for layer ${index}: expected "${expected}", got "${got}"`);
}

