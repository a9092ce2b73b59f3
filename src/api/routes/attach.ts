// Attaching to a container's streams: POST /containers/{id}/attach (a hijacked
// connection), GET /containers/{id}/attach/ws (a WebSocket) and POST
// /containers/{id}/resize (its TTY's size). As dockerd: the log replay (logs=1) comes
// first, then the live streams (stream=1); a TTY's stream is raw, otherwise stdout and
// stderr are multiplexed on the hijacked connection and sent as they come over a WebSocket.
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import type { ContainerService } from '../../container/service.ts';
import type { ContainerRecord } from '../../container/record.ts';
import { invalidDetachKeysMessage, parseDetachKeys, type AttachClient } from '../../container/attach.ts';
import { frame, hijack, hijackError, MULTIPLEXED, RAW_STREAM } from '../streams.ts';
import { drainedOf } from '../../util/drained.ts';
import { acceptWebSocket } from '../websocket.ts';
import { badParameter, conflict, statusOf } from '../../util/errors.ts';

export interface AttachRouteDeps {
  containers: ContainerService;
  /** Detach keys when a client gives none (a berth setting; dockerd always uses ctrl-p,ctrl-q). */
  detachKeys?: string;
}

interface Want {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean;
  stream: boolean;
}

/** Where a session's output goes and how it ends, whatever carries it. */
/**
 * What a client may leave unread before its live output is dropped. One container's output
 * goes to every attached client through one monitor connection, so a client that stops
 * reading must not hold the others (or the container's exit) back, nor grow berthd's
 * memory: past this it misses output, which the log still has.
 */
const LIVE_BACKLOG_MAX = 4 << 20;
/** The logs=1 replay waits for the client instead: it reads the log at the client's pace. */
const REPLAY_BACKLOG_MAX = 256 << 10;

interface Transport {
  write(stream: 1 | 2, data: Buffer): void;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
  /** Resolves when the client has taken what is queued, or is gone. */
  drained(): Promise<void>;
  end(): void;
  /** The client's input; iterating it to its end or breaking off must not close the connection. */
  input(): AsyncIterable<Buffer>;
  /** Reads and drops the client's input (stdin not attached), so its hang-up is seen. */
  discardInput(): void;
  /** Called once when the connection goes away. */
  onGone(cb: () => void): void;
}

export function attachRoutes(r: Router, d: AttachRouteDeps): void {
  const svc = d.containers;

  /** dockerd's checks before it takes the connection over; throws EngineErrors. */
  const prepare = (ctx: Context): { rec: ContainerRecord; keys: Buffer | undefined } => {
    const given = ctx.str('detachKeys') ?? '';
    let keys: Buffer | undefined;
    if (given !== '') {
      try {
        keys = parseDetachKeys(given);
      } catch {
        throw badParameter(invalidDetachKeysMessage(given));
      }
    } else if (d.detachKeys) {
      keys = parseDetachKeysOrDefault(d.detachKeys);
    }
    const name = ctx.params.name;
    const rec = svc.store.get(name);
    if (rec.State.Status === 'paused' || rec.State.Paused) throw conflict(`container ${name} is paused, unpause the container before attach`);
    if (rec.State.Status === 'restarting' || rec.State.Restarting) throw conflict(`container ${name} is restarting, wait until the container is running`);
    return { rec, keys };
  };

  const session = async (rec: ContainerRecord, want: Want, keys: Buffer | undefined, t: Transport): Promise<void> => {
    if (want.logs) {
      try {
        const { entries } = svc.logs(rec.Id, { stdout: want.stdout, stderr: want.stderr, since: 0n, until: 0n, tail: -1, follow: false });
        for await (const e of entries) {
          t.write(e.stream, e.data);
          if (t.backlog() > REPLAY_BACKLOG_MAX) await t.drained();
        }
      } catch (err) {
        t.write(1, Buffer.from(`Error attaching: ${(err as Error).message}\n`));
        t.end();
        return;
      }
    }
    const tty = !!rec.Config.Tty;
    const stdinOnce = !!rec.Config.StdinOnce;
    const stdin = want.stdin && !!rec.Config.OpenStdin;
    if (!want.stream || (!stdin && !want.stdout && !want.stderr && !(stdinOnce && !tty))) {
      // dockerd reports the attach even when there is nothing to stream.
      svc.events?.('attach', rec);
      t.end();
      return;
    }
    if (!stdin) t.discardInput();
    let ended = false;
    const client: AttachClient = {
      stdout: want.stdout,
      stderr: want.stderr,
      write: (stream, data) => {
        if (!ended && t.backlog() < LIVE_BACKLOG_MAX) t.write(stream, data);
      },
      end: () => {
        if (ended) return;
        ended = true;
        t.end();
      },
      stdin: stdin ? t.input() : undefined,
      tty,
      closeStdin: stdinOnce,
      detachKeys: keys,
      onDetach: () => svc.events?.('detach', rec),
    };
    // A stopped container's stream stays open for its next run: `start -a` attaches
    // before it starts.
    const leave = svc.attach(rec.Id, client);
    t.onGone(() => {
      ended = true;
      leave();
    });
  };

  r.add('POST', '/containers/{name}/attach', async (ctx) => {
    let prepared;
    try {
      prepared = prepare(ctx);
    } catch (err) {
      hijackError(ctx, statusOf(err), (err as Error).message);
      return;
    }
    const { rec, keys } = prepared;
    const tty = !!rec.Config.Tty;
    const sock = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED);
    sock.on('error', () => sock.destroy());
    await session(rec, wantOf(ctx, false), keys, {
      write: (stream, data) => {
        if (!sock.destroyed && sock.writable) sock.write(tty ? data : frame(stream, data));
      },
      backlog: () => sock.writableLength,
      drained: () => drainedOf(sock),
      end: () => {
        if (sock.destroyed) return;
        sock.end();
        // dockerd closes both directions once the session is over.
        sock.once('finish', () => sock.destroy());
      },
      // Iterating must not destroy the socket at stdin's end: output still flows back.
      input: () => sock.iterator({ destroyOnReturn: false }),
      discardInput: () => void sock.resume(),
      onGone: (cb) => {
        if (sock.destroyed) cb();
        else sock.once('close', cb);
      },
    });
  });

  r.add('GET', '/containers/{name}/attach/ws', async (ctx) => {
    const { rec, keys } = prepare(ctx);
    // From API 1.28 on output goes in binary frames; before, in text frames.
    const ws = acceptWebSocket(ctx, { binary: ctx.versionAtLeast('1.28') });
    if (!ws) return;
    await session(rec, wantOf(ctx, true), keys, {
      write: (_stream, data) => ws.send(data),
      backlog: () => ws.socket.writableLength,
      drained: () => drainedOf(ws.socket),
      end: () => ws.close(),
      input: () => ws.input.iterator({ destroyOnReturn: false }),
      discardInput: () => void ws.input.resume(),
      onGone: (cb) => {
        if (ws.socket.destroyed) cb();
        else ws.socket.once('close', cb);
      },
    });
  });

  r.add('POST', '/containers/{name}/resize', async (ctx) => {
    const h = uint32(ctx, 'h', 'height');
    const w = uint32(ctx, 'w', 'width');
    svc.resize(ctx.params.name, h, w);
    ctx.send(200);
  });
}

/** The query's streams; before API 1.42 a WebSocket got all three whatever was asked. */
function wantOf(ctx: Context, websocket: boolean): Want {
  const all = websocket && !ctx.versionAtLeast('1.42');
  return {
    stdin: all || ctx.bool('stdin'),
    stdout: all || ctx.bool('stdout'),
    stderr: all || ctx.bool('stderr'),
    logs: ctx.bool('logs'),
    stream: ctx.bool('stream'),
  };
}

function parseDetachKeysOrDefault(keys: string): Buffer | undefined {
  try {
    return parseDetachKeys(keys);
  } catch {
    return undefined;
  }
}

/** dockerd's httputils.Uint32Value with its error texts. */
function uint32(ctx: Context, field: string, what: string): number {
  const raw = ctx.str(field) ?? '';
  const neg = raw.startsWith('-');
  const v = neg ? raw.slice(1) : raw;
  let problem: string | undefined;
  if (!/^[0-9]+$/.test(v)) problem = 'invalid syntax';
  else if (neg || Number(v) > 0xffffffff) problem = 'value out of range';
  if (problem) throw badParameter(`invalid resize ${what} ${JSON.stringify(raw)}: ${problem}`);
  return Number(v);
}
