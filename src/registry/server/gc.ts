// Garbage collection: mark every blob a stored manifest needs (any revision, tagged or not:
// itself, its config, layers and child manifests), then sweep the rest. A blob pushed but
// never referenced, or left behind by a deleted manifest, goes. The server must not run
// meanwhile (root-lock.ts): a push in flight could reference a blob being swept.
import { promises as fsp } from 'node:fs';
import { parseDigest } from './digests.ts';
import { parseManifest, referencedDigests, type ManifestInfo } from './manifest.ts';
import type { Storage } from './storage.ts';

export interface StoredManifest {
  digest: string;
  info: ManifestInfo;
}

/** The digests the manifests keep alive, their own included (pure: unit-tested). */
export function mark(manifests: Iterable<StoredManifest>): Set<string> {
  const live = new Set<string>();
  for (const m of manifests) {
    live.add(m.digest);
    for (const d of referencedDigests(m.info)) live.add(d);
  }
  return live;
}

/** Every manifest revision of every repository, parsed; an unreadable one is reported. */
async function storedManifests(storage: Storage, warn: (msg: string) => void): Promise<StoredManifest[]> {
  const out: StoredManifest[] = [];
  for (const repo of await storage.repositories()) {
    for (const digest of await storage.manifestRevisions(repo)) {
      const d = parseDigest(digest)!;
      out.push({ digest, info: { mediaType: '', blobs: [], manifests: [] } });
      const mediaType = await storage.manifestMediaType(repo, d);
      const bytes = await fsp.readFile(storage.blobPath(d)).catch(() => undefined);
      if (!bytes || mediaType === undefined) {
        warn(`${repo}: manifest ${digest} is missing its blob`);
        continue;
      }
      try {
        out[out.length - 1].info = parseManifest(bytes, mediaType);
      } catch {
        warn(`${repo}: manifest ${digest} cannot be parsed; its blobs are kept only if another manifest needs them`);
      }
    }
  }
  return out;
}

export interface GcResult {
  marked: number;
  removed: string[];
}

/** Marks and sweeps; with dryRun nothing is deleted. report() gets each blob removed (or to be). */
export async function collectGarbage(storage: Storage, opts: { dryRun: boolean; report: (digest: string) => void; warn: (msg: string) => void }): Promise<GcResult> {
  const live = mark(await storedManifests(storage, opts.warn));
  const removed = (await storage.allBlobs()).filter((d) => !live.has(d)).sort();
  for (const digest of removed) {
    opts.report(digest);
    if (!opts.dryRun) await storage.deleteBlob(parseDigest(digest)!);
  }
  if (!opts.dryRun && removed.length > 0) {
    // Repository links to removed blobs would only answer 404 later; drop them too.
    const gone = new Set(removed);
    for (const repo of await storage.repositories()) {
      for (const digest of await storage.repoBlobLinks(repo)) {
        if (gone.has(digest)) await storage.unlinkBlob(repo, parseDigest(digest)!);
      }
    }
  }
  return { marked: live.size, removed };
}
