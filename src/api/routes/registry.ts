// Registry routes: POST /images/{name}/push (docker push) and POST /auth (docker login).
import type { Router } from '../router.ts';
import type { ImageStore } from '../../image/store.ts';
import { pushImage, pushTargets } from '../../image/push.ts';
import type { DistributionMetadata } from '../../registry/distribution-metadata.ts';
import type { AuthConfig, RegistryClient } from '../../registry/client/types.ts';
import { decodeRegistryAuth, REGISTRY_AUTH_HEADER } from '../registry-auth.ts';
import { jsonStream } from '../streams.ts';
import { EngineError } from '../../util/errors.ts';

export interface RegistryRouteDeps {
  images: ImageStore;
  registry: RegistryClient;
  metadata: DistributionMetadata;
  /** Upload layers in chunks of this many bytes (monolithic when unset). */
  chunkSize?: number;
}

/** The registry a login's server address names: "https://index.docker.io/v1/" is Docker Hub. */
export function loginRegistry(serverAddress: string | undefined): string {
  let s = (serverAddress ?? '').trim().replace(/^https?:\/\//, '');
  s = s.split('/')[0];
  if (s === '' || s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}

export function registryRoutes(r: Router, d: RegistryRouteDeps): void {
  r.add('POST', '/images/{name:*}/push', async (ctx) => {
    const tag = ctx.str('tag') || undefined;
    pushTargets(d.images, ctx.params.name, tag); // a malformed name is a plain 400
    const abort = new AbortController();
    ctx.res.on('close', () => {
      if (!ctx.res.writableFinished) abort.abort(new Error('client disconnected'));
    });
    const out = jsonStream(ctx);
    try {
      await pushImage(
        { images: d.images, registry: d.registry, metadata: d.metadata, chunkSize: d.chunkSize },
        { name: ctx.params.name, tag, auth: decodeRegistryAuth(ctx.req.headers[REGISTRY_AUTH_HEADER]), signal: abort.signal },
        (m) => out.write(m),
      );
    } catch (err) {
      const message = (err as Error).message;
      out.write({ errorDetail: { message }, error: message });
    }
    out.end();
  });

  r.add('POST', '/auth', async (ctx) => {
    const body = await ctx.json<AuthConfig>();
    const auth: AuthConfig = {};
    for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
      const v = (body as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') auth[k] = v;
    }
    let identityToken: string | undefined;
    try {
      identityToken = (await d.registry.checkLogin(loginRegistry(auth.serveraddress), auth)).identityToken;
    } catch (err) {
      // dockerd answers every failed login as unauthorized (its errdefs.Unauthorized).
      throw new EngineError(401, (err as Error).message);
    }
    ctx.send(200, { Status: 'Login Succeeded', IdentityToken: identityToken ?? '' });
  });
}
