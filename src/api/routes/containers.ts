// /containers routes: thin adapters from HTTP to the container service.
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import type { ContainerService, WaitCondition } from '../../container/service.ts';
import type { ContainerRecord } from '../../container/record.ts';
import { listContainers } from '../../container/list.ts';
import { formatDetails } from '../../container/logs.ts';
import { containerInspect, containerSummary } from '../views.ts';
import { frame, MULTIPLEXED, RAW_STREAM } from '../streams.ts';
import { EngineError, badParameter } from '../../util/errors.ts';
import { parseUnixTimestamp } from '../../util/time.ts';

export interface ContainerRouteDeps {
  containers: ContainerService;
  /** Whether a container's image matches a reference or id (the `ancestor` filter). */
  matchesImage: (rec: ContainerRecord, ref: string) => boolean;
  graphData: (rec: ContainerRecord) => Record<string, string>;
  /** Ids of the container's execs, for inspect's ExecIDs (the exec service). */
  execIdsOf?: (id: string) => string[];
}

/** dockerd wraps some errors with a prefix; the status stays the cause's. */
async function prefixed<T>(prefix: string, fn: () => Promise<T>, status?: number): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EngineError) throw new EngineError(status ?? err.status, `${prefix}${err.message}`);
    throw err;
  }
}

const WAIT_CONDITIONS = new Set(['not-running', 'next-exit', 'removed']);

function timeBound(ctx: Context, name: string): bigint {
  const v = ctx.str(name);
  if (!v) return 0n;
  const t = parseUnixTimestamp(v);
  if (t === undefined) throw badParameter(`invalid value for ${name}: ${v}`);
  return t;
}

export function containerRoutes(r: Router, d: ContainerRouteDeps): void {
  const svc = d.containers;

  r.add('POST', '/containers/create', async (ctx) => {
    const body = await ctx.json();
    const created = await svc.create(body as never, ctx.str('name') || undefined);
    ctx.send(201, created);
  });

  r.add('GET', '/containers/json', async (ctx) => {
    const recs = listContainers(svc.store, {
      all: ctx.bool('all'),
      limit: ctx.int('limit', -1) ?? -1,
      filters: ctx.filters(),
      matchesImage: d.matchesImage,
    });
    const size = ctx.bool('size');
    const out = [];
    for (const rec of recs) out.push(containerSummary(rec, size ? await svc.usage(rec) : undefined));
    ctx.send(200, out);
  });

  r.add('GET', '/containers/{name}/json', async (ctx) => {
    const rec = svc.store.get(ctx.params.name);
    const size = ctx.bool('size') ? await svc.usage(rec) : undefined;
    ctx.send(200, containerInspect(rec, d.graphData(rec), size, { execIds: d.execIdsOf?.(rec.Id) }));
  });

  r.add('POST', '/containers/{name}/start', async (ctx) => {
    await svc.start(ctx.params.name);
    ctx.send(204);
  });

  const stopOpts = (ctx: Context) => ({ timeout: ctx.int('t'), signal: ctx.str('signal') || undefined });

  r.add('POST', '/containers/{name}/stop', async (ctx) => {
    await svc.stop(ctx.params.name, stopOpts(ctx));
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/restart', async (ctx) => {
    const name = ctx.params.name;
    svc.store.get(name); // a 404 as it is
    // dockerd's restart errors lose their kind: 500.
    await prefixed(`Cannot restart container ${name}: `, () => svc.restart(name, stopOpts(ctx)), 500);
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/kill', async (ctx) => {
    const name = ctx.params.name;
    await prefixed(`cannot kill container: ${name}: `, () => svc.kill(name, ctx.str('signal') || 'SIGKILL'));
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/pause', async (ctx) => {
    await svc.pause(ctx.params.name);
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/unpause', async (ctx) => {
    await svc.unpause(ctx.params.name);
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/rename', async (ctx) => {
    await svc.rename(ctx.params.name, ctx.str('name') ?? '');
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/update', async (ctx) => {
    const body = await ctx.json();
    ctx.send(200, await svc.update(ctx.params.name, body as never));
  });

  r.add('POST', '/containers/prune', async (ctx) => {
    ctx.send(200, await svc.prune(ctx.filters()));
  });

  r.add('DELETE', '/containers/{name}', async (ctx) => {
    if (ctx.bool('link')) throw badParameter('links are not supported yet');
    await svc.remove(ctx.params.name, { force: ctx.bool('force'), volumes: ctx.bool('v') });
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/wait', async (ctx) => {
    const condition = (ctx.str('condition') || 'not-running') as WaitCondition;
    if (!WAIT_CONDITIONS.has(condition)) throw badParameter(`invalid condition: "${condition}"`);
    const abort = new AbortController();
    const waiting = svc.wait(ctx.params.name, condition, abort.signal);
    // Like dockerd: the headers go out at once so the client knows the wait is in place.
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    ctx.res.on('close', () => abort.abort());
    try {
      const code = await waiting;
      ctx.res.end(JSON.stringify({ Error: null, StatusCode: code }) + '\n');
    } catch (err) {
      if (!ctx.res.destroyed) ctx.res.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
    }
  });

  r.add('GET', '/containers/{name}/logs', async (ctx) => {
    const stdout = ctx.bool('stdout');
    const stderr = ctx.bool('stderr');
    if (!stdout && !stderr) throw badParameter('Bad parameters: you must choose at least one stream');
    // As dockerd: anything but a whole number (e.g. "all") means every line.
    const tailRaw = ctx.str('tail') ?? 'all';
    const tail = /^-?\d+$/.test(tailRaw) ? Number(tailRaw) : -1;
    const abort = new AbortController();
    const { record, entries } = svc.logs(ctx.params.name, {
      stdout,
      stderr,
      since: timeBound(ctx, 'since'),
      until: timeBound(ctx, 'until'),
      tail: tail < 0 ? -1 : tail,
      follow: ctx.bool('follow'),
      signal: abort.signal,
    });
    const tty = !!record.Config.Tty;
    const timestamps = ctx.bool('timestamps');
    const details = ctx.bool('details');
    ctx.res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED });
    ctx.res.flushHeaders();
    ctx.res.on('close', () => abort.abort());
    // Entries are gathered into writes of up to 64 KiB (one write per line would make the
    // socket the bottleneck); what has gathered goes out as soon as the reader must wait.
    const out = new WriteBatcher(ctx.res, abort.signal);
    for await (const e of entries) {
      if (abort.signal.aborted) break;
      let data = e.data;
      if (details) data = Buffer.concat([Buffer.from(formatDetails(e.attrs) + ' '), data]);
      if (timestamps) data = Buffer.concat([Buffer.from(e.time + ' '), data]);
      await out.push(tty ? data : frame(e.stream, data));
    }
    out.flush();
    ctx.res.end();
  });
}

const BATCH_BYTES = 64 * 1024;

/** Coalesces small writes to a response; waits for drain (or the client's going) when full. */
class WriteBatcher {
  private parts: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Immediate | undefined;
  private readonly res: NodeJS.WritableStream & { writableNeedDrain?: boolean };
  private readonly signal: AbortSignal;

  constructor(res: NodeJS.WritableStream, signal: AbortSignal) {
    this.res = res;
    this.signal = signal;
  }

  async push(chunk: Buffer): Promise<void> {
    // A batch flushed from the timer may have filled the socket: wait before taking more,
    // so a slow reader holds the log reader back instead of growing berthd's memory.
    if (this.res.writableNeedDrain) await this.drained();
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < BATCH_BYTES) {
      this.timer ??= setImmediate(() => {
        this.timer = undefined;
        this.flush();
      });
      return;
    }
    if (!this.flush()) await this.drained();
  }

  private drained(): Promise<void> {
    if (this.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.res.removeListener('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.once('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Writes what has gathered; false when the response wants a drain first. */
  flush(): boolean {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    if (this.size === 0) return true;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return this.res.write(data);
  }
}
