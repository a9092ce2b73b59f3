// docker pull (POST /images/create?fromImage=…): resolves the reference against the
// registry, picks the manifest for the platform out of a manifest list / OCI index, and
// brings the layers in as dockerd does: up to three downloads at a time, each verified
// against its digest, decompressed as it streams and unpacked into its snapshot straight
// off the network, side by side (a layer's snapshot is committed after its parent's; it
// waits for the parent earlier only where the tar refers to what is below). The image record and its
// references come last, so a pull cut short (client gone, berthd killed) leaves no image,
// and the next pull completes it. Progress messages are the ones the docker CLI renders.
import { isDigest } from '../content/digest.ts';
import type { AuthConfig, Descriptor, RegistryClient, Repository } from '../registry/client/types.ts';
import { pullErrorMessage, RegistryError } from '../registry/client/errors.ts';
import { log } from '../util/log.ts';
import { EngineError, badParameter, notFound } from '../util/errors.ts';
import { chainIds, decompress } from './layers.ts';
import { formatPlatform, normalizePlatform, parsePlatform, platformMatches, selectPlatformEntry, type Platform } from './platform.ts';
import { familiarName, familiarString, parseReference, type Reference } from './reference.ts';
import type { ImageStore } from './store.ts';
import { Semaphore, counted, firstCause, type ProgressMessage } from './transfer.ts';
import { isIndexType, type ImageConfig, type Index, type Manifest } from './types.ts';

/** dockerd's max-concurrent-downloads default. */
export const MAX_CONCURRENT_DOWNLOADS = 3;
const MAX_CONFIG = 8 << 20;
const MAX_INDEX_DEPTH = 2;

export interface PullRequest {
  /** The fromImage parameter: a name, possibly with a tag or digest. */
  fromImage: string;
  /** The tag parameter: a tag or a digest; empty with a bare name means every tag (pull -a). */
  tag?: string;
  platform?: string;
  auth?: AuthConfig;
  signal?: AbortSignal;
}

export interface PullDeps {
  images: ImageStore;
  registry: RegistryClient;
  concurrency?: number;
}

/** The reference dockerd pulls for fromImage and tag (tag may be a digest); a bare name means all tags. */
export function pullReference(fromImage: string, tag: string | undefined): Reference {
  let ref = parseReference(fromImage);
  if (tag) {
    if (/^[A-Za-z][A-Za-z0-9]*:/.test(tag)) {
      if (!isDigest(tag)) throw badParameter(`invalid digest: ${tag}`);
      ref = { domain: ref.domain, path: ref.path, digest: tag };
    } else {
      if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw badParameter('invalid tag format');
      ref = { domain: ref.domain, path: ref.path, tag };
    }
  }
  return ref;
}

/** dockerd's status for a failed pull, with the wrapping docker prints for it. */
export function pullFailure(err: unknown, ref: Reference): EngineError {
  if (err instanceof EngineError && !(err instanceof RegistryError)) return err;
  const msg = pullErrorMessage(err, familiarName(ref), familiarString(ref));
  const code = (err as RegistryError)?.errors?.[0]?.code;
  if (code === 'DENIED' || code === 'MANIFEST_UNKNOWN' || code === 'NAME_UNKNOWN') return new EngineError(404, msg);
  // Everything else is errdefs.Unknown in dockerd: a 401 here would make the docker CLI
  // prompt for a login.
  return new EngineError(500, msg);
}

/** Pulls; emit gets the progress messages. Throws a pullFailure() error. */
export async function pullImage(deps: PullDeps, req: PullRequest, emit: (m: ProgressMessage) => void): Promise<void> {
  const ref = pullReference(req.fromImage, req.tag);
  const platform = req.platform ? parsePlatform(req.platform) : undefined;
  try {
    const repo = deps.registry.repository(ref.domain, ref.path, req.auth, ['pull']);
    let updated = false;
    if (ref.tag === undefined && ref.digest === undefined) {
      const tags = await repo.listTags();
      for (const tag of tags) {
        if (req.signal?.aborted) throw req.signal.reason;
        updated = (await pullOne(deps, repo, { ...ref, tag }, platform, req.signal, emit)) || updated;
      }
    } else {
      updated = await pullOne(deps, repo, ref, platform, req.signal, emit);
    }
    const requested = familiarString(ref);
    emit({ status: updated ? `Status: Downloaded newer image for ${requested}` : `Status: Image is up to date for ${requested}` });
    deps.images.emit('pull', requested, familiarName(ref));
  } catch (err) {
    throw pullFailure(err, ref);
  }
}

interface Resolved {
  /** The digest of what the tag named (an index's when it was one): printed and kept as RepoDigest. */
  topDigest: string;
  manifestDigest: string;
  manifest: Manifest;
  stored: Array<{ digest: string; bytes: Buffer }>;
}

/** Follows a manifest list / index from top to the manifest for the platform. */
async function resolveManifest(repo: Repository, ref: Reference, top: { descriptor: Descriptor; bytes: Buffer }, platform: Platform | undefined): Promise<Resolved> {
  const stored = [{ digest: top.descriptor.digest, bytes: top.bytes }];
  let cur = top;
  for (let depth = 0; ; depth++) {
    const doc = parseJson<Index & Manifest & { schemaVersion?: number }>(cur.bytes, 'manifest');
    const type = cur.descriptor.mediaType;
    if (isIndexType(type) || (Array.isArray(doc.manifests) && !doc.layers)) {
      if (depth >= MAX_INDEX_DEPTH) throw badParameter('manifest list nested too deeply');
      const want = platform ?? parsePlatform(undefined);
      const entry = selectPlatformEntry(doc.manifests ?? [], want);
      if (!entry) throw notFound(`no matching manifest for ${formatPlatform(normalizePlatform(want))} in the manifest list entries`);
      cur = await repo.getManifest(entry.digest);
      stored.push({ digest: cur.descriptor.digest, bytes: cur.bytes });
      continue;
    }
    if (type === 'application/vnd.docker.distribution.manifest.v1+json' || type === 'application/vnd.docker.distribution.manifest.v1+prettyjws' || doc.schemaVersion === 1) {
      throw badParameter(
        `[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${familiarString(ref)} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`,
      );
    }
    if (!doc.config || !Array.isArray(doc.layers)) throw badParameter(`unsupported manifest media type: ${type}`);
    return { topDigest: top.descriptor.digest, manifestDigest: cur.descriptor.digest, manifest: doc, stored };
  }
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw badParameter(`invalid ${what}: not JSON`);
  }
}

async function readAll(stream: AsyncIterable<Buffer>, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.length;
    if (n > limit) throw badParameter(`${what} too large`);
    parts.push(c);
  }
  return Buffer.concat(parts, n);
}

/** Pulls one tag or digest; true when something new arrived or a reference moved. */
async function pullOne(deps: PullDeps, repo: Repository, ref: Reference, platform: Platform | undefined, signal: AbortSignal | undefined, emit: (m: ProgressMessage) => void): Promise<boolean> {
  const images = deps.images;
  const tagOrDigest = ref.digest ?? ref.tag!;
  // As dockerd: a missing manifest is an HTTP error; anything after it comes in the stream.
  const top = await repo.getManifest(tagOrDigest);
  emit({ status: `Pulling from ${ref.path}`, id: tagOrDigest });
  const resolved = await resolveManifest(repo, ref, top, platform);
  const m = resolved.manifest;
  // As dockerd: an image already here (its config is its id) needs nothing pulled.
  const have = isDigest(m.config?.digest) && images.get(m.config.digest) !== undefined;
  const configBytes = have ? await images.content.readBytes(m.config.digest) : await readAll(await repo.fetchBlob(m.config, { signal }), MAX_CONFIG, 'image config');
  const config = parseJson<ImageConfig>(configBytes, 'image config');
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== m.layers.length) throw badParameter('invalid manifest: layers and the config\'s diff ids do not match');
  if (platform && !platformMatches(platform, { os: config.os ?? '', architecture: config.architecture ?? '', variant: config.variant })) {
    throw notFound(
      `image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(normalizePlatform(platform))}, actual: ${formatPlatform(normalizePlatform({ os: config.os ?? '', architecture: config.architecture ?? '', variant: config.variant }))}`,
    );
  }
  const chains = chainIds(diffIds);
  await images.pin(chains);
  let downloaded = false;
  try {
    if (!have) downloaded = await pullLayers(deps, repo, m.layers, diffIds, chains, signal, emit);
    for (const s of resolved.stored) if (!(await images.content.has(s.digest))) await images.content.put(s.bytes, s.digest);
    const before = ref.tag !== undefined ? images.find(familiarString(ref))?.id : undefined;
    const image = await images.createImage(configBytes, { manifests: [...new Set([resolved.topDigest, resolved.manifestDigest])] });
    if (ref.tag !== undefined) await images.setReference({ domain: ref.domain, path: ref.path, tag: ref.tag }, image.id);
    try {
      // As dockerd: a pull by digest moves the digest reference; a pull by tag leaves one
      // that names another image (another platform's, of the same index) where it is.
      await images.setReference({ domain: ref.domain, path: ref.path, digest: resolved.topDigest }, image.id, ref.digest !== undefined);
    } catch (err) {
      if (!(err instanceof EngineError && err.status === 409)) throw err;
    }
    emit({ status: `Digest: ${resolved.topDigest}` });
    return downloaded || (ref.tag !== undefined && before !== image.id);
  } finally {
    images.unpin(chains);
  }
}

/** Downloads and unpacks the layers an image lacks; true when any was fetched. */
async function pullLayers(
  deps: PullDeps,
  repo: Repository,
  layers: Descriptor[],
  diffIds: string[],
  chains: string[],
  outer: AbortSignal | undefined,
  emit: (m: ProgressMessage) => void,
): Promise<boolean> {
  const images = deps.images;
  const abort = new AbortController();
  const onOuter = () => abort.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  const signal = abort.signal;
  const sem = new Semaphore(deps.concurrency ?? MAX_CONCURRENT_DOWNLOADS);
  const shortId = (d: Descriptor) => d.digest.replace(/^sha256:/, '').slice(0, 12);
  const need: boolean[] = [];
  for (let i = 0; i < layers.length; i++) {
    need.push(!(await images.hasLayer(chains[i], diffIds[i])));
    if (!isDigest(layers[i].digest)) throw badParameter(`invalid layer digest: ${JSON.stringify(layers[i].digest)}`);
  }
  for (let i = 0; i < layers.length; i++) emit({ status: need[i] ? 'Pulling fs layer' : 'Already exists', progressDetail: {}, id: shortId(layers[i]) });
  const applied: Array<Promise<void>> = [];

  const layerTask = async (i: number, parentApplied: Promise<void>): Promise<void> => {
    const desc = layers[i];
    const id = shortId(desc);
    if (!need[i]) return parentApplied;
    // Slots go in layer order (the semaphore is first come, first served), so a layer that
    // waits for its parent never holds a slot the parent needs.
    if (!sem.tryAcquire()) {
      emit({ status: 'Waiting', progressDetail: {}, id });
      await sem.acquire();
    }
    try {
      if (signal.aborted) throw signal.reason;
      const downloading = (n: number) => emit({ status: 'Downloading', progressDetail: { current: n, total: desc.size }, id });
      const body = await repo.fetchBlob(desc, { signal });
      const fetched = (async function* () {
        yield* counted(body, downloading);
        // The client verified size and digest when the stream ended.
        emit({ status: 'Verifying Checksum', progressDetail: {}, id });
        emit({ status: 'Download complete', progressDetail: {}, id });
        emit({ status: 'Extracting', progressDetail: { current: desc.size, total: desc.size }, id });
      })();
      // Unpacked straight off the network, side by side with the layers below it: the
      // snapshot waits for its parent only to look into it and to commit.
      await images.applyLayerStream(i === 0 ? undefined : chains[i - 1], chains[i], diffIds[i], decompress(fetched), { parentReady: parentApplied });
      emit({ status: 'Pull complete', progressDetail: {}, id });
    } catch (err) {
      const code = err instanceof RegistryError ? err.code : undefined;
      const failure = code === 'DIGEST_INVALID' || code === 'SIZE_INVALID' ? new EngineError(500, `filesystem layer verification failed for digest ${desc.digest}`) : err;
      if (failure !== err) log.warn('layer verification failed', { digest: desc.digest, error: (err as Error).message });
      abort.abort(failure);
      throw failure;
    } finally {
      sem.release();
    }
  };

  try {
    for (let i = 0; i < layers.length; i++) {
      const p = layerTask(i, i === 0 ? Promise.resolve() : applied[i - 1]);
      p.catch(() => undefined);
      applied.push(p);
    }
    const results = await Promise.allSettled(applied);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw outer?.aborted ? (outer.reason ?? failed.reason) : firstCause(results, failed.reason);
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
  return need.some(Boolean);
}

