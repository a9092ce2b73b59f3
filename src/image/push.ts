// docker push (POST /images/{name}/push): sends an image's layers, config and manifest to
// a registry as dockerd's graphdriver pusher does. Per layer, in this order: a blob the
// target repository is known (or found) to have is skipped ("Layer already exists"); a blob
// another repository of the same registry has (berth pushed it there or pulled it from
// there) is mounted ("Mounted from …"); otherwise the layer goes gzip'd ("Pushing",
// "Pushed"): compressed as it is sent the first time, with the gzip kept in the content
// store for the next push. Up to five layers go
// at a time. Then the config blob, and the manifest last: the one the image was pulled with
// when every layer went as that manifest's blob, else a Docker schema2 manifest of what was
// pushed. The manifest's digest becomes a RepoDigest of the image.
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { PendingBlob } from '../content/store.ts';
import { digestOf, isDigest } from '../content/digest.ts';
import type { AuthConfig, Descriptor, RegistryClient, Repository } from '../registry/client/types.ts';
import { RegistryError } from '../registry/client/errors.ts';
import type { DistributionMetadata } from '../registry/distribution-metadata.ts';
import { EngineError, badParameter } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { familiarName, familiarString, fullName, parseReference, type Reference } from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';
import { teeStream } from './tee.ts';
import { Semaphore, counted, firstCause, type ProgressMessage } from './transfer.ts';
import { MediaType, isManifestType, type Manifest } from './types.ts';

/** dockerd's max-concurrent-uploads default. */
export const MAX_CONCURRENT_UPLOADS = 5;
/** Existence checks and mount attempts per layer (dockerd's, for a middle-sized layer). */
const MAX_EXISTENCE_CHECKS = 3;
const MAX_MOUNT_ATTEMPTS = 3;

export interface PushMessage extends ProgressMessage {
  aux?: { Tag: string; Digest: string; Size: number };
}

export interface PushDeps {
  images: ImageStore;
  registry: RegistryClient;
  metadata: DistributionMetadata;
  /** Upload in chunks of this many bytes (monolithic when unset). */
  chunkSize?: number;
  concurrency?: number;
}

export interface PushRequest {
  /** The path's name; a tag or digest in it is ignored, as dockerd does. */
  name: string;
  /** One tag; unset or empty: every tag of the repository (push -a). */
  tag?: string;
  auth?: AuthConfig;
  signal?: AbortSignal;
}

/** The repository a push names: the name without tag or digest, and the tags to push. */
export function pushTargets(images: ImageStore, name: string, tag: string | undefined): { repo: Reference; tags: Array<{ tag: string; image: ImageRecord }> } {
  const parsed = parseReference(name);
  const repo: Reference = { domain: parsed.domain, path: parsed.path };
  if (tag && !/^[\w][\w.-]{0,127}$/.test(tag)) throw badParameter('invalid tag format');
  const want = fullName(repo);
  const tags: Array<{ tag: string; image: ImageRecord }> = [];
  for (const image of images.all()) {
    for (const t of image.repoTags) {
      const r = parseReference(t);
      if (fullName(r) === want && r.tag !== undefined) tags.push({ tag: r.tag, image });
    }
  }
  tags.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return { repo, tags };
}

/** Pushes; emit gets the progress messages. Throws with dockerd's texts. */
export async function pushImage(deps: PushDeps, req: PushRequest, emit: (m: PushMessage) => void): Promise<void> {
  const { repo: ref, tags } = pushTargets(deps.images, req.name, req.tag);
  await deps.metadata.load();
  emit({ status: `The push refers to repository [${fullName(ref)}]` });
  if (tags.length === 0) throw new EngineError(404, `An image does not exist locally with the tag: ${familiarName(ref)}`);
  let todo = tags;
  if (req.tag) {
    todo = tags.filter((t) => t.tag === req.tag);
    if (todo.length === 0) throw new EngineError(404, `tag does not exist: ${familiarString({ ...ref, tag: req.tag })}`);
  }
  const repo = deps.registry.repository(ref.domain, ref.path, req.auth, ['push', 'pull']);
  try {
    for (const t of todo) await pushTag(deps, repo, ref, t.tag, t.image, req.signal, emit);
  } catch (err) {
    throw pushFailure(err);
  }
  deps.images.emit('push', familiarString(req.tag ? { ...ref, tag: req.tag } : ref), familiarName(ref));
}

/** dockerd's text for a failed push: a missing login is just "no basic auth credentials" (its retryOnError). */
export function pushFailure(err: unknown): Error {
  if (err instanceof RegistryError && /: no basic auth credentials$/.test(err.message)) return new EngineError(401, 'no basic auth credentials');
  return err instanceof Error ? err : new Error(String(err));
}

async function pushTag(deps: PushDeps, repo: Repository, ref: Reference, tag: string, image: ImageRecord, signal: AbortSignal | undefined, emit: (m: PushMessage) => void): Promise<void> {
  const diffIds = image.config.rootfs.diff_ids;
  const original = await originalManifest(deps, image, ref.domain);
  const shortId = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);
  // As dockerd: the top layer first.
  const order = diffIds.map((_, i) => diffIds.length - 1 - i);
  for (const i of order) emit({ status: 'Preparing', progressDetail: {}, id: shortId(diffIds[i]) });
  const pushed = new Map<string, Promise<Descriptor>>();
  const results: Array<Descriptor | undefined> = new Array(diffIds.length);
  const sem = new Semaphore(deps.concurrency ?? MAX_CONCURRENT_UPLOADS);
  const abort = new AbortController();
  const onOuter = () => abort.abort(signal?.reason);
  signal?.addEventListener('abort', onOuter, { once: true });
  try {
    const tasks = order.map(async (i) => {
      const diffId = diffIds[i];
      const id = shortId(diffId);
      if (!sem.tryAcquire()) {
        emit({ status: 'Waiting', progressDetail: {}, id });
        await sem.acquire();
      }
      try {
        if (abort.signal.aborted) throw abort.signal.reason;
        // The same layer twice in one image goes once (the upper one, which starts first).
        const known = pushed.get(diffId);
        if (known) {
          results[i] = await known;
          emit({ status: 'Layer already exists', progressDetail: {}, id });
          return;
        }
        const p = pushLayer(deps, repo, ref, { diffId, id, hint: original?.layers[i], pulledFrom: original?.repositories ?? [] }, abort.signal, emit);
        pushed.set(diffId, p);
        results[i] = await p;
      } catch (err) {
        abort.abort(err);
        throw err;
      } finally {
        sem.release();
      }
    });
    const settled = await Promise.allSettled(tasks);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw firstCause(settled, failed.reason);
  } finally {
    signal?.removeEventListener('abort', onOuter);
  }
  const layers = results as Descriptor[];

  // The config blob, then the manifest.
  const configBytes = await deps.images.content.readBytes(image.id);
  let manifest: { mediaType: string; bytes: Buffer };
  if (original && original.layers.every((l, i) => l.digest === layers[i].digest)) {
    manifest = { mediaType: original.mediaType, bytes: original.bytes };
    await ensureBlob(repo, { mediaType: original.manifest.config.mediaType, digest: image.id, size: configBytes.length }, configBytes);
  } else {
    await ensureBlob(repo, { mediaType: MediaType.dockerConfig, digest: image.id, size: configBytes.length }, configBytes);
    manifest = { mediaType: MediaType.dockerManifest, bytes: schema2Manifest({ mediaType: MediaType.dockerConfig, digest: image.id, size: configBytes.length }, layers) };
  }
  await repo.putManifest(tag, manifest.mediaType, manifest.bytes);
  const digest = digestOf(manifest.bytes);
  emit({ status: `${tag}: digest: ${digest} size: ${manifest.bytes.length}` });
  // As dockerd (addDigestReference): the digest moves to this image if it named another.
  await deps.images.setReference({ domain: ref.domain, path: ref.path, digest }, image.id, true);
  emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.bytes.length } } as PushMessage);
}

/** Docker's schema2 manifest, serialized as dockerd does (3-space indent, its field order). */
export function schema2Manifest(config: Descriptor, layers: Descriptor[]): Buffer {
  const d = (x: Descriptor) => ({ mediaType: x.mediaType, size: x.size, digest: x.digest });
  const doc = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: d(config), layers: layers.map(d) };
  return Buffer.from(JSON.stringify(doc, null, 3));
}

async function ensureBlob(repo: Repository, desc: Descriptor, bytes: Buffer): Promise<void> {
  if (await repo.statBlob(desc.digest)) return;
  await repo.pushBlob(desc, async function* () {
    yield bytes;
  });
}

interface OriginalManifest {
  mediaType: string;
  bytes: Buffer;
  manifest: Manifest;
  layers: Descriptor[];
  /** The repositories it was pulled from (the image's RepoDigests naming its manifests). */
  repositories: string[];
}

/** The single-platform manifest the image was pulled with, if the content store has it and it describes this image with compressed layers. */
async function originalManifest(deps: PushDeps, image: ImageRecord, domain: string): Promise<OriginalManifest | undefined> {
  const found: OriginalManifest[] = [];
  for (const digest of image.manifests) {
    if (!(await deps.images.content.has(digest))) continue;
    let m: Manifest;
    let bytes: Buffer;
    try {
      bytes = await deps.images.content.readBytes(digest);
      m = JSON.parse(bytes.toString('utf8')) as Manifest;
    } catch {
      continue;
    }
    const mediaType = m.mediaType ?? (m.config?.mediaType === MediaType.dockerConfig ? MediaType.dockerManifest : MediaType.ociManifest);
    if (!isManifestType(mediaType) || m.config?.digest !== image.id || !Array.isArray(m.layers)) continue;
    if (m.layers.length !== image.layers.length) continue;
    // Layers stored as they are (a loaded archive's) are not what a registry should get.
    if (!m.layers.every((l, i) => isDigest(l.digest) && l.digest !== image.layers[i].diffId && /gzip|zstd/.test(l.mediaType))) continue;
    const repositories = image.repoDigests.map(parseReference).filter((r) => r.digest !== undefined && image.manifests.includes(r.digest)).map(fullName);
    found.push({ mediaType, bytes, manifest: m, layers: m.layers, repositories });
  }
  // One pulled from the target registry first: its blobs are there already.
  return found.find((f) => f.repositories.some((r) => r.startsWith(`${domain}/`))) ?? found[0];
}

interface LayerJob {
  diffId: string;
  /** The progress id: the diff id's first 12 hex digits. */
  id: string;
  /** The blob the layer was pulled as, if it was, and from where. */
  hint?: Descriptor;
  pulledFrom: string[];
}

async function pushLayer(deps: PushDeps, repo: Repository, ref: Reference, job: LayerJob, signal: AbortSignal, emit: (m: PushMessage) => void): Promise<Descriptor> {
  const meta = deps.metadata;
  const target = fullName(ref);
  const { diffId, id } = job;
  const record = (digest: string) => meta.add(diffId, digest, target);
  const layerDesc = (digest: string, size: number, mediaType: string = MediaType.dockerLayerGzip): Descriptor => ({ mediaType, digest, size });

  // Where the layer has been seen: where the image was pulled from as that manifest's blob
  // first (so the manifest can go as it was), then where berth pushed or found it.
  const hint = job.hint;
  const sightings = hint ? job.pulledFrom.map((repository) => ({ digest: hint.digest, repository })) : [];
  for (const s of meta.sightings(diffId)) {
    if (!sightings.some((x) => x.digest === s.digest && x.repository === s.repository)) sightings.push(s);
  }
  const candidates: string[] = [];
  const addCandidate = (d: string) => {
    if (!candidates.includes(d)) candidates.push(d);
  };
  for (const s of sightings) if (s.repository === target) addCandidate(s.digest);
  if (job.hint) addCandidate(job.hint.digest);
  for (const s of sightings) if (s.repository.startsWith(`${ref.domain}/`)) addCandidate(s.digest);
  for (const digest of candidates.slice(0, MAX_EXISTENCE_CHECKS)) {
    if (signal.aborted) throw signal.reason;
    const found = await repo.statBlob(digest);
    if (found) {
      await record(digest);
      emit({ status: 'Layer already exists', progressDetail: {}, id });
      return layerDesc(digest, found.size, mediaTypeOf(job.hint, digest));
    }
    if (sightings.some((s) => s.repository === target && s.digest === digest)) await meta.remove(diffId, digest, target);
  }

  // Another repository of the same registry: mount.
  const mounts = sightings.filter((s) => s.repository !== target && s.repository.startsWith(`${ref.domain}/`)).slice(0, MAX_MOUNT_ATTEMPTS);
  for (const s of mounts) {
    if (signal.aborted) throw signal.reason;
    const from = s.repository.slice(ref.domain.length + 1);
    let mounted = false;
    try {
      mounted = await repo.mountBlob(s.digest, from);
    } catch (err) {
      if (err instanceof RegistryError && err.httpStatus === 401) throw err;
      log.debug('blob mount failed', { digest: s.digest, from, error: (err as Error).message });
    }
    if (mounted) {
      await record(s.digest);
      emit({ status: `Mounted from ${from}`, progressDetail: {}, id });
      const size = (await repo.statBlob(s.digest))?.size ?? job.hint?.size ?? 0;
      return layerDesc(s.digest, size, mediaTypeOf(job.hint, s.digest));
    }
    await meta.remove(diffId, s.digest, s.repository);
  }

  // A gzip made by an earlier push (or being made by one now) goes from the content store.
  const content = deps.images.content;
  let kept: CompressedBlob | undefined;
  while (!(kept = await keptCompressed(deps, diffId))) {
    if (!compressing.has(compressionKey(deps, diffId))) return pushCompressing(deps, repo, job, record, signal, emit);
  }
  const desc = layerDesc(kept.digest, kept.size, kept.mediaType);
  if (!candidates.includes(kept.digest) && (await repo.statBlob(kept.digest))) {
    await record(kept.digest);
    emit({ status: 'Layer already exists', progressDetail: {}, id });
    return desc;
  }
  await repo.pushBlob(
    desc,
    () => counted(content.readStream(kept.digest) as AsyncIterable<Buffer>, (n) => emit({ status: 'Pushing', progressDetail: { current: n, total: kept.size }, id }), signal),
    { chunkSize: deps.chunkSize || undefined, signal },
  );
  await record(kept.digest);
  emit({ status: 'Pushed', progressDetail: {}, id });
  return desc;
}

/**
 * The layer gzip'd on its way out, as dockerd pushes: one pass reads the tar, compresses it
 * and sends it (a streamed upload closed with the digest once known) while the same gzip is
 * written to the content store, kept for the next push. Progress counts the tar's bytes, as
 * dockerd's does.
 */
async function pushCompressing(deps: PushDeps, repo: Repository, job: LayerJob, record: (digest: string) => Promise<void>, signal: AbortSignal, emit: (m: PushMessage) => void): Promise<Descriptor> {
  const { diffId, id } = job;
  const content = deps.images.content;
  const key = compressionKey(deps, diffId);
  let settle!: (blob: CompressedBlob | undefined) => void;
  compressing.set(key, new Promise((resolve) => (settle = resolve)));
  let kept: CompressedBlob | undefined;
  try {
    const total = await content.size(diffId);
    // zlib's default level (dockerd's too); memLevel 9 (the largest hash table) costs less
    // CPU for about the same size (17% on the bench's layers, 3% on binaries), and large
    // pieces mean fewer callbacks.
    const gz = createGzip({ chunkSize: 256 * 1024, memLevel: 9 });
    const tar = Readable.from(counted(content.readStream(diffId) as AsyncIterable<Buffer>, (n) => emit({ status: 'Pushing', progressDetail: { current: n, total }, id }), signal));
    tar.on('error', (err) => gz.destroy(err));
    tar.pipe(gz);
    const tee = teeStream(gz as AsyncIterable<Buffer>);
    const [toStore, toRegistry] = tee.branches;
    const spooled = content.spool(toStore);
    spooled.catch((err: unknown) => tee.abort(err));
    let pending: PendingBlob | undefined;
    try {
      const desc = await repo.pushBlobStreamed(
        toRegistry,
        async () => {
          pending = await spooled;
          return { mediaType: MediaType.dockerLayerGzip, digest: pending.digest, size: pending.size };
        },
        { chunkSize: deps.chunkSize || undefined, signal },
      );
      await pending!.commit();
      kept = { digest: desc.digest, size: desc.size, mediaType: desc.mediaType };
      await deps.metadata.setCompressed(diffId, kept);
      await record(desc.digest);
      emit({ status: 'Pushed', progressDetail: {}, id });
      return desc;
    } catch (err) {
      tee.abort(err); // the store's copy stops too
      gz.destroy();
      tar.destroy(); // and the layer's file is closed
      throw err;
    } finally {
      await (pending ?? (await spooled.catch(() => undefined)))?.discard();
    }
  } finally {
    compressing.delete(key);
    settle(kept);
  }
}

function mediaTypeOf(hint: Descriptor | undefined, digest: string): string {
  if (hint?.digest === digest && /zstd/.test(hint.mediaType)) return hint.mediaType;
  return MediaType.dockerLayerGzip;
}

interface CompressedBlob {
  digest: string;
  size: number;
  mediaType: string;
}

/** Layers being gzip'd by a push now (by content store and diff id): another push of the same layer waits for that one. */
const compressing = new Map<string, Promise<CompressedBlob | undefined>>();

const compressionKey = (deps: Pick<PushDeps, 'images'>, diffId: string) => `${deps.images.content.root}\n${diffId}`;

/** The layer's gzip in the content store, from an earlier push or one under way. */
async function keptCompressed(deps: Pick<PushDeps, 'images' | 'metadata'>, diffId: string): Promise<CompressedBlob | undefined> {
  await compressing.get(compressionKey(deps, diffId));
  const known = deps.metadata.compressed(diffId);
  return known && (await deps.images.content.has(known.digest)) ? known : undefined;
}
