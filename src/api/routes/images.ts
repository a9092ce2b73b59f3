// /images routes: list, inspect, history, tag, remove, prune, pull, import, save, load.
import type { Router } from '../router.ts';
import type { ImageStore, UsedBy } from '../../image/store.ts';
import { load, save } from '../../image/archive.ts';
import { importImage } from '../../image/import.ts';
import { pullImage } from '../../image/pull.ts';
import type { RegistryClient } from '../../registry/client/types.ts';
import { decodeRegistryAuth, REGISTRY_AUTH_HEADER } from '../registry-auth.ts';
import { jsonStream } from '../streams.ts';
import { badParameter, EngineError } from '../../util/errors.ts';

export interface ImageRouteDeps {
  images: ImageStore;
  /** Ids of containers using an image (for rmi conflicts and prune). */
  usedBy: UsedBy;
  containerCount: (imageId: string) => number;
  /** The registry client pulls use (POST /images/create?fromImage). */
  registry?: RegistryClient;
}

export function imageRoutes(r: Router, d: ImageRouteDeps): void {
  const images = d.images;

  r.add('GET', '/images/json', (ctx) => {
    ctx.send(200, images.list({ all: ctx.bool('all'), filters: ctx.filters(), sharedSize: ctx.bool('shared-size'), containerCount: d.containerCount }));
  });

  r.add('POST', '/images/prune', async (ctx) => {
    // `image prune -a` arrives as the filter dangling=false.
    ctx.send(200, await images.prune({ filters: ctx.filters() }, d.usedBy));
  });

  r.add('GET', '/images/get', async (ctx) => {
    const names = ctx.query.getAll('names');
    if (names.length === 0) throw badParameter('no images specified');
    for (const n of names) images.resolve(n); // 404 before the stream starts
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await save(images, names, ctx.res);
  });

  r.add('POST', '/images/load', async (ctx) => {
    const out = jsonStream(ctx);
    try {
      const lines = await load(images, ctx.req);
      for (const line of lines) out.write({ stream: line + '\n' });
    } catch (err) {
      out.write({ errorDetail: { message: (err as Error).message }, error: (err as Error).message });
    }
    out.end();
  });

  r.add('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.str('fromSrc');
    if (fromSrc === undefined) {
      if (!d.registry) throw new EngineError(501, 'pulling images is not supported: no registry client');
      // As dockerd: errors before the first progress message are plain HTTP errors.
      let out: ReturnType<typeof jsonStream> | undefined;
      const abort = new AbortController();
      ctx.res.on('close', () => abort.abort(new Error('client disconnected')));
      const emit = (m: object) => (out ??= jsonStream(ctx)).write(m);
      try {
        await pullImage(
          { images, registry: d.registry },
          { fromImage: ctx.str('fromImage') ?? '', tag: ctx.str('tag'), platform: ctx.str('platform') || undefined, auth: decodeRegistryAuth(ctx.req.headers[REGISTRY_AUTH_HEADER]), signal: abort.signal },
          emit,
        );
      } catch (err) {
        if (!out) throw err;
        out.write({ errorDetail: { message: (err as Error).message }, error: (err as Error).message });
      }
      out?.end();
      return;
    }
    if (fromSrc !== '-') throw badParameter('importing from a URL is not supported; send the archive in the request body');
    const repo = ctx.str('repo');
    const tag = ctx.str('tag');
    const out = jsonStream(ctx);
    try {
      const id = await importImage(images, ctx.req, {
        reference: repo ? (tag ? `${repo}:${tag}` : repo) : undefined,
        changes: ctx.query.getAll('changes'),
        message: ctx.str('message'),
      });
      out.write({ status: id });
    } catch (err) {
      out.write({ errorDetail: { message: (err as Error).message }, error: (err as Error).message });
    }
    out.end();
  });

  r.add('GET', '/images/{name:*}/json', (ctx) => {
    ctx.send(200, images.inspect(ctx.params.name));
  });

  r.add('GET', '/images/{name:*}/history', (ctx) => {
    ctx.send(200, images.history(ctx.params.name));
  });

  r.add('GET', '/images/{name:*}/get', async (ctx) => {
    images.resolve(ctx.params.name);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await save(images, [ctx.params.name], ctx.res);
  });

  r.add('POST', '/images/{name:*}/tag', async (ctx) => {
    const repo = ctx.str('repo');
    if (!repo) throw badParameter('repository name must have at least one component');
    const tag = ctx.str('tag');
    await images.tag(ctx.params.name, tag ? `${repo}:${tag}` : repo);
    ctx.send(201);
  });

  r.add('DELETE', '/images/{name:*}', async (ctx) => {
    ctx.send(200, await images.remove(ctx.params.name, { force: ctx.bool('force'), noprune: ctx.bool('noprune') }, d.usedBy));
  });
}
