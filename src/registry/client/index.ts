// The registry client: Repository handles over a per-repository Transport, and login checks.
import type { AuthConfig, Descriptor, RegistryClient, RegistryOptions, Repository, Scope } from './types.ts';
import { basicHeader, credentials, fetchToken, parseChallenges, repositoryScope } from './auth.ts';
import { networkError, RegistryError } from './errors.ts';
import { Transport, endpointFetch } from './transport.ts';
import { endpointsFor } from './endpoints.ts';
import { getManifest, headManifest, listTags, putManifest } from './manifests.ts';
import { fetchBlob, statBlob } from './blobs.ts';
import { mountBlob, pushBlob, pushBlobStreamed } from './upload.ts';

export type * from './types.ts';
export { MediaTypes, MANIFEST_ACCEPT } from './types.ts';
export { RegistryError, pullErrorMessage } from './errors.ts';

class RemoteRepository implements Repository {
  readonly registry: string;
  readonly name: string;
  private readonly t: Transport;

  constructor(registry: string, name: string, t: Transport) {
    this.registry = registry;
    this.name = name;
    this.t = t;
  }

  /** Runs op against the current endpoint; a failing mirror hands over to the next endpoint. */
  private async viaMirror<T>(op: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await op();
      } catch (err) {
        if (!this.t.canFallBack()) throw err;
        this.t.fallBack();
      }
    }
  }

  getManifest(ref: string) {
    return this.viaMirror(() => getManifest(this.t, this.name, ref));
  }
  headManifest(ref: string) {
    return this.viaMirror(() => headManifest(this.t, this.name, ref));
  }
  putManifest(ref: string, mediaType: string, bytes: Buffer) {
    return putManifest(this.t, this.name, ref, mediaType, bytes);
  }
  fetchBlob(desc: Descriptor, opts?: { signal?: AbortSignal; offset?: number }) {
    return fetchBlob(this.t, this.name, desc, opts);
  }
  statBlob(digest: string) {
    return statBlob(this.t, this.name, digest);
  }
  mountBlob(digest: string, fromRepository: string) {
    return mountBlob(this.t, this.name, digest, fromRepository);
  }
  pushBlob(desc: Descriptor, body: () => AsyncIterable<Buffer>, opts?: { chunkSize?: number; signal?: AbortSignal }) {
    return pushBlob(this.t, this.name, desc, body, opts);
  }
  pushBlobStreamed(body: AsyncIterable<Buffer>, finish: () => Promise<Descriptor>, opts?: { chunkSize?: number; signal?: AbortSignal }) {
    return pushBlobStreamed(this.t, this.name, body, finish, opts);
  }
  listTags() {
    return this.viaMirror(() => listTags(this.t, this.name));
  }
}

export function createRegistryClient(opts: RegistryOptions): RegistryClient {
  return {
    repository(registry: string, name: string, auth: AuthConfig | undefined, scopes: Scope[]): Repository {
      const actions = scopes.length ? scopes : (['pull'] as Scope[]);
      const pullOnly = !actions.includes('push');
      const t = new Transport(registry, opts, auth, [repositoryScope(name, actions)], pullOnly);
      return new RemoteRepository(registry, name, t);
    },

    async checkLogin(registry: string, auth: AuthConfig): Promise<{ identityToken?: string }> {
      const eps = endpointsFor(registry, opts, false);
      let lastErr: unknown;
      for (let i = 0; i < eps.length; i++) {
        const url = `${eps[i].url}/v2/`;
        const ua: Record<string, string> = opts.userAgent ? { 'User-Agent': opts.userAgent } : {};
        let res: Response;
        try {
          res = await endpointFetch(eps[i], url, { headers: ua, signal: AbortSignal.timeout(15_000) });
        } catch (err) {
          lastErr = networkError('GET', url, err);
          if (eps[i].insecure && i + 1 < eps.length) continue;
          throw lastErr;
        }
        await res.arrayBuffer().catch(() => undefined);
        if (res.status !== 401) return {}; // no authentication required
        const challenges = parseChallenges(res.headers.get('www-authenticate'));
        const bearer = challenges.find((c) => c.scheme === 'bearer');
        if (bearer?.params.realm) {
          let token;
          try {
            token = await fetchToken({ realm: bearer.params.realm, service: bearer.params.service, scopes: [], auth, offline: true, userAgent: opts.userAgent });
          } catch (err) {
            throw new RegistryError(401, (err as RegistryError).errors ?? [{ code: 'UNAUTHORIZED' }], `Get "${url}": ${(err as Error).message}`);
          }
          const check = await endpointFetch(eps[i], url, { headers: { ...ua, Authorization: `Bearer ${token.token}` } });
          await check.arrayBuffer().catch(() => undefined);
          if (check.status === 401) throw new RegistryError(401, [{ code: 'UNAUTHORIZED' }], `login attempt to ${url} failed with status: 401 Unauthorized`);
          return token.refreshToken ? { identityToken: token.refreshToken } : {};
        }
        const creds = credentials(auth);
        if (!creds) throw new RegistryError(401, [{ code: 'UNAUTHORIZED' }], `Get "${url}": no basic auth credentials`);
        const check = await endpointFetch(eps[i], url, { headers: { ...ua, Authorization: basicHeader(creds) } });
        await check.arrayBuffer().catch(() => undefined);
        if (!check.ok) throw new RegistryError(check.status, [{ code: 'UNAUTHORIZED' }], `login attempt to ${url} failed with status: ${check.status} ${check.statusText}`);
        return {};
      }
      throw lastErr ?? new Error(`no endpoint for ${registry}`);
    },
  };
}
