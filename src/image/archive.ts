// docker save / docker load archives.
//
// load() reads both layouts `docker save` has written: the classic one (manifest.json
// [{Config, RepoTags, Layers}], <id>.json configs, <v1id>/layer.tar, symlinks between
// shared layers) and the OCI image layout of Docker 25+ and containerd (oci-layout,
// index.json, blobs/sha256/...). An archive's entry order is not guaranteed, so every
// file is first spooled into the content store's ingest area (hashed, not yet visible),
// then the images are assembled. Paths from the archive are only ever keys of that spool:
// nothing is written under a name the archive chose, and blobs named by digest are checked
// against their content.
//
// save() writes what Docker 25+ writes, which every Docker version loads: the OCI layout
// (uncompressed layers, application/vnd.oci.image.layer.v1.tar) plus manifest.json and
// repositories pointing at the same blobs. Layer tars are the original uncompressed
// bytes the image was loaded or imported with, kept in the content store under their diff
// id: that is exact (the diff ids in the config stay true) and needs no repacking.
import { createReadStream, promises as fsp } from 'node:fs';
import { posix } from 'node:path';
import { readTar, TarWriter, normalizeEntryPath } from '../archive/tar.ts';
import type { PendingBlob } from '../content/store.ts';
import { digestOf, hexOf, isDigest } from '../content/digest.ts';
import { badParameter, notFound } from '../util/errors.ts';
import type { ImageRecord, ImageStore, LayerSource } from './store.ts';
import { decompress } from './layers.ts';
import {
  familiarName, familiarString, fullName, isNameOnly, parseReference, referenceString, withDefaultTag,
  type Reference,
} from './reference.ts';
import { hostPlatform } from './platform.ts';
import {
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, isIndexType,
  type Descriptor, type ImageConfig, type Index, type Manifest,
} from './types.ts';

/** JSON documents in an archive are small; a bigger one is hostile or broken. */
const MAX_JSON = 64 << 20;
const MAX_LINK_HOPS = 16;
const MAX_INDEX_DEPTH = 4;

const invalidArchive = (detail: string) => badParameter(`invalid archive: ${detail}`);

/** The archive's files, spooled, keyed by normalized path. */
class Spool {
  readonly files = new Map<string, PendingBlob>();
  readonly links = new Map<string, string | null>();

  lookup(path: string): PendingBlob | undefined {
    let p: string | null = path;
    for (let hops = 0; p !== null && hops <= MAX_LINK_HOPS; hops++) {
      const f = this.files.get(p);
      if (f) return f;
      if (!this.links.has(p)) return undefined;
      p = this.links.get(p)!;
    }
    return undefined;
  }

  /** A file named in a manifest: must exist; a blobs/<alg>/<hex> name must match the content. */
  need(path: unknown, what: string): PendingBlob {
    if (typeof path !== 'string') throw invalidArchive(`bad ${what} path`);
    const norm = normalizeEntryPath(path);
    const f = norm === null || norm === '' ? undefined : this.lookup(norm);
    if (!f) throw invalidArchive(`${what} ${JSON.stringify(path)} not found`);
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(norm!);
    if (m && f.digest !== `sha256:${m[1]}`) throw invalidArchive(`${norm} does not match its digest (${f.digest})`);
    return f;
  }

  /** The blob a descriptor names, verified. */
  blob(desc: Descriptor | undefined, what: string): PendingBlob {
    if (!desc || !isDigest(desc.digest)) throw invalidArchive(`bad ${what} descriptor`);
    return this.need(`blobs/sha256/${hexOf(desc.digest)}`, what);
  }

  async json<T>(f: PendingBlob, what: string): Promise<T> {
    if (f.size > MAX_JSON) throw invalidArchive(`${what} too large`);
    try {
      return JSON.parse(await fsp.readFile(f.path, 'utf8')) as T;
    } catch {
      throw invalidArchive(`${what} is not valid JSON`);
    }
  }

  async discard(): Promise<void> {
    for (const f of this.files.values()) await f.discard();
    this.files.clear();
  }
}

async function spoolArchive(store: ImageStore, input: AsyncIterable<Uint8Array>, spool: Spool): Promise<void> {
  // Like docker load, accept the whole archive gzip'd or zstd'd too.
  for await (const entry of readTar(decompress(input))) {
    const h = entry.header;
    const name = normalizeEntryPath(h.name);
    if (name === null || name === '') continue;
    if (h.type === 'file') {
      const f = await store.content.spool(entry.body);
      await spool.files.get(name)?.discard();
      spool.files.set(name, f);
      spool.links.delete(name);
    } else if (h.type === 'symlink') {
      // Older docker save links a layer shared by several images to its first copy.
      const target = h.linkname.startsWith('/') ? null : normalizeEntryPath(posix.join(posix.dirname(name), h.linkname));
      spool.links.set(name, target);
    } else if (h.type === 'hardlink') {
      spool.links.set(name, normalizeEntryPath(h.linkname));
    }
  }
}

/** One image to assemble from the archive. */
interface Plan {
  config: PendingBlob;
  layers: PendingBlob[];
  tags: Reference[];
  manifest?: string;
}

function parseRepoTag(s: unknown): Reference {
  if (typeof s !== 'string') throw invalidArchive('bad RepoTags entry');
  const ref = parseReference(s);
  if (ref.tag === undefined || ref.digest !== undefined) throw badParameter(`invalid tag ${JSON.stringify(s)}`);
  return ref;
}

async function classicPlans(spool: Spool, manifestFile: PendingBlob): Promise<Plan[]> {
  const items = await spool.json<unknown>(manifestFile, 'manifest.json');
  if (!Array.isArray(items)) throw invalidArchive('manifest.json is not a list');
  return items.map((item: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }) => {
    if (!item || typeof item !== 'object') throw invalidArchive('bad manifest.json entry');
    if (item.Layers !== undefined && item.Layers !== null && !Array.isArray(item.Layers)) throw invalidArchive('bad Layers');
    if (item.RepoTags !== undefined && item.RepoTags !== null && !Array.isArray(item.RepoTags)) throw invalidArchive('bad RepoTags');
    return {
      config: spool.need(item.Config, 'config'),
      layers: ((item.Layers as unknown[] | null) ?? []).map((l) => spool.need(l, 'layer')),
      tags: ((item.RepoTags as unknown[] | null) ?? []).map(parseRepoTag),
    };
  });
}

/** The name an index.json entry gives its image, if any. */
function nameFromAnnotations(a: Record<string, string> | undefined): Reference | undefined {
  const candidates = [a?.[ANNOTATION_IMAGE_NAME], a?.[ANNOTATION_REF_NAME]];
  for (const c of candidates) {
    // A bare ref.name ("latest") is only a tag, with no repository to put it in.
    if (!c || !/[:/@]/.test(c)) continue;
    try {
      const ref = parseReference(c);
      if (ref.digest === undefined) return withDefaultTag(ref);
    } catch {
      // not a usable name
    }
  }
  return undefined;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';
}

/** Follows a descriptor through nested indexes to the manifest for this platform. */
async function resolveManifest(spool: Spool, desc: Descriptor, depth = 0): Promise<{ manifest: Manifest; digest: string }> {
  if (depth > MAX_INDEX_DEPTH) throw invalidArchive('indexes nested too deep');
  const doc = await spool.json<Partial<Index & Manifest>>(spool.blob(desc, 'manifest'), 'manifest');
  if (isIndexType(desc.mediaType) || isIndexType(doc.mediaType) || Array.isArray(doc.manifests)) {
    const host = hostPlatform();
    const children = (doc.manifests ?? []).filter((d) => !isAttestation(d));
    const match =
      children.find((d) => d.platform?.os === host.os && d.platform?.architecture === host.architecture) ??
      (children.length === 1 && !children[0].platform ? children[0] : undefined);
    if (!match) throw notFound(`no manifest for platform ${host.os}/${host.architecture} in ${desc.digest}`);
    return resolveManifest(spool, match, depth + 1);
  }
  if (!doc.config || !Array.isArray(doc.layers)) throw invalidArchive(`${desc.digest} is not an image manifest`);
  return { manifest: doc as Manifest, digest: desc.digest };
}

async function ociPlans(spool: Spool, indexFile: PendingBlob): Promise<Plan[]> {
  const index = await spool.json<Index>(indexFile, 'index.json');
  if (!index || !Array.isArray(index.manifests)) throw invalidArchive('index.json has no manifests');
  const byManifest = new Map<string, Plan>();
  for (const desc of index.manifests) {
    if (isAttestation(desc)) continue;
    const { manifest, digest } = await resolveManifest(spool, desc);
    let plan = byManifest.get(digest);
    if (!plan) {
      plan = {
        config: spool.blob(manifest.config, 'config'),
        layers: manifest.layers.map((l) => spool.blob(l, 'layer')),
        tags: [],
        manifest: digest,
      };
      byManifest.set(digest, plan);
    }
    const name = nameFromAnnotations(desc.annotations);
    if (name && !plan.tags.some((t) => referenceString(t) === referenceString(name))) plan.tags.push(name);
  }
  return [...byManifest.values()];
}

/** Layer sources for createImage: an uncompressed spooled tar moves into the store as is. */
function layerSources(plan: Plan, config: ImageConfig): Map<string, LayerSource> {
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds)) throw invalidArchive('image config has no rootfs.diff_ids');
  if (diffIds.length !== plan.layers.length) {
    throw badParameter(`invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${plan.layers.length}`);
  }
  const sources = new Map<string, LayerSource>();
  plan.layers.forEach((f, i) => {
    const diffId = diffIds[i];
    if (sources.has(diffId)) return;
    sources.set(diffId, f.digest === diffId ? f : () => decompress(createReadStream(f.path)));
  });
  return sources;
}

/** docker load. Returns the lines docker prints ("Loaded image: busybox:latest", ...). */
export async function load(store: ImageStore, input: AsyncIterable<Uint8Array>): Promise<string[]> {
  const spool = new Spool();
  try {
    await spoolArchive(store, input, spool);
    const manifestJson = spool.lookup('manifest.json');
    const indexJson = spool.lookup('index.json');
    let plans: Plan[];
    if (manifestJson) plans = await classicPlans(spool, manifestJson);
    else if (indexJson) plans = await ociPlans(spool, indexJson);
    else throw invalidArchive('no manifest.json or index.json found');

    const lines: string[] = [];
    for (const plan of plans) {
      const configBytes = await fsp.readFile(plan.config.path);
      let config: ImageConfig;
      try {
        config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
      } catch {
        throw invalidArchive('image config is not valid JSON');
      }
      const image = await store.createImage(configBytes, {
        layerSources: layerSources(plan, config),
        manifests: plan.manifest ? [plan.manifest] : [],
      });
      for (const ref of plan.tags) {
        const prev = await store.setReference(ref, image.id);
        if (prev) lines.push(`The image ${familiarString(ref)} already exists, renaming the old one with ID ${prev} to empty string`);
        lines.push(`Loaded image: ${familiarString(ref)}`);
      }
      if (plan.tags.length === 0) lines.push(`Loaded image ID: ${image.id}`);
      store.emit('load', image.id);
    }
    return lines;
  } finally {
    await spool.discard();
  }
}

/** The images and tags `docker save NAME...` exports, chosen as Docker's parseNames does. */
function selectImages(store: ImageStore, names: readonly string[]): Map<string, { image: ImageRecord; tags: Reference[] }> {
  const out = new Map<string, { image: ImageRecord; tags: Reference[] }>();
  const add = (image: ImageRecord, tag?: Reference) => {
    let e = out.get(image.id);
    if (!e) out.set(image.id, (e = { image, tags: [] }));
    if (tag && !e.tags.some((t) => referenceString(t) === referenceString(tag))) e.tags.push(tag);
  };
  for (const name of names) {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(name)) {
      add(store.resolve(name));
      continue;
    }
    const ref = parseReference(name);
    if (familiarName(ref) === 'sha256' || ref.digest !== undefined) {
      add(store.resolve(name));
    } else if (isNameOnly(ref)) {
      // A bare repository name exports all its tags.
      let found = false;
      for (const image of store.all()) {
        for (const t of image.repoTags.map((s) => parseReference(s))) {
          if (fullName(t) === fullName(ref)) {
            add(image, t);
            found = true;
          }
        }
      }
      if (!found) add(store.resolve(name));
    } else {
      add(store.resolve(name), ref);
    }
  }
  return out;
}

const FILE = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) };
const DIR = { type: 'dir' as const, mode: 0o755, uid: 0, gid: 0, mtime: new Date(0) };

/** One image to write into an archive. */
export interface ArchiveImage {
  config: Buffer;
  /** Uncompressed layer tars in order; digest = the layer's diff id. */
  layers: { digest: string; size: number; open: () => AsyncIterable<Uint8Array> }[];
  tags: Reference[];
}

/**
 * Writes images in the layout Docker 25+ writes: blobs/sha256/* (configs, OCI manifests,
 * uncompressed layers), index.json, manifest.json, oci-layout and repositories, every
 * entry at mtime 0 so the same images always give the same bytes.
 */
export async function writeArchive(out: NodeJS.WritableStream, images: readonly ArchiveImage[]): Promise<void> {
  const blobs = new Map<string, { size: number; bytes?: Buffer; open?: () => AsyncIterable<Uint8Array> }>();
  const manifestItems: unknown[] = [];
  const indexEntries: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};

  for (const image of images) {
    const id = digestOf(image.config);
    const config = JSON.parse(image.config.toString('utf8')) as ImageConfig;
    blobs.set(id, { size: image.config.length, bytes: image.config });
    for (const l of image.layers) blobs.set(l.digest, { size: l.size, open: l.open });
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: id, size: image.config.length },
      layers: image.layers.map((l) => ({ mediaType: MediaType.ociLayer, digest: l.digest, size: l.size })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = digestOf(manifestBytes);
    blobs.set(manifestDigest, { size: manifestBytes.length, bytes: manifestBytes });
    const platform = {
      architecture: config.architecture ?? hostPlatform().architecture,
      os: config.os ?? 'linux',
      ...(config.variant ? { variant: config.variant } : {}),
    };
    const descriptor = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length, platform };
    const top = image.layers.length ? hexOf(image.layers[image.layers.length - 1].digest) : undefined;
    for (const tag of image.tags) {
      indexEntries.push({ ...descriptor, annotations: { [ANNOTATION_IMAGE_NAME]: referenceString(tag), [ANNOTATION_REF_NAME]: tag.tag! } });
      if (top) (repositories[familiarName(tag)] ??= {})[tag.tag!] = top;
    }
    // Docker lists untagged images only in manifest.json; an OCI reader needs them in the index too.
    if (image.tags.length === 0) indexEntries.push(descriptor);
    manifestItems.push({
      Config: `blobs/sha256/${hexOf(id)}`,
      RepoTags: image.tags.map(familiarString),
      Layers: image.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
    });
  }

  const tar = new TarWriter(out);
  await tar.add({ ...DIR, name: 'blobs/' });
  await tar.add({ ...DIR, name: 'blobs/sha256/' });
  for (const digest of [...blobs.keys()].sort()) {
    const b = blobs.get(digest)!;
    await tar.add({ ...FILE, name: `blobs/sha256/${hexOf(digest)}`, size: b.size }, b.bytes ?? b.open!());
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries };
  const files: [string, string][] = [
    ['index.json', JSON.stringify(index)],
    ['manifest.json', JSON.stringify(manifestItems) + '\n'],
    ['oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' })],
  ];
  if (Object.keys(repositories).length) files.push(['repositories', JSON.stringify(repositories) + '\n']);
  for (const [name, text] of files) {
    const bytes = Buffer.from(text);
    await tar.add({ ...FILE, name, size: bytes.length }, bytes);
  }
  await tar.finish();
}

/** docker save: writes a tar that both Docker 25+ (OCI layout) and older Docker (manifest.json) load. */
export async function save(store: ImageStore, names: readonly string[], out: NodeJS.WritableStream): Promise<void> {
  if (names.length === 0) throw badParameter('no images specified');
  const images: ArchiveImage[] = [];
  for (const { image, tags } of selectImages(store, names).values()) {
    const layers: ArchiveImage['layers'] = [];
    for (const l of image.layers) {
      if (!(await store.content.has(l.diffId))) throw notFound(`layer content ${l.diffId} of image ${image.id} is missing`);
      layers.push({ digest: l.diffId, size: await store.content.size(l.diffId), open: () => store.content.readStream(l.diffId) });
    }
    images.push({ config: await store.content.readBytes(image.id), layers, tags });
  }
  await writeArchive(out, images);
  for (const image of images) store.emit('save', digestOf(image.config));
}
