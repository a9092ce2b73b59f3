// GET /images/json: Docker's selection rules (daemon/images/images.go) over the store's
// images: filters dangling, label, before, since, until and reference (globs on the
// familiar name and name:tag), intermediate images hidden unless all, newest first.
import { badParameter } from '../util/errors.ts';
import { has, matchKVList, parseTimestamp, validateFilters, values, type Filters } from './filters.ts';
import { globMatch } from './glob.ts';
import { familiarName, familiarString, type Reference } from './reference.ts';
import { summaryView, type ImageSummary, type ImageView } from './views.ts';

export interface ListOptions {
  all?: boolean;
  filters?: Filters;
  /** Compute SharedSize (bytes of layers this image shares with others), as ?shared-size=1. */
  sharedSize?: boolean;
  /** Number of containers per image, for the Containers field (-1 when not given). */
  containerCount?: (imageId: string) => number;
}

/** One image as the list sees it. */
export interface ListCandidate {
  view: ImageView;
  /** Its references, parsed (full form). */
  refs: Reference[];
  /** config.created in nanoseconds, if the image has one. */
  created: bigint | undefined;
  hasChildren: boolean;
  layers: readonly { chainId: string; size: number }[];
}

const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'] as const;

const tagsOf = (refs: Reference[]) => refs.filter((r) => r.tag !== undefined && r.digest === undefined).map(familiarString);
const digestsOf = (refs: Reference[]) => refs.filter((r) => r.digest !== undefined).map(familiarString);

/** createdOf resolves the images named by before/since (and throws their 404s). */
export function listImages(images: readonly ListCandidate[], opts: ListOptions, createdOf: (nameOrId: string) => bigint | undefined): ImageSummary[] {
  const f = opts.filters;
  validateFilters(f, LIST_FILTERS);
  let danglingOnly = false;
  if (has(f, 'dangling')) {
    const v = values(f, 'dangling');
    if (v.length === 1 && v[0] === 'true') danglingOnly = true;
    else if (!(v.length === 1 && v[0] === 'false')) throw badParameter(`invalid filter 'dangling=${v.join(',')}'`);
  }
  // Several values of one filter narrow it: the oldest "before", the newest "since".
  let before: bigint | undefined;
  for (const v of values(f, 'before')) {
    const t = createdOf(v);
    if (t !== undefined && (before === undefined || t < before)) before = t;
  }
  let since: bigint | undefined;
  for (const v of values(f, 'since')) {
    const t = createdOf(v);
    if (t !== undefined && (since === undefined || t > since)) since = t;
  }
  let until: bigint | undefined;
  for (const v of values(f, 'until')) {
    const t = parseTimestamp(v);
    if (until === undefined || t < until) until = t;
  }
  const patterns = values(f, 'reference');
  const layerUse = new Map<string, number>();
  if (opts.sharedSize) for (const img of images) for (const l of img.layers) layerUse.set(l.chainId, (layerUse.get(l.chainId) ?? 0) + 1);

  const out: { created: bigint; summary: ImageSummary }[] = [];
  for (const img of images) {
    const { created } = img;
    if (before !== undefined && (created === undefined || created >= before)) continue;
    if (since !== undefined && (created === undefined || created <= since)) continue;
    if (until !== undefined && (created === undefined || created > until)) continue;
    if (has(f, 'label') && !matchKVList(f, 'label', img.view.config.config?.Labels)) continue;
    const v = { ...img.view };
    if (has(f, 'reference')) {
      const keep = img.refs.filter((r) => patterns.some((p) => globMatch(p, familiarString(r)) || globMatch(p, familiarName(r))));
      v.repoTags = tagsOf(keep);
      v.repoDigests = digestsOf(keep);
    }
    if (v.repoTags.length === 0 && v.repoDigests.length === 0) {
      if (!opts.all && img.hasChildren) continue;
      if (has(f, 'dangling') && !danglingOnly) continue;
      if (has(f, 'reference')) continue;
    } else if (danglingOnly && v.repoTags.length > 0) {
      continue;
    }
    const shared = opts.sharedSize ? img.layers.reduce((n, l) => n + ((layerUse.get(l.chainId) ?? 0) > 1 ? l.size : 0), 0) : -1;
    out.push({ created: created ?? 0n, summary: summaryView(v, shared, opts.containerCount ? opts.containerCount(v.id) : -1) });
  }
  out.sort((a, b) => (a.created === b.created ? 0 : a.created > b.created ? -1 : 1));
  return out.map((x) => x.summary);
}
