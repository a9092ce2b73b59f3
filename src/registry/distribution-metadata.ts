// What berth knows about layers in registries (dockerd's "v2 metadata service"): for each
// layer diff id, the compressed blobs it was pushed as or pulled from and the repositories
// ("registry/path") seen holding them, so a push can skip a blob the target already has or
// mount it from another repository of the same registry instead of uploading it again; and
// the gzip'd blob berth made of a layer for a push, kept in the content store, so the next
// push does not compress it again. Kept in one JSON file, replaced atomically on change.
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../util/atomic.ts';
import { isDigest } from '../content/digest.ts';

export interface BlobSighting {
  /** The compressed blob's digest. */
  digest: string;
  /** Full repository name, "registry/path" ("127.0.0.1:5000/bb", "docker.io/library/busybox"). */
  repository: string;
}

export interface CompressedBlob {
  digest: string;
  size: number;
  mediaType: string;
}

interface FileShape {
  /** diff id -> sightings, most recent last. */
  remote: Record<string, BlobSighting[]>;
  /** diff id -> the compressed blob berth made of it. */
  local: Record<string, CompressedBlob>;
}

/** Sightings kept per layer: old ones fall off (dockerd keeps 50). */
const MAX_SIGHTINGS = 50;

export class DistributionMetadata {
  private readonly path: string;
  private data: FileShape = { remote: {}, local: {} };
  private loaded = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.path = join(root, 'distribution.json');
  }

  async load(): Promise<void> {
    if (this.loaded) return;
    const raw = await readJson<Partial<FileShape>>(this.path).catch(() => undefined);
    const remote: FileShape['remote'] = {};
    for (const [diffId, list] of Object.entries(raw?.remote ?? {})) {
      if (!isDigest(diffId) || !Array.isArray(list)) continue;
      const ok = list.filter((s) => s && isDigest(s.digest) && typeof s.repository === 'string' && s.repository.includes('/'));
      if (ok.length) remote[diffId] = ok;
    }
    const local: FileShape['local'] = {};
    for (const [diffId, b] of Object.entries(raw?.local ?? {})) {
      if (isDigest(diffId) && b && isDigest(b.digest) && Number.isSafeInteger(b.size) && typeof b.mediaType === 'string') local[diffId] = b;
    }
    this.data = { remote, local };
    this.loaded = true;
  }

  /** Where a layer has been seen, most recent first. */
  sightings(diffId: string): BlobSighting[] {
    return [...(this.data.remote[diffId] ?? [])].reverse();
  }

  /** Records that repository holds the layer as the blob digest. */
  add(diffId: string, digest: string, repository: string): Promise<void> {
    const list = (this.data.remote[diffId] ?? []).filter((s) => !(s.digest === digest && s.repository === repository));
    list.push({ digest, repository });
    this.data.remote[diffId] = list.slice(-MAX_SIGHTINGS);
    return this.save();
  }

  /** Forgets a sighting that proved wrong (the blob is not, or no longer, there). */
  remove(diffId: string, digest: string, repository: string): Promise<void> {
    const list = this.data.remote[diffId];
    if (!list) return Promise.resolve();
    const rest = list.filter((s) => !(s.digest === digest && s.repository === repository));
    if (rest.length === list.length) return Promise.resolve();
    if (rest.length) this.data.remote[diffId] = rest;
    else delete this.data.remote[diffId];
    return this.save();
  }

  compressed(diffId: string): CompressedBlob | undefined {
    return this.data.local[diffId];
  }

  setCompressed(diffId: string, blob: CompressedBlob): Promise<void> {
    this.data.local[diffId] = blob;
    return this.save();
  }

  /** Writes the current state; writes are serialized, each one the whole state. */
  private save(): Promise<void> {
    this.saving = this.saving.catch(() => undefined).then(() => writeJsonAtomic(this.path, this.data));
    return this.saving;
  }
}
