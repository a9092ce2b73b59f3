// What GET /system/df reports, read from the engine's stores as dockerd's SystemDiskUsage
// reads its own: every container with its sizes, the top images with SharedSize and their
// container counts, the layers images use (each counted once), and volumes with UsageData.
import type { Engine } from './engine.ts';
import type { DiskUsageSource } from '../api/routes/disk-usage.ts';
import { listContainers } from '../container/list.ts';
import { containerSummary } from '../api/views.ts';

/** Bytes of the distinct layers (by chain id) of the given images. */
export function layersSize(images: Iterable<{ layers: readonly { chainId: string; size: number }[] }>): number {
  const sizes = new Map<string, number>();
  for (const img of images) for (const l of img.layers) sizes.set(l.chainId, l.size);
  let total = 0;
  for (const s of sizes.values()) total += s;
  return total;
}

export function diskUsageSource(engine: Engine): DiskUsageSource {
  return {
    async containers() {
      const recs = listContainers(engine.containers.store, { all: true, limit: -1, filters: {}, matchesImage: () => false });
      const out: unknown[] = [];
      for (const rec of recs) {
        // A container removed while its size is measured reads as empty, not as an error.
        const size = await engine.containers.usage(rec).catch(() => ({ rw: 0, rootfs: 0 }));
        out.push(containerSummary(rec, size));
      }
      return out;
    },
    async images() {
      const images = engine.images.list({ sharedSize: true, containerCount: (id) => engine.usedBy(id).length });
      return { layersSize: layersSize(engine.images.all()), images };
    },
    async volumes() {
      return (await engine.volumes.list({}, true)).Volumes;
    },
  };
}
