// An event from GET /events as docker's CLI holds it (events.Message, a Go struct): what
// --format templates see, its encoding/json form (fields in struct order, omitempty ones
// left out), and the one-line text `docker events` prints without a template.
import { formatValue, goJson, type GoStruct } from './gofmt.ts';

export interface EventJson {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null } | null;
  scope?: string;
  time?: number;
  /** Nanoseconds since the epoch: beyond 2^53, so kept exact as a bigint. */
  timeNano?: bigint | number;
}

/** Parses one event, keeping timeNano exact (JSON.parse's source text access). */
export function parseEvent(text: string): EventJson {
  const reviver = (key: string, value: unknown, ctx?: { source?: string }) => {
    if (key === 'timeNano' && typeof value === 'number' && ctx?.source !== undefined && /^-?\d+$/.test(ctx.source)) return BigInt(ctx.source);
    return value;
  };
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown) as EventJson;
}

function sortedMap(m: Record<string, string> | null | undefined): Record<string, string> | null {
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

export class EventActor implements GoStruct {
  readonly goType = 'events.Actor';
  readonly ID: string;
  readonly Attributes: Record<string, string> | null;
  constructor(a: EventJson['Actor']) {
    this.ID = a?.ID ?? '';
    this.Attributes = sortedMap(a?.Attributes);
  }
  member(name: string) {
    if (name === 'ID') return { value: this.ID };
    // A nil Go map reads as empty: `.Actor.Attributes.name` prints "<no value>".
    if (name === 'Attributes') return { value: this.Attributes ?? {} };
    return undefined;
  }
  toJSON() {
    return { ID: this.ID, Attributes: this.Attributes };
  }
  goString() {
    return `{${this.ID} ${formatValue(this.Attributes ?? {}, true)}}`;
  }
}

export class EventMessage implements GoStruct {
  readonly goType: string;
  readonly e: EventJson;
  readonly actor: EventActor;
  /** `goType` is "*events.Message" for the empty message docker validates templates on. */
  constructor(e: EventJson, goType = 'events.Message') {
    this.e = e;
    this.goType = goType;
    this.actor = new EventActor(e.Actor);
  }
  private get timeNano(): bigint {
    const t = this.e.timeNano;
    return t === undefined ? 0n : BigInt(t);
  }
  member(name: string) {
    const e = this.e;
    const fields: Record<string, unknown> = {
      Status: e.status ?? '',
      ID: e.id ?? '',
      From: e.from ?? '',
      Type: e.Type ?? '',
      Action: e.Action ?? '',
      Actor: this.actor,
      Scope: e.scope ?? '',
      Time: e.time ?? 0,
      TimeNano: this.timeNano,
    };
    return Object.prototype.hasOwnProperty.call(fields, name) ? { value: fields[name] } : undefined;
  }
  toJSON() {
    const e = this.e;
    const out: Record<string, unknown> = {};
    if (e.status) out.status = e.status;
    if (e.id) out.id = e.id;
    if (e.from) out.from = e.from;
    out.Type = e.Type ?? '';
    out.Action = e.Action ?? '';
    out.Actor = this.actor.toJSON();
    if (e.scope) out.scope = e.scope;
    if (e.time) out.time = e.time;
    if (this.timeNano !== 0n) out.timeNano = this.timeNano;
    return out;
  }
  goString() {
    const e = this.e;
    return `{${e.status ?? ''} ${e.id ?? ''} ${e.from ?? ''} ${e.Type ?? ''} ${e.Action ?? ''} ${this.actor.goString()} ${e.scope ?? ''} ${e.time ?? 0} ${this.timeNano}}`;
  }
}

/**
 * The template `json` function for events: the struct's own field order (it has no
 * MarshalJSON of its own) and no HTML escaping (docker's encoder turns it off).
 */
export function eventJson(v: unknown): string {
  if (v instanceof EventMessage || v instanceof EventActor) return goJson(v.toJSON(), false, false);
  return goJson(v);
}

function pad(n: number | bigint, w = 2): string {
  return String(n).padStart(w, '0');
}

/** time.Unix(0, ns).Format("2006-01-02T15:04:05.000000000Z07:00") in the local time zone. */
export function formatEventTime(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const d = new Date(Number(sec) * 1000);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(frac, 9)}${zone}`;
}

/** docker's prettyPrintEvent: "TIME TYPE ACTION ID (k=v, ...)" with the attributes sorted. */
export function prettyEvent(m: EventMessage): string {
  const e = m.e;
  let s = '';
  const nano = e.timeNano === undefined ? 0n : BigInt(e.timeNano);
  if (nano !== 0n) s += formatEventTime(nano) + ' ';
  else if (e.time) s += formatEventTime(BigInt(e.time) * 1_000_000_000n) + ' ';
  s += `${e.Type ?? ''} ${e.Action ?? ''} ${m.actor.ID}`;
  const attrs = m.actor.Attributes;
  if (attrs && Object.keys(attrs).length > 0) s += ` (${Object.entries(attrs).map(([k, v]) => `${k}=${v}`).join(', ')})`;
  return s + '\n';
}
