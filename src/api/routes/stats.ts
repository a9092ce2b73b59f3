// GET /containers/{id}/stats and /containers/{id}/top.
import type { Router } from '../router.ts';
import type { ContainerStatsService } from '../../container/stats.ts';
import { containerTop, type TopDeps } from '../../container/top.ts';

export interface StatsRouteDeps {
  stats: ContainerStatsService;
  top: TopDeps;
}

export function statsRoutes(r: Router, d: StatsRouteDeps): void {
  r.add('GET', '/containers/{name}/stats', async (ctx) => {
    const stream = ctx.bool('stream', true);
    // one-shot came with API 1.41.
    const oneShot = ctx.versionAtLeast('1.41') && ctx.bool('one-shot', false);
    const rec = d.stats.open(ctx.params.name!, { stream, oneShot });
    const abort = new AbortController();
    ctx.res.on('close', () => abort.abort());
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    if (stream) ctx.res.flushHeaders();
    await d.stats.run(rec, { stream, oneShot }, (line) => {
      // A client that stops reading misses samples rather than having them pile up here.
      if (ctx.res.writableLength < 1 << 20) ctx.res.write(line);
    }, abort.signal);
    if (!ctx.res.writableEnded) ctx.res.end();
  });

  r.add('GET', '/containers/{name}/top', async (ctx) => {
    ctx.send(200, await containerTop(d.top, ctx.params.name!, ctx.str('ps_args') ?? ''));
  });
}
