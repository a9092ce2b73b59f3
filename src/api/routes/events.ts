// GET /events: the event stream, as dockerd serves it. `since` replays buffered events;
// an `until` in the past ends the stream after the replay, one in the future at that time.
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import { encodeEvent, type EventBus } from '../../events/bus.ts';
import { FilterArgs } from '../../events/filter.ts';
import { badParameter, systemError } from '../../util/errors.ts';
import { nowNanos } from '../../util/time.ts';

export interface EventsRouteDeps {
  bus: EventBus;
}

/** Go's zero time (0001-01-01) in ns since the epoch: `since` when none is given. */
const ZERO_TIME_NS = -62_135_596_800n * 1_000_000_000n;
/** Past this a slow reader loses events rather than berthd buffering without bound
 * (dockerd drops events a subscriber does not take within 100 ms). */
const MAX_BUFFERED = 16 * 1024 * 1024;
/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** strconv.ParseInt(s, 10, 64) with Go's error texts (dockerd answers them with a 500). */
function goParseInt(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw systemError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw systemError(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** "seconds[.nanoseconds]" as the API's since/until carry them -> ns; undefined when absent. */
export function parseEventTime(value: string | undefined): bigint | undefined {
  if (!value) return undefined;
  const dot = value.indexOf('.');
  const sec = goParseInt(dot < 0 ? value : value.slice(0, dot));
  if (dot < 0) return sec * 1_000_000_000n;
  const frac = value.slice(dot + 1);
  const n = goParseInt(frac);
  // The fraction's digits are scaled to nanoseconds (more than nine are cut off).
  const nsec = frac.length <= 9 ? n * 10n ** BigInt(9 - frac.length) : n / 10n ** BigInt(frac.length - 9);
  return sec * 1_000_000_000n + nsec;
}

export function eventsRoutes(r: Router, d: EventsRouteDeps): void {
  r.add('GET', '/events', (ctx) => streamEvents(ctx, d.bus));
}

async function streamEvents(ctx: Context, bus: EventBus): Promise<void> {
  const sinceRaw = ctx.str('since');
  const untilRaw = ctx.str('until');
  const since = parseEventTime(sinceRaw);
  const until = parseEventTime(untilRaw);
  let onlyPast = false;
  if (until !== undefined) {
    if (until < (since ?? ZERO_TIME_NS)) {
      throw badParameter(`\`since\` time (${sinceRaw ?? ''}) cannot be after \`until\` time (${untilRaw})`);
    }
    onlyPast = until < nowNanos();
  }
  const filters = FilterArgs.fromJSON(ctx.str('filters'));

  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const send = (ev: Parameters<typeof encodeEvent>[0]) => {
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > MAX_BUFFERED) return;
    res.write(encodeEvent(ev));
  };
  const unsubscribe = bus.subscribe({ since, until, filters }, send);
  if (onlyPast) {
    unsubscribe();
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      unsubscribe();
      if (!res.writableEnded) res.end();
      resolve();
    };
    if (until !== undefined) {
      const arm = () => {
        const leftNs = until - nowNanos();
        if (leftNs <= 0n) return finish();
        // Rounded up: a timer never ends the stream before `until` (it fires again if early).
        timer = setTimeout(arm, Math.min(Number((leftNs + 999_999n) / 1_000_000n), MAX_DELAY_MS));
      };
      arm();
    }
    res.on('close', finish);
  });
}
