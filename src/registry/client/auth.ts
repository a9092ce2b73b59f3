// Registry authentication: WWW-Authenticate challenges (RFC 7235), Basic, and Docker's token
// flow (docs "Token Authentication Specification" and "OAuth2"): a GET to the realm with
// service and scope (Basic credentials or anonymous), or a POST with grant_type=refresh_token
// (identity token) or password; tokens are cached per scope set until expires_in runs out.
import type { AuthConfig } from './types.ts';
import { networkError, parseErrorResponse, RegistryError } from './errors.ts';


export interface Challenge {
  scheme: string; // lower case: "basic", "bearer"
  params: Record<string, string>; // keys lower case
}

/** Parses a WWW-Authenticate value: one or more `scheme k=v, k="quoted", …` challenges. */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i])) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    while (s[i] === ',') {
      i++;
      skipWs();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipWs();
      const save = i;
      const key = token();
      skipWs();
      if (!key || s[i] !== '=') {
        // The start of the next challenge (or a token68, which registries never send).
        i = save;
        break;
      }
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        value = token();
      }
      ch.params[key.toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') {
        i++;
        // A following "scheme key=..." (no '=' right after the first token) starts a new challenge.
        const look = i;
        skipWs();
        token();
        skipWs();
        const nextIsParam = s[i] === '=';
        i = look;
        if (!nextIsParam) break;
      } else {
        break;
      }
    }
  }
  return out;
}

/** username/password out of an AuthConfig ("auth" is base64 "user:pass"). */
export function credentials(auth: AuthConfig | undefined): { username: string; password: string } | undefined {
  if (!auth) return undefined;
  if (auth.username || auth.password) return { username: auth.username ?? '', password: auth.password ?? '' };
  if (auth.auth) {
    const dec = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  return undefined;
}

export function basicHeader(c: { username: string; password: string }): string {
  return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
}

export interface TokenResult {
  token: string;
  /** Epoch ms after which the token must not be reused. */
  expiresAt: number;
  refreshToken?: string;
}

/** A Basic challenge, and no credentials to answer it with. */
export class NoCredentialsError extends Error {}

const MIN_TOKEN_LIFETIME_S = 60; // the token spec's default when expires_in is absent

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  auth?: AuthConfig;
  /** Ask for a refresh token (docker login). */
  offline?: boolean;
  userAgent?: string;
}

/** Fetches a bearer token from a token server. */
export async function fetchToken(req: TokenRequest): Promise<TokenResult> {
  const creds = credentials(req.auth);
  const headers: Record<string, string> = {};
  if (req.userAgent) headers['User-Agent'] = req.userAgent;
  let res: Response;
  if (req.auth?.identitytoken) {
    // OAuth2 refresh-token grant, as dockerd does with an identity token.
    const form = new URLSearchParams();
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', req.auth.identitytoken);
    form.set('client_id', 'docker');
    if (req.service) form.set('service', req.service);
    if (req.scopes.length) form.set('scope', req.scopes.join(' '));
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    res = await fetch(req.realm, { method: 'POST', headers, body: form.toString() }).catch((err) => Promise.reject(networkError('POST', req.realm, err)));
  } else {
    const u = new URL(req.realm);
    if (req.service) u.searchParams.set('service', req.service);
    for (const s of req.scopes) u.searchParams.append('scope', s);
    if (req.offline && creds) {
      u.searchParams.set('offline_token', 'true');
      u.searchParams.set('client_id', 'docker');
    }
    if (creds) headers.Authorization = basicHeader(creds);
    res = await fetch(u, { headers }).catch((err) => Promise.reject(networkError('GET', u.toString(), err)));
  }
  const text = await res.text();
  if (!res.ok) {
    throw parseErrorResponse(res.status, text);
  }
  let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string; refresh_token?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new RegistryError(500, [{ code: 'UNKNOWN' }], `unable to decode token response: ${text.slice(0, 100)}`);
  }
  const token = body.access_token || body.token;
  if (!token) throw new RegistryError(500, [{ code: 'UNKNOWN' }], 'authorization server did not include a token in the response');
  const lifetime = typeof body.expires_in === 'number' && body.expires_in >= MIN_TOKEN_LIFETIME_S ? body.expires_in : MIN_TOKEN_LIFETIME_S;
  let issued = Date.now();
  if (body.issued_at) {
    const t = Date.parse(body.issued_at);
    if (!Number.isNaN(t) && t <= issued) issued = t;
  }
  return { token, expiresAt: issued + lifetime * 1000, refreshToken: body.refresh_token };
}

/** Scope strings for a repository: "repository:name:pull,push". */
export function repositoryScope(name: string, actions: readonly string[]): string {
  return `repository:${name}:${[...new Set(actions)].join(',')}`;
}

/**
 * Authorization for one repository at one endpoint: answers the challenges the endpoint
 * gave (Bearer preferred over Basic), caching bearer tokens per scope set until shortly
 * before they expire.
 */
export class Authorizer {
  private challenges: Challenge[] = [];
  private readonly tokens = new Map<string, TokenResult>();
  private readonly inflight = new Map<string, Promise<TokenResult>>();
  private readonly auth: AuthConfig | undefined;
  private readonly scopes: string[];
  private readonly userAgent?: string;

  constructor(auth: AuthConfig | undefined, scopes: string[], userAgent?: string) {
    this.auth = auth;
    this.scopes = scopes;
    this.userAgent = userAgent;
  }

  setChallenges(ch: Challenge[]): void {
    const next = ch.filter((c) => c.scheme === 'bearer' || c.scheme === 'basic');
    if (JSON.stringify(next) !== JSON.stringify(this.challenges)) this.tokens.clear();
    this.challenges = next;
  }

  hasChallenge(): boolean {
    return this.challenges.length > 0;
  }

  /** Forgets cached tokens (after a 401 with one). */
  invalidate(): void {
    this.tokens.clear();
  }

  /** The Authorization header value for the next request, if any; extra scopes (a mount's source) widen the token. */
  async header(extraScopes: string[] = []): Promise<string | undefined> {
    if (this.auth?.registrytoken) return `Bearer ${this.auth.registrytoken}`;
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer && bearer.params.realm) {
      const scopes = [...this.scopes, ...extraScopes];
      const key = scopes.join(' ');
      const hit = this.tokens.get(key);
      if (hit && hit.expiresAt - 5000 > Date.now()) return `Bearer ${hit.token}`;
      let p = this.inflight.get(key);
      if (!p) {
        p = fetchToken({ realm: bearer.params.realm, service: bearer.params.service, scopes, auth: this.auth, userAgent: this.userAgent });
        this.inflight.set(key, p);
        p.finally(() => this.inflight.delete(key)).catch(() => undefined);
      }
      const t = await p;
      this.tokens.set(key, t);
      return `Bearer ${t.token}`;
    }
    if (this.challenges.some((c) => c.scheme === 'basic')) {
      const creds = credentials(this.auth);
      if (!creds) throw new NoCredentialsError('no basic auth credentials');
      return basicHeader(creds);
    }
    return undefined;
  }
}
