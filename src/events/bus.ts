// The daemon's event stream (GET /events): services emit, the bus stamps the time, keeps
// the last 256 events (dockerd's ring, for `since` replays) and hands each event to the
// subscribers whose filters it passes.
import { nowNanos } from '../util/time.ts';
import { log } from '../util/log.ts';
import { goJson } from './json.ts';
import { eventMatches, type FilterArgs } from './filter.ts';

export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventInput {
  Type: string;
  Action: string;
  Actor: EventActor;
  /** "local" for engine events (the default); "swarm" for cluster ones. */
  scope?: string;
}

/** An event as API 1.50 sends it: the deprecated status/id/from are still filled for
 * container and image events (API 1.52 drops them). */
export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: EventActor;
  scope: string;
  time: number;
  timeNano: bigint;
}

export interface SubscribeOptions {
  /** Replay buffered events from this instant (ns since the epoch). */
  since?: bigint;
  /** Replay only buffered events up to this instant; 0 or less does not bound. */
  until?: bigint;
  filters?: FilterArgs;
}

type Listener = (ev: EventMessage) => void;

export const EVENTS_LIMIT = 256;

export class EventBus {
  private readonly ring: EventMessage[] = [];
  private readonly listeners = new Set<Listener>();

  emit(e: EventInput): EventMessage {
    const timeNano = nowNanos();
    const legacy = e.Type === 'container' || e.Type === 'image';
    const from = e.Type === 'container' ? e.Actor.Attributes.image : undefined;
    // Key order is the wire order of dockerd's Message struct.
    const ev: EventMessage = {
      ...(legacy ? { status: e.Action, id: e.Actor.ID } : {}),
      ...(from ? { from } : {}),
      Type: e.Type,
      Action: e.Action,
      Actor: { ID: e.Actor.ID, Attributes: sortedRecord(e.Actor.Attributes) },
      scope: e.scope ?? 'local',
      time: Number(timeNano / 1_000_000_000n),
      timeNano,
    };
    if (this.ring.length >= EVENTS_LIMIT) this.ring.shift();
    this.ring.push(ev);
    for (const l of [...this.listeners]) {
      try {
        l(ev);
      } catch (err) {
        log.warn('event subscriber failed', { error: err });
      }
    }
    return ev;
  }

  /** The buffered events, oldest first. */
  buffered(): readonly EventMessage[] {
    return this.ring;
  }

  /**
   * Replays the buffered events that `since`/`until` select (only when one of them is
   * given, as dockerd does), then delivers new events until the returned function is called.
   * Replayed events are bounded by `until`; live ones are not (the caller ends the stream).
   */
  subscribe(opts: SubscribeOptions, onEvent: Listener): () => void {
    const f = opts.filters && opts.filters.size > 0 ? opts.filters : undefined;
    const passes = (ev: EventMessage) => !f || eventMatches(f, ev);
    if (opts.since !== undefined || opts.until !== undefined) {
      const since = opts.since !== undefined && opts.since > 0n ? opts.since : 0n;
      const until = opts.until ?? 0n;
      const replay = this.ring.filter((ev) => ev.timeNano >= since && !(until > 0n && ev.timeNano > until) && passes(ev));
      for (const ev of replay) onEvent(ev);
    }
    const listener: Listener = (ev) => {
      if (passes(ev)) onEvent(ev);
    };
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}

/** Go encodes maps with their keys sorted. */
export function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/** One event as a JSON line (timeNano is beyond 2^53: written as the exact integer). */
export function encodeEvent(ev: EventMessage): string {
  return goJson(ev) + '\n';
}
