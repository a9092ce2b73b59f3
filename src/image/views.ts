// The API shapes of images as Docker's Engine API 1.50 returns them: ImageInspect,
// ImageSummary (GET /images/json) and HistoryResponseItem (GET /images/{name}/history).
import type { ImageConfig, ImageRuntimeConfig } from './types.ts';
import { ZERO_TIME, parseRfc3339 } from '../util/time.ts';

/** What the views need to know about one image. */
export interface ImageView {
  id: string;
  parent: string;
  config: ImageConfig;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  layerSizes: number[];
  lastTagTime: string | undefined;
}

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** Unix seconds of an RFC3339 time (Go's Time.Unix), 0 when absent or unparsable. */
export function unixSeconds(t: string | undefined): number {
  if (!t) return 0;
  const ns = parseRfc3339(t);
  return Number(ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n));
}

/** A stored RFC3339 time re-rendered as Go's RFC3339Nano does (fraction without trailing zeros). */
export function rfc3339NanoOf(t: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[Tt](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[4].toUpperCase() === 'Z' || m[4] === '+00:00' ? 'Z' : m[4];
  return `${m[1]}T${m[2]}${frac ? '.' + frac : ''}${zone}`;
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === '' || v === false ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** The image config's runtime defaults as API 1.50 shows them: OCI fields plus Docker's extensions, empty ones omitted. */
export function configView(c: ImageRuntimeConfig | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!c) return out;
  const keys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped'] as const;
  for (const k of keys) if (!isEmpty(c[k])) out[k] = c[k];
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  for (const k of ['OnBuild', 'Shell'] as const) if (!isEmpty(c[k])) out[k] = c[k];
  return out;
}

export function inspectView(img: ImageView, graphDriverData: Record<string, string>): Record<string, unknown> {
  const c = img.config;
  const out: Record<string, unknown> = {
    Id: img.id,
    RepoTags: img.repoTags,
    RepoDigests: img.repoDigests,
    Parent: img.parent,
    // As dockerd: a commit's message is only in its history entry.
    Comment: c.comment || c.history?.at(-1)?.comment || '',
  };
  if (c.created) out.Created = rfc3339NanoOf(c.created);
  out.DockerVersion = c.docker_version ?? '';
  out.Author = c.author ?? '';
  out.Config = configView(c.config);
  out.Architecture = c.architecture ?? '';
  if (c.variant) out.Variant = c.variant;
  out.Os = c.os ?? '';
  if (c['os.version']) out.OsVersion = c['os.version'];
  out.Size = img.size;
  out.GraphDriver = { Data: graphDriverData, Name: 'overlay2' };
  out.RootFS = { Type: c.rootfs?.type ?? 'layers', Layers: [...(c.rootfs?.diff_ids ?? [])] };
  out.Metadata = { LastTagTime: img.lastTagTime ? rfc3339NanoOf(img.lastTagTime) : ZERO_TIME };
  return out;
}

export function summaryView(img: ImageView, sharedSize = -1, containers = -1): ImageSummary {
  const labels = img.config.config?.Labels;
  return {
    Containers: containers,
    Created: unixSeconds(img.config.created),
    Id: img.id,
    Labels: labels && Object.keys(labels).length ? { ...labels } : null,
    ParentId: img.parent,
    RepoDigests: [...img.repoDigests],
    RepoTags: [...img.repoTags],
    SharedSize: sharedSize,
    Size: img.size,
  };
}

/**
 * Newest first. Each history entry that made a layer gets that layer's size; the top
 * entry carries the image id and tags, the older ones "<missing>" (Docker does the same
 * for images that were not built locally).
 */
export function historyView(img: ImageView): HistoryItem[] {
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of img.config.history ?? []) {
    let size = 0;
    if (!h.empty_layer) {
      size = img.layerSizes[layer] ?? 0;
      layer++;
    }
    items.unshift({ Comment: h.comment ?? '', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Id: '<missing>', Size: size, Tags: null });
  }
  if (items.length > 0) {
    items[0].Id = img.id;
    items[0].Tags = img.repoTags.length ? [...img.repoTags] : null;
  }
  return items;
}
