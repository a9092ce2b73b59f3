// GET /containers/{id}/changes (`docker diff`) and GET /containers/{id}/export: what a
// container changed in its own layer, and its whole filesystem as a tar.
import { once } from 'node:events';
import type { Router } from '../router.ts';
import type { ContainerRecord } from '../../container/record.ts';
import { overlayChanges } from '../../container/changes.ts';
import { packDir } from '../../archive/tar-pack.ts';

export interface FilesystemRouteDeps {
  /** As for the archive routes: the container's root at a host directory while fn runs. */
  withRoot: <T>(ref: string, fn: (rootDir: string, rec: ContainerRecord) => Promise<T>) => Promise<T>;
  /** The container's writable layer and the layers under it (topmost first). */
  layers: (ref: string) => Promise<{ upper: string; lowers: string[] }>;
}

export function filesystemRoutes(r: Router, d: FilesystemRouteDeps): void {
  r.add('GET', '/containers/{name}/changes', async (ctx) => {
    const { upper, lowers } = await d.layers(ctx.params.name!);
    ctx.send(200, await overlayChanges(upper, lowers));
  });

  r.add('GET', '/containers/{name}/export', async (ctx) => {
    await d.withRoot(ctx.params.name!, async (root) => {
      const res = ctx.res;
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      for await (const chunk of packDir(root)) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    });
  });
}
