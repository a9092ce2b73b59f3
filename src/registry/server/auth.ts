// Basic authentication against an htpasswd file of bcrypt entries (`htpasswd -B`), the
// same scheme distribution's htpasswd access controller offers. Other hash kinds (MD5,
// SHA1, crypt) are refused on load: they are weak, and distribution refuses them too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bcryptVerify, isBcryptHash } from './bcrypt.ts';
import { regError } from './errors.ts';
import { FailureThrottle } from './throttle.ts';

export type Htpasswd = Map<string, string>;

/** Parses "user:hash" lines; blank lines and # comments are skipped. */
export function parseHtpasswd(text: string, source = 'htpasswd'): Htpasswd {
  const users: Htpasswd = new Map();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`${source}:${i + 1}: expected user:hash`);
    const hash = line.slice(colon + 1);
    if (!isBcryptHash(hash)) throw new Error(`${source}:${i + 1}: only bcrypt entries are supported (htpasswd -B)`);
    users.set(line.slice(0, colon), hash);
  }
  return users;
}

export function loadHtpasswd(path: string): Htpasswd {
  return parseHtpasswd(readFileSync(path, 'utf8'), path);
}

/** The user and password of an "Authorization: Basic ..." header, if it is one. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export class BasicAuth {
  private readonly users: Htpasswd;
  private readonly realm: string;
  /** Checked credentials, so a client's many requests cost one bcrypt run (which is slow on purpose). */
  private readonly verified = new Map<string, string>();

  private readonly throttle: FailureThrottle;
  private readonly now: () => number;

  /** At most `maxFailures` wrong passwords per client address a minute. */
  constructor(users: Htpasswd, realm: string, maxFailures = 20, now: () => number = Date.now) {
    this.users = users;
    this.realm = realm;
    this.throttle = new FailureThrottle(maxFailures, 60_000);
    this.now = now;
  }

  /** The user, or a 401 UNAUTHORIZED carrying the Basic challenge (429 after many failures). */
  check(header: string | undefined, client = ''): string {
    const creds = parseBasic(header);
    const challenge = { 'WWW-Authenticate': `Basic realm="${this.realm.replace(/["\\]/g, '')}"` };
    if (!creds) throw regError('UNAUTHORIZED', undefined, { headers: challenge });
    const wait = this.throttle.retryAfter(client, this.now());
    if (wait !== undefined) throw regError('TOOMANYREQUESTS', undefined, { message: 'too many failed logins', headers: { 'Retry-After': String(wait) } });
    const hash = this.users.get(creds.user);
    // Keyed by a hash, so no password sits in memory longer than its request.
    const key = createHash('sha256').update(`${creds.user}\0${creds.password}`).digest('hex');
    const ok = hash !== undefined && (this.verified.get(key) === hash || bcryptVerify(creds.password, hash));
    if (!ok) {
      this.throttle.fail(client, this.now());
      throw regError('UNAUTHORIZED', undefined, { message: 'invalid username or password', headers: challenge });
    }
    this.verified.set(key, hash);
    return creds.user;
  }
}
