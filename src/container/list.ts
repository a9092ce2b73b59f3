// `docker ps` selection: all/limit/latest and the filters dockerd accepts; and the
// containers `docker container prune` may remove.
import { isActive, type ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import { badParameter } from '../util/errors.ts';
import { has, matchKVList, parseTimestamp, validateFilters, values } from '../image/filters.ts';
import { parseRfc3339 } from '../util/time.ts';

export type Filters = Record<string, string[]>;

const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);
const KEYS = new Set(['status', 'name', 'id', 'label', 'ancestor', 'exited', 'before', 'since', 'health', 'volume', 'network', 'publish', 'expose', 'isolation', 'is-task']);

export interface ListOptions {
  all: boolean;
  limit: number;
  filters: Filters;
  /** Whether a container's image matches an `ancestor` value (name or id). */
  matchesImage: (rec: ContainerRecord, ref: string) => boolean;
}

function labelMatch(labels: Record<string, string> | undefined, want: string): boolean {
  const i = want.indexOf('=');
  const k = i < 0 ? want : want.slice(0, i);
  if (!labels || !(k in labels)) return false;
  return i < 0 || labels[k] === want.slice(i + 1);
}

export function listContainers(store: ContainerStore, o: ListOptions): ContainerRecord[] {
  for (const k of Object.keys(o.filters)) if (!KEYS.has(k)) throw badParameter(`invalid filter '${k}'`);
  const f = o.filters;
  for (const s of f.status ?? []) if (!STATUSES.has(s)) throw badParameter(`invalid filter 'status=${s}'`);
  for (const e of f.exited ?? []) if (!/^-?\d+$/.test(e)) throw badParameter(`invalid filter 'exited=${e}'`);
  for (const h of f.health ?? []) if (!HEALTH.has(h)) throw badParameter(`invalid filter 'health=${h}': invalid value for health (${h}): must be one of none, starting, healthy, unhealthy`);
  const before = f.before?.map((r) => store.get(r).Created);
  const since = f.since?.map((r) => store.get(r).Created);
  const anyOf = <T>(vals: T[] | undefined, pred: (v: T) => boolean) => !vals || vals.length === 0 || vals.some(pred);

  let all = store.list().sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  // Like dockerd, "all" is implied by a limit, a status filter other than running, and exited.
  const showAll = o.all || o.limit > 0 || !!f.exited || (f.status ?? []).some((s) => s !== 'running') || !!before || !!since;
  all = all.filter((r) => {
    const st = r.State.Status;
    if (!showAll && !isActive(r)) return false;
    if (!anyOf(f.status, (s) => s === st)) return false;
    if (!anyOf(f.id, (p) => r.Id.startsWith(p))) return false;
    if (!anyOf(f.name, (n) => new RegExp(n).test(r.Name.slice(1)) || new RegExp(n).test(r.Name))) return false;
    if (f.label && !f.label.every((l) => labelMatch(r.Config.Labels ?? undefined, l))) return false;
    if (!anyOf(f.ancestor, (a) => o.matchesImage(r, a))) return false;
    if (!anyOf(f.health, (h) => h === (r.State.Health?.Status ?? 'none'))) return false;
    if (f.exited && !(st === 'exited' && f.exited.some((e) => Number(e) === r.State.ExitCode))) return false;
    if (before && !before.every((c) => r.Created < c)) return false;
    if (since && !since.every((c) => r.Created > c)) return false;
    // dockerd: a volume's name or a mount's destination.
    if (!anyOf(f.volume, (v) => Object.values(r.MountPoints ?? {}).some((m) => m.Name === v || m.Destination === v))) return false;
    return true;
  });
  return o.limit > 0 ? all.slice(0, o.limit) : all;
}

const PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/** Stopped containers matching prune filters (until, label, label!), as dockerd picks them. */
export function pruneCandidates(store: ContainerStore, f: Filters): ContainerRecord[] {
  validateFilters(f, PRUNE_FILTERS);
  let until: bigint | undefined;
  if (has(f, 'until')) {
    const v = values(f, 'until');
    if (v.length > 1) throw badParameter('more than one until filter specified');
    if (v.length === 1) until = parseTimestamp(v[0]);
  }
  return store.list().filter((r) => {
    if (isActive(r)) return false;
    if (until !== undefined && parseRfc3339(r.Created) > until) return false;
    const labels = r.Config.Labels;
    if (!matchKVList(f, 'label', labels)) return false;
    if (has(f, 'label!') && matchKVList(f, 'label!', labels)) return false;
    return true;
  });
}
