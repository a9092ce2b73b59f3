// HTTP to one repository of one registry: picks the endpoint (mirror, https, http fallback)
// with a /v2/ ping, learns its auth challenges, and sends requests with the right
// Authorization, re-authenticating once on a 401 when the request can be replayed.
import type { AuthConfig, RegistryOptions } from './types.ts';
import { Authorizer, NoCredentialsError, parseChallenges } from './auth.ts';
import { endpointsFor, type Endpoint } from './endpoints.ts';
import { tlsFetch, sameOrigin, type FetchInit } from './tls-fetch.ts';
import { certsFor } from './certs.ts';
import { networkError, parseErrorResponse, RegistryError } from './errors.ts';

const PING_TIMEOUT_MS = 15_000;

export interface RequestInit2 {
  headers?: Record<string, string>;
  /** A replayable body (Buffer/string) or a one-shot stream (never retried). */
  body?: Buffer | string | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** Extra token scopes for this request (a cross-repository mount's source). */
  extraScopes?: string[];
}

/** A failed response as a RegistryError (reads the body). */
export async function responseError(res: Response): Promise<RegistryError> {
  const text = await res.text().catch(() => '');
  const err = parseErrorResponse(res.status, text);
  if (res.status >= 400 && res.status < 500) {
    // As distribution's client: an OAuth error in the bearer challenge (RFC 6750) comes first.
    const bearer = parseChallenges(res.headers.get('www-authenticate')).find((c) => c.scheme === 'bearer');
    const code = bearer?.params.error === 'insufficient_scope' ? 'DENIED' : bearer?.params.error === 'invalid_token' ? 'UNAUTHORIZED' : undefined;
    if (code) {
      const merged = new RegistryError(res.status, [{ code, message: bearer!.params.error_description || undefined }, ...err.errors]);
      merged.insufficientScope = code === 'DENIED';
      return merged;
    }
  }
  return err;
}

/**
 * fetch() for a request to ep: without certificate checks for an insecure https endpoint
 * (as dockerd), else Node's fetch.
 */
export function endpointFetch(ep: Endpoint, url: string, init: FetchInit = {}): Promise<Response> {
  if (url.startsWith('https:') && sameOrigin(url, ep.url)) {
    if (ep.insecure) return tlsFetch(url, init);
    const tls = certsFor(new URL(ep.url).host);
    if (tls) return tlsFetch(url, init, 0, tls);
  }
  const streaming = init.body !== undefined && typeof init.body !== 'string' && !Buffer.isBuffer(init.body);
  return fetch(url, { method: init.method, headers: init.headers, body: init.body as BodyInit | undefined, signal: init.signal, redirect: 'follow', ...(streaming ? { duplex: 'half' } : {}) } as RequestInit);
}

export class Transport {
  readonly registry: string;
  private readonly endpoints: Endpoint[];
  private index = 0;
  private ready?: Promise<void>;
  private readonly authorizers: Authorizer[];
  private readonly userAgent?: string;

  constructor(registry: string, opts: RegistryOptions, auth: AuthConfig | undefined, scopes: string[], pull: boolean) {
    this.registry = registry;
    this.endpoints = endpointsFor(registry, opts, pull);
    this.userAgent = opts.userAgent;
    this.authorizers = this.endpoints.map((e) => new Authorizer(e.mirror ? undefined : auth, scopes, opts.userAgent));
  }

  get endpoint(): Endpoint {
    return this.endpoints[this.index];
  }

  private get authorizer(): Authorizer {
    return this.authorizers[this.index];
  }

  /** Whether a later endpoint remains after a mirror (a failed mirror request may move on). */
  canFallBack(): boolean {
    return this.endpoint.mirror && this.index + 1 < this.endpoints.length;
  }

  /** Gives up on the current (mirror) endpoint. */
  fallBack(): void {
    if (this.index + 1 < this.endpoints.length) {
      this.index++;
      this.ready = undefined;
    }
  }

  /** Chooses the endpoint: the first one whose /v2/ answers (401 counts: it tells the auth scheme). */
  ensureReady(): Promise<void> {
    this.ready ??= this.ping().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async ping(): Promise<void> {
    let lastErr: unknown;
    for (; this.index < this.endpoints.length; this.index++) {
      const ep = this.endpoint;
      const url = `${ep.url}/v2/`;
      let res: Response;
      try {
        res = await endpointFetch(ep, url, { headers: this.baseHeaders(), signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      } catch (err) {
        lastErr = networkError('GET', url, err);
        if ((ep.insecure || ep.mirror) && this.index + 1 < this.endpoints.length) continue;
        throw lastErr;
      }
      await res.arrayBuffer().catch(() => undefined);
      if (ep.mirror && res.status !== 200 && res.status !== 401 && this.index + 1 < this.endpoints.length) continue;
      if (res.status === 401) this.authorizer.setChallenges(parseChallenges(res.headers.get('www-authenticate')));
      return;
    }
    throw lastErr ?? new Error('no registry endpoint');
  }

  private baseHeaders(): Record<string, string> {
    return this.userAgent ? { 'User-Agent': this.userAgent } : {};
  }

  /** An absolute URL for a path ("/v2/…") or a Location header (relative or absolute). */
  url(pathOrLocation: string): string {
    return new URL(pathOrLocation, this.endpoint.url + '/').toString();
  }

  async request(method: string, pathOrUrl: string, init: RequestInit2 = {}): Promise<Response> {
    await this.ensureReady();
    const url = this.url(pathOrUrl);
    const replayable = init.body === undefined || typeof init.body === 'string' || Buffer.isBuffer(init.body);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...this.baseHeaders(), ...init.headers };
      let authz: string | undefined;
      try {
        authz = await this.authorizer.header(init.extraScopes);
      } catch (err) {
        if (err instanceof NoCredentialsError) throw new RegistryError(401, [{ code: 'UNAUTHORIZED' }], `${method[0]}${method.slice(1).toLowerCase()} "${url}": no basic auth credentials`);
        throw err;
      }
      if (authz) headers.Authorization = authz;
      let res: Response;
      try {
        res = await endpointFetch(this.endpoint, url, { method, headers, body: init.body, signal: init.signal });
      } catch (err) {
        if (init.signal?.aborted) throw err;
        throw networkError(method, url, err);
      }
      if (res.status !== 401 || attempt > 0 || !replayable) return res;
      // A new or changed challenge (first contact, expired token): learn it and retry once.
      const challenges = parseChallenges(res.headers.get('www-authenticate'));
      if (challenges.length === 0) return res;
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      if (bearer?.params.error === 'insufficient_scope' && authz) return res;
      await res.arrayBuffer().catch(() => undefined);
      this.authorizer.setChallenges(challenges);
      this.authorizer.invalidate();
    }
  }
}
