// The /volumes routes of the Engine API v1.50: list, create, inspect, remove and prune,
// over the VolumeService.
import type { Router } from '../router.ts';
import { badParameter } from '../../util/errors.ts';
import type { VolumeService } from '../../volume/service.ts';
import type { VolumeCreateRequest } from '../../volume/types.ts';

export interface VolumeRouteDeps {
  volumes: VolumeService;
}

export function volumeRoutes(r: Router, d: VolumeRouteDeps): void {
  const svc = d.volumes;

  r.add('GET', '/volumes', async (ctx) => {
    ctx.send(200, await svc.list(ctx.filters()));
  });

  r.add('POST', '/volumes/create', async (ctx) => {
    const body = await ctx.json<VolumeCreateRequest>();
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badParameter('invalid JSON body');
    if (body.Name !== undefined && typeof body.Name !== 'string') throw badParameter('invalid volume name');
    ctx.send(201, await svc.create(body));
  });

  r.add('POST', '/volumes/prune', async (ctx) => {
    ctx.send(200, await svc.prune(ctx.filters()));
  });

  r.add('GET', '/volumes/{name}', (ctx) => {
    ctx.send(200, svc.inspect(ctx.params.name!));
  });

  r.add('DELETE', '/volumes/{name}', async (ctx) => {
    await svc.remove(ctx.params.name!, ctx.bool('force'));
    ctx.send(204);
  });
}
