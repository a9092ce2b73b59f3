// docker commit (POST /commit), the container side, in dockerd's order: the container is
// found and checked, paused unless asked not to (a running one; a paused one stays so),
// the request's config (or the container's) gets the --change instructions and then the
// container's config merged under it, its writable layer is packed as a layer diff (less
// what `docker diff` leaves out: the runtime's mount targets) onto its image, the image is
// tagged, the `commit` event sent, and the container unpaused.
import type { ContainerConfig } from '../runtime/types.ts';
import type { ContainerEventSink, ContainerRecord } from './record.ts';
import type { ImageStore } from '../image/store.ts';
import type { ImageRuntimeConfig } from '../image/types.ts';
import { familiarString, type Reference } from '../image/reference.ts';
import { applyChanges } from '../image/changes.ts';
import { commitImage } from '../image/commit.ts';
import { packOverlayDiff } from '../archive/tar-pack.ts';
import { mergeImageDefaults, type ImageDefaults } from './create-config.ts';
import { overlayChanges } from './changes.ts';
import { badParameter, conflict, notFound } from '../util/errors.ts';
import { log } from '../util/log.ts';

/** The few container service operations commit needs. */
export interface CommitContainers {
  store: { get(ref: string): ContainerRecord; find(ref: string): ContainerRecord | undefined };
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
}

export interface CommitDeps {
  containers: CommitContainers;
  images: ImageStore;
  /** The container's writable layer and the layers under it (topmost first). */
  layers: (id: string) => Promise<{ upper: string; lowers: string[] }>;
  events?: ContainerEventSink;
  /** The image config's docker_version. */
  dockerVersion: string;
  /** Under --userns-remap: the owners of the writable layer's files as the layer gives them. */
  toLayerIds?: (uid: number, gid: number) => [number, number];
}

export interface CommitRequest {
  container: string;
  /** Where to tag the new image (repo and tag already combined and checked). */
  reference?: Reference;
  author?: string;
  comment?: string;
  /** Pause a running container for the copy (the API's default). */
  pause: boolean;
  /** Dockerfile instructions (CMD, ENV, ...). */
  changes: string[];
  /** The request body's config; the container's own when absent. */
  config?: ContainerConfig;
}

/**
 * dockerd's merge of a commit's config with the container's: what the new config leaves
 * empty comes from the container (Env and Labels by key, ports and volumes added, Cmd and
 * Entrypoint together), as at create, and a health check's unset fields are filled in.
 */
export function mergeCommitConfig(next: ContainerConfig, container: ContainerConfig): ImageRuntimeConfig {
  return mergeImageDefaults(next, container as ImageDefaults) as ImageRuntimeConfig;
}

/** Makes the image; returns its id ("sha256:..."). */
export async function commitContainer(d: CommitDeps, req: CommitRequest): Promise<string> {
  if (!req.container) throw badParameter('invalid name or ID supplied: ""');
  const rec = d.containers.store.get(req.container);
  if (rec.State.Status === 'dead') throw conflict(`You cannot commit container ${rec.Id} which is Dead`);
  if (rec.State.Status === 'removing') throw conflict(`You cannot commit container ${rec.Id} which is being removed`);
  // As dockerd: a pause that fails (the container stopped meanwhile) is no reason to stop.
  let paused = false;
  if (req.pause && rec.State.Status === 'running') {
    paused = await d.containers.pause(rec.Id).then(
      () => true,
      (err) => (log.warn('pause for commit failed', { id: rec.Id, error: err }), false),
    );
  }
  try {
    const base = (req.config ?? rec.Config) as ImageRuntimeConfig;
    const changed = req.changes.length ? applyChanges(req.changes, base) : structuredClone(base);
    const config = mergeCommitConfig(changed as ContainerConfig, rec.Config);
    // The copy under the container's lock (no removal meanwhile); the image made after it.
    const layer = await d.containers.withLock(rec.Id, async () => {
      if (!d.containers.store.find(rec.Id)) throw notFound(`No such container: ${req.container}`);
      const { upper, lowers } = await d.layers(rec.Id);
      const kept = new Set((await overlayChanges(upper, lowers)).map((c) => c.Path));
      return d.images.content.spool(packOverlayDiff(upper, { include: (path) => kept.has(path), mapIds: d.toLayerIds }));
    });
    const id = await commitImage(d.images, {
      parentId: rec.Image,
      layer,
      containerId: rec.Id,
      containerConfig: rec.Config as ImageRuntimeConfig,
      config,
      author: req.author,
      comment: req.comment,
      dockerVersion: d.dockerVersion,
      os: rec.Platform,
      reference: req.reference,
    });
    d.events?.('commit', rec, { comment: req.comment ?? '', imageID: id, imageRef: req.reference ? familiarString(req.reference) : '' });
    return id;
  } finally {
    if (paused) await d.containers.unpause(rec.Id).catch((err) => log.warn('unpause after commit failed', { id: rec.Id, error: err }));
  }
}
