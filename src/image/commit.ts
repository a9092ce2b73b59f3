// docker commit, the image side: the child image's config (dockerd's NewChildImage: the
// parent's layers and history plus one entry for the commit) and its creation from a
// container's layer diff, with its parent recorded, a `create` image event and the tag.
import type { ImageStore } from './store.ts';
import type { PendingBlob } from '../content/store.ts';
import type { ImageConfig, ImageRuntimeConfig } from './types.ts';
import { hostPlatform } from './platform.ts';
import type { Reference } from './reference.ts';
import { referenceString } from './reference.ts';
import { rfc3339Nano } from '../util/time.ts';
import { notFound } from '../util/errors.ts';

/** The diff id of a layer tar with no entries (1024 zero bytes): dockerd's layer.EmptyLayer.
 * A commit that changed nothing adds no layer, only an empty_layer history entry. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface ChildSpec {
  containerId: string;
  /** The container's own config (container_config; its Cmd is the history's created_by). */
  containerConfig: ImageRuntimeConfig;
  /** The new image's config (the container's merged with the request's and the changes). */
  config: ImageRuntimeConfig;
  author?: string;
  comment?: string;
  diffId: string;
  dockerVersion: string;
  os?: string;
  created?: string;
}

/** The config blob of an image made from parent and one more layer (none when diffId is the empty layer's). */
export function childImageConfig(parent: ImageConfig | undefined, c: ChildSpec): ImageConfig {
  const empty = c.diffId === EMPTY_LAYER_DIFF_ID;
  const created = c.created ?? rfc3339Nano();
  const cmd = c.containerConfig.Cmd;
  const createdBy = Array.isArray(cmd) ? cmd.join(' ') : typeof cmd === 'string' ? cmd : '';
  const history = {
    created,
    ...(createdBy ? { created_by: createdBy } : {}),
    ...(c.author ? { author: c.author } : {}),
    ...(c.comment ? { comment: c.comment } : {}),
    ...(empty ? { empty_layer: true } : {}),
  };
  const diffIds = [...(parent?.rootfs?.diff_ids ?? [])];
  if (!empty) diffIds.push(c.diffId);
  return {
    created,
    container: c.containerId,
    container_config: c.containerConfig,
    docker_version: c.dockerVersion,
    ...(c.author ? { author: c.author } : {}),
    config: c.config,
    architecture: parent?.architecture || hostPlatform().architecture,
    ...(parent?.variant ? { variant: parent.variant } : {}),
    os: c.os || parent?.os || 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [...(parent?.history ?? []), history],
    ...(parent?.['os.version'] ? { 'os.version': parent['os.version'] } : {}),
    ...(parent?.['os.features'] ? { 'os.features': parent['os.features'] } : {}),
  };
}

export interface CommitImageOptions extends Omit<ChildSpec, 'diffId'> {
  /** The container's image (the new one's parent). */
  parentId: string;
  /** The layer diff tar, spooled; discarded here once the image is made (or not). */
  layer: PendingBlob;
  /** Where to tag the new image (already checked: a name with a tag). */
  reference?: Reference;
}

/** Stores the layer and the image; returns the new image's id ("sha256:..."). */
export async function commitImage(store: ImageStore, o: CommitImageOptions): Promise<string> {
  const { parentId, layer, reference, ...spec } = o;
  try {
    const parent = store.get(parentId);
    if (!parent) throw notFound(`No such image: ${parentId}`);
    const config = childImageConfig(parent.config, { ...spec, diffId: layer.digest });
    const image = await store.createImage(Buffer.from(JSON.stringify(config)), {
      parent: parent.id,
      layerSources: new Map([[layer.digest, layer]]),
    });
    store.emit('create', image.id);
    if (reference) await store.tag(image.id, referenceString(reference));
    return image.id;
  } finally {
    await layer.discard();
  }
}
