// The `filters` of GET /events with the semantics of Docker's filters.Args: a key maps to a
// set of values; a key with no values does not filter; exact, prefix ("fuzzy") and
// key[=value] label matches; and the rules of dockerd's event filter (daemon/events).
import { badParameter } from '../util/errors.ts';
import { familiarName, parseReference } from '../image/reference.ts';
import type { EventMessage } from './bus.ts';

export class FilterArgs {
  private readonly fields: Map<string, Map<string, boolean>>;

  constructor(fields: Map<string, Map<string, boolean>> = new Map()) {
    this.fields = fields;
  }

  /** Parses {"key":{"value":true}} or the legacy {"key":["value"]}; 400 "invalid filter" otherwise. */
  static fromJSON(raw: string | null | undefined): FilterArgs {
    if (!raw) return new FilterArgs();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badParameter('invalid filter');
    }
    if (parsed === null) return new FilterArgs();
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw badParameter('invalid filter');
    const entries = Object.entries(parsed as Record<string, unknown>);
    const asSets = toFields(entries, (v) => isBoolMap(v) && new Map(Object.entries(v ?? {})));
    if (asSets) return new FilterArgs(asSets);
    const legacy = toFields(entries, (v) => isStringList(v) && new Map((v ?? []).map((s) => [s, true])));
    if (legacy) return new FilterArgs(legacy);
    throw badParameter('invalid filter');
  }

  /** Number of keys (a key with no values counts). */
  get size(): number {
    return this.fields.size;
  }

  get(key: string): string[] {
    return [...(this.fields.get(key)?.keys() ?? [])];
  }

  contains(key: string): boolean {
    return this.fields.has(key);
  }

  exactMatch(key: string, source: string): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    return values.get(source) === true;
  }

  /** Exact, or `source` starts with one of the values. */
  fuzzyMatch(key: string, source: string): boolean {
    if (this.exactMatch(key, source)) return true;
    for (const prefix of this.fields.get(key)?.keys() ?? []) if (source.startsWith(prefix)) return true;
    return false;
  }

  /** Every value ("k" or "k=v") must be present in `sources`. */
  matchKVList(key: string, sources: Record<string, string> | undefined): boolean {
    const values = this.fields.get(key);
    if (!values || values.size === 0) return true;
    if (!sources || Object.keys(sources).length === 0) return false;
    for (const value of values.keys()) {
      const eq = value.indexOf('=');
      const k = eq < 0 ? value : value.slice(0, eq);
      if (!Object.hasOwn(sources, k)) return false;
      if (eq >= 0 && sources[k] !== value.slice(eq + 1)) return false;
    }
    return true;
  }
}

function isBoolMap(v: unknown): v is Record<string, boolean> | null {
  return v === null || (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((b) => typeof b === 'boolean'));
}

function isStringList(v: unknown): v is string[] | null {
  return v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
}

function toFields(entries: [string, unknown][], convert: (v: unknown) => Map<string, boolean> | false): Map<string, Map<string, boolean>> | undefined {
  const out = new Map<string, Map<string, boolean>>();
  for (const [k, v] of entries) {
    const m = convert(v);
    if (!m) return undefined;
    out.set(k, m);
  }
  return out;
}

// Event actions that carry a detail after a colon ("health_status: healthy",
// "exec_start: sh -c ..."): filtering on the bare action matches them all.
const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start']);

/** Object types whose filter matches the actor's id or name by prefix. */
const NAMED_TYPES = ['daemon', 'container', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'];

/** Whether an event passes the filters, as dockerd's events filter decides. */
export function eventMatches(f: FilterArgs, ev: EventMessage): boolean {
  const action = f.get('event').some((v) => PREFIX_ACTIONS.has(v)) ? f.fuzzyMatch('event', ev.Action) : f.exactMatch('event', ev.Action);
  if (!action) return false;
  if (!f.exactMatch('type', ev.Type)) return false;
  if (f.contains('scope') && !f.exactMatch('scope', ev.scope)) return false;
  const name = ev.Actor.Attributes.name ?? '';
  for (const t of NAMED_TYPES) if (!(f.fuzzyMatch(t, ev.Actor.ID) || f.fuzzyMatch(t, name))) return false;
  if (!matchImage(f, ev)) return false;
  return !f.contains('label') || f.matchKVList('label', ev.Actor.Attributes);
}

/** The image filter matches an image event's id or name, or a container event's image,
 * with or without the tag. */
function matchImage(f: FilterArgs, ev: EventMessage): boolean {
  const id = ev.Actor.ID;
  const imageName = ev.Actor.Attributes[ev.Type === 'image' ? 'name' : 'image'] ?? '';
  return f.exactMatch('image', id) || f.exactMatch('image', imageName) || f.exactMatch('image', stripTag(id)) || f.exactMatch('image', stripTag(imageName));
}

function stripTag(image: string): string {
  try {
    return familiarName(parseReference(image));
  } catch {
    return image;
  }
}
