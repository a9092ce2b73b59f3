// The /networks routes of the Engine API v1.50: list, inspect, create, remove, prune,
// connect and disconnect, over the NetworkService.
import type { Router } from '../router.ts';
import { EngineError, badParameter, notFound } from '../../util/errors.ts';
import type { NetworkService } from '../../network/service.ts';
import type { NetworkCreateRequest } from '../../network/types.ts';

/** Whether containers' network endpoints exist in the kernel (the next step of issue 5). */
const DATA_PLANE = false;

export interface NetworkRouteDeps {
  networks: NetworkService;
  /** Resolves a container reference (name, id, id prefix) to its id and name; undefined when unknown. */
  findContainer: (ref: string) => { id: string; name: string } | undefined;
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

  // Endpoints are recorded by the service, but containers do not join networks in the
  // kernel yet (the data plane is wired in the next step): until then, say so plainly.
  r.add('POST', '/networks/{id}/connect', async (ctx) => {
    if (!DATA_PLANE) throw new EngineError(501, 'connecting containers to networks is not supported yet');
    const body = await ctx.json<{ Container?: string; EndpointConfig?: { IPAddress?: string; MacAddress?: string; IPAMConfig?: { IPv4Address?: string } | null } | null }>();
    const c = container(body.Container);
    const ep = body.EndpointConfig ?? {};
    await svc.connect(ctx.params.id!, c, { ipv4Address: ep.IPAMConfig?.IPv4Address || undefined, macAddress: ep.MacAddress || undefined });
    ctx.send(200);
  });

  r.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    if (!DATA_PLANE) throw new EngineError(501, 'disconnecting containers from networks is not supported yet');
    const body = await ctx.json<{ Container?: string; Force?: boolean }>();
    const ref = body.Container ?? '';
    if (!ref) throw badParameter('container is required');
    svc.get(ctx.params.id!);
    const c = d.findContainer(ref);
    // A forced disconnect also clears endpoints of containers that no longer exist.
    if (!c && !body.Force) throw notFound(`No such container: ${ref}`);
    await svc.disconnect(ctx.params.id!, c?.id ?? ref, !!body.Force);
    ctx.send(200);
  });

  function container(ref: string | undefined): { id: string; name: string } {
    if (!ref) throw badParameter('container is required');
    const c = d.findContainer(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }
}
