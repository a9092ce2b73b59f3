// docker import: a root filesystem tar (possibly gzip/zstd-compressed) becomes a
// one-layer image, with --change instructions applied to an empty config, the message as
// the image comment and history entry, and "now" as its creation time.
import type { ImageStore } from './store.ts';
import { applyChanges } from './changes.ts';
import { decompress } from './layers.ts';
import { parseReference, referenceString, withDefaultTag, type Reference } from './reference.ts';
import { parsePlatform, type Platform } from './platform.ts';
import { badParameter } from '../util/errors.ts';
import { rfc3339Nano } from '../util/time.ts';
import type { ImageConfig } from './types.ts';

export interface ImportOptions {
  /** "repo[:tag]" to tag the image with (repo and tag form values combined). */
  reference?: string;
  changes?: string[];
  message?: string;
  /** "linux[/arch[/variant]]" or a parsed platform; defaults to this host's. */
  platform?: string | Platform;
}

/** Returns the new image's id ("sha256:..."). */
export async function importImage(store: ImageStore, input: AsyncIterable<Uint8Array>, opts: ImportOptions = {}): Promise<string> {
  let ref: Reference | undefined;
  if (opts.reference) {
    ref = parseReference(opts.reference);
    if (ref.digest !== undefined) throw badParameter('cannot import digest reference');
    ref = withDefaultTag(ref);
  }
  const platform = typeof opts.platform === 'object' ? opts.platform : parsePlatform(opts.platform);
  // Changes are checked before the (possibly large) upload is read.
  const runtimeConfig = applyChanges(opts.changes ?? []);

  const layer = await store.content.spool(decompress(input));
  try {
    const created = rfc3339Nano();
    const config: ImageConfig = {
      ...(opts.message ? { comment: opts.message } : {}),
      created,
      config: runtimeConfig,
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created, ...(opts.message ? { comment: opts.message } : {}) }],
    };
    const image = await store.createImage(Buffer.from(JSON.stringify(config)), { layerSources: new Map([[layer.digest, layer]]) });
    store.emit('import', image.id);
    if (ref) await store.tag(image.id, referenceString(ref));
    return image.id;
  } finally {
    await layer.discard();
  }
}
