// GET /containers/{id}/explain: a berth extension route, the isolation report of a running
// container (src/explain/), as JSON for any client.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Router } from '../router.ts';
import { explainContainer, type ExplainDeps } from '../../explain/explain.ts';
import type { OciSpec } from '../../runtime/types.ts';

export type ExplainRouteDeps = Omit<ExplainDeps, 'spec'> & {
  /** The daemon's exec-root: bundles are <exec-root>/containers/<id>/config.json. */
  execRoot: string;
};

export function explainRoutes(r: Router, d: ExplainRouteDeps): void {
  const deps: ExplainDeps = {
    ...d,
    spec: async (rec) => JSON.parse(await fsp.readFile(join(d.execRoot, 'containers', rec.Id, 'config.json'), 'utf8')) as OciSpec,
  };
  r.add('GET', '/containers/{name}/explain', async (ctx) => {
    ctx.send(200, await explainContainer(deps, ctx.params.name!));
  });
}
