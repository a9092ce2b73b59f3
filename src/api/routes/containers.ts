// /containers routes: thin adapters from HTTP to the container service.
import type { Readable } from 'node:stream';
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import type { ContainerService, WaitCondition } from '../../container/service.ts';
import type { ContainerRecord } from '../../container/record.ts';
import { listContainers } from '../../container/list.ts';
import { containerInspect, containerSummary } from '../views.ts';
import { frame, hijack, MULTIPLEXED, RAW_STREAM } from '../streams.ts';
import { badParameter } from '../../util/errors.ts';
import { parseUnixTimestamp } from '../../util/time.ts';

export interface ContainerRouteDeps {
  containers: ContainerService;
  /** Whether a container's image matches a reference or id (the `ancestor` filter). */
  matchesImage: (rec: ContainerRecord, ref: string) => boolean;
  graphData: (rec: ContainerRecord) => Record<string, string>;
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
    ctx.send(200, containerInspect(rec, d.graphData(rec), ctx.bool('size') ? await svc.usage(rec) : undefined));
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
    await svc.restart(ctx.params.name, stopOpts(ctx));
    ctx.send(204);
  });

  r.add('POST', '/containers/{name}/kill', async (ctx) => {
    await svc.kill(ctx.params.name, ctx.str('signal') || 'SIGKILL');
    ctx.send(204);
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

  r.add('POST', '/containers/{name}/attach', async (ctx) => {
    const rec = svc.store.get(ctx.params.name);
    const want = { stdin: ctx.bool('stdin'), stdout: ctx.bool('stdout'), stderr: ctx.bool('stderr') };
    const tty = !!rec.Config.Tty;
    const sock = hijack(ctx, tty ? RAW_STREAM : MULTIPLEXED);
    const write = (stream: 1 | 2, data: Buffer) => {
      if (!sock.destroyed) sock.write(tty ? data : frame(stream, data));
    };
    if (ctx.bool('logs') && rec.LogPath) {
      const { entries } = svc.logs(rec.Id, { stdout: want.stdout, stderr: want.stderr, since: 0n, until: 0n, tail: -1, follow: false });
      for await (const e of entries) write(e.stream, e.data);
    }
    if (!ctx.bool('stream')) {
      sock.end();
      return;
    }
    const detach = svc.attach(rec.Id, {
      stdout: want.stdout,
      stderr: want.stderr,
      write,
      end: () => sock.end(),
      // Iterating must not destroy the socket at stdin's end: output still flows back.
      stdin: want.stdin && rec.Config.OpenStdin ? (sock as Readable).iterator({ destroyOnReturn: false }) : undefined,
    });
    // A stopped container's stream stays open for its next run: `start -a` attaches
    // before it starts.
    sock.on('close', detach);
    sock.on('error', detach);
  });

  r.add('POST', '/containers/{name}/resize', async (ctx) => {
    const h = ctx.int('h', 0)!;
    const w = ctx.int('w', 0)!;
    if (h < 0 || w < 0) throw badParameter('invalid resize: height and width must be non-negative');
    svc.store.get(ctx.params.name);
    ctx.send(200);
  });

  r.add('GET', '/containers/{name}/logs', async (ctx) => {
    const stdout = ctx.bool('stdout');
    const stderr = ctx.bool('stderr');
    if (!stdout && !stderr) throw badParameter('Bad parameters: you must choose at least one stream');
    const tailRaw = ctx.str('tail') ?? 'all';
    const tail = tailRaw === 'all' || tailRaw === '' ? -1 : Number(tailRaw);
    if (!Number.isInteger(tail)) throw badParameter(`invalid value for tail: ${tailRaw}`);
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
    ctx.res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED });
    ctx.res.flushHeaders();
    ctx.res.on('close', () => abort.abort());
    for await (const e of entries) {
      if (abort.signal.aborted) break;
      const data = timestamps ? Buffer.concat([Buffer.from(e.time + ' '), e.data]) : e.data;
      const ok = ctx.res.write(tty ? data : frame(e.stream, data));
      if (!ok) await new Promise((res) => ctx.res.once('drain', res));
    }
    ctx.res.end();
  });
}
