// The /networks routes of the Engine API v1.50: list, inspect, create, remove, prune,
// connect and disconnect, over the NetworkService.
import type { Router } from '../router.ts';
import { badParameter, notFound } from '../../util/errors.ts';
import type { NetworkService } from '../../network/service.ts';
import type { NetworkCreateRequest } from '../../network/types.ts';
import type { EndpointRequest } from '../../network/endpoint.ts';

export interface NetworkRouteDeps {
  networks: NetworkService;
  /** Resolves a container reference (name, id, id prefix) to its id and name; undefined when unknown. */
  findContainer: (ref: string) => { id: string; name: string } | undefined;
  /** Joins a container to a network (live when it runs). */
  connect: (container: string, network: string, req: EndpointRequest) => Promise<void>;
  disconnect: (container: string, network: string, force: boolean) => Promise<void>;
}

export function networkRoutes(r: Router, d: NetworkRouteDeps): void {
  const svc = d.networks;

  r.add('GET', '/networks', (ctx) => {
    ctx.send(200, svc.list(ctx.filters()));
  });

  r.add('POST', '/networks/create', async (ctx) => {
    const body = await ctx.json<NetworkCreateRequest>();
    if (!body || typeof body !== 'object') throw badParameter('invalid JSON body');
    ctx.send(201, await svc.create(body));
  });

  r.add('POST', '/networks/prune', async (ctx) => {
    ctx.send(200, await svc.prune(ctx.filters()));
  });

  r.add('GET', '/networks/{id}', (ctx) => {
    const scope = ctx.str('scope');
    const n = svc.inspect(ctx.params.id!);
    if (scope && scope !== n.Scope) throw notFound(`network ${ctx.params.id} not found`);
    ctx.send(200, n);
  });

  r.add('DELETE', '/networks/{id}', async (ctx) => {
    await svc.remove(ctx.params.id!);
    ctx.send(204);
  });

  r.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; EndpointConfig?: EndpointRequest | null }>();
    const c = container(body.Container);
    svc.get(ctx.params.id!);
    await d.connect(c.id, ctx.params.id!, body.EndpointConfig ?? {});
    ctx.send(200);
  });

  r.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = await ctx.json<{ Container?: string; Force?: boolean }>();
    const ref = body.Container ?? '';
    if (!ref) throw badParameter('container is required');
    const n = svc.get(ctx.params.id!);
    const c = d.findContainer(ref);
    if (c) {
      await d.disconnect(c.id, n.Id, !!body.Force);
    } else {
      // A forced disconnect also clears endpoints of containers that no longer exist.
      if (!body.Force) throw notFound(`No such container: ${ref}`);
      await svc.disconnect(n.Id, ref, true);
    }
    ctx.send(200);
  });

  function container(ref: string | undefined): { id: string; name: string } {
    if (!ref) throw badParameter('container is required');
    const c = d.findContainer(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }
}
