// GET /system/df (SystemDataUsage) and POST /build/prune, as dockerd 28 answers them:
// df computes only the kinds the `type` query asks for (API 1.42+; all of them without
// it), each kind once at a time however many clients ask. berth has no build cache: df's
// BuildCache is [] and a build prune deletes nothing, after dockerd's checks of its query.
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import { badParameter, EngineError } from '../../util/errors.ts';
import { parseTimestamp, validateFilters, type Filters } from '../../image/filters.ts';

export interface DiskUsageSource {
  /** Every container, newest first, as GET /containers/json?all=1&size=1 lists it. */
  containers(): Promise<unknown[]>;
  /** Top images with SharedSize and Containers, and the bytes of the layers images use (each once). */
  images(): Promise<{ layersSize: number; images: unknown[] }>;
  /** Every volume with its UsageData. */
  volumes(): Promise<unknown[]>;
}

export type DiskUsageKind = 'container' | 'image' | 'volume' | 'build-cache';
const KINDS: readonly DiskUsageKind[] = ['container', 'image', 'volume', 'build-cache'];

/** The kinds a df request asks for: all of them without `type` or before API 1.42. */
export function requestedKinds(types: string[] | undefined, apiAtLeast142: boolean): Set<DiskUsageKind> {
  if (!apiAtLeast142 || types === undefined) return new Set(KINDS);
  const out = new Set<DiskUsageKind>();
  for (const t of types) {
    if (!(KINDS as readonly string[]).includes(t)) throw badParameter(`unknown object type: ${t}`);
    out.add(t as DiskUsageKind);
  }
  return out;
}

/** Runs fn once for concurrent callers (dockerd's singleflight per kind). */
function singleflight<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= fn().finally(() => {
      running = undefined;
    });
    return running;
  };
}

const BUILD_PRUNE_FILTERS = ['until', 'unused-for', 'label', 'label!', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'];

/** dockerd's checks of a build cache prune request (filters, until, byte sizes), with its messages. */
export function checkBuildPrune(filters: Filters, bytes: Record<string, string | undefined>): void {
  const wrap = (err: unknown): never => {
    if (err instanceof EngineError) throw new EngineError(err.status, `failed to prune build cache: ${err.message}`);
    throw err;
  };
  for (const [name, v] of Object.entries(bytes)) {
    if (v && !/^[+-]?\d+$/.test(v)) throw badParameter(`${name} is in bytes and expects an integer, got ${v}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  }
  try {
    validateFilters(filters, BUILD_PRUNE_FILTERS);
    const until = filters.until ?? [];
    const unusedFor = filters['unused-for'] ?? [];
    if (until.length && unusedFor.length) throw badParameter('conflicting filters: "until" and "unused-for"');
    const key = unusedFor.length ? 'unused-for' : 'until';
    const all = [...until, ...unusedFor];
    if (all.length > 1) throw badParameter('filters expect only one value');
    if (all.length === 1) {
      try {
        parseTimestamp(all[0]!);
      } catch (err) {
        throw badParameter(`"${key}" filter expects a duration (e.g., '24h') or a timestamp: ${(err as Error).message}`);
      }
    }
    for (const k of BUILD_PRUNE_FILTERS.slice(4)) if ((filters[k]?.length ?? 0) > 1) throw badParameter('filters expect only one value');
  } catch (err) {
    wrap(err);
  }
}

export function diskUsageRoutes(r: Router, src: DiskUsageSource): void {
  const containers = singleflight(() => src.containers());
  const images = singleflight(() => src.images());
  const volumes = singleflight(() => src.volumes());

  r.add('GET', '/system/df', async (ctx) => {
    const kinds = requestedKinds(ctx.query.has('type') ? ctx.query.getAll('type') : undefined, ctx.versionAtLeast('1.42'));
    const [img, ctrs, vols] = await Promise.all([
      kinds.has('image') ? images() : undefined,
      kinds.has('container') ? containers() : undefined,
      kinds.has('volume') ? volumes() : undefined,
    ]);
    ctx.send(200, {
      LayersSize: img?.layersSize ?? 0,
      Images: img?.images ?? null,
      Containers: ctrs ?? null,
      Volumes: vols ?? null,
      BuildCache: kinds.has('build-cache') ? [] : null,
    });
  });

  r.add('POST', '/build/prune', (ctx: Context) => {
    // API 1.48 reads reserved-space, and keep-storage (deprecated) only without it.
    let sizes = ['keep-storage'];
    if (ctx.versionAtLeast('1.48')) sizes = ['reserved-space', ...(Number(ctx.str('reserved-space') || 0) === 0 ? ['keep-storage'] : []), 'max-used-space', 'min-free-space'];
    checkBuildPrune(ctx.filters(), Object.fromEntries(sizes.map((n) => [n, ctx.str(n)])));
    ctx.send(200, { CachesDeleted: null, SpaceReclaimed: 0 });
  });
}
