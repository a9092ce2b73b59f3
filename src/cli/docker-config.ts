// The docker CLI's config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json):
// berth reads and writes its "auths" exactly as docker does, so logins are shared between
// the two CLIs. Other keys are kept as they are. A registry whose credentials a helper keeps
// (credHelpers[host], else credsStore; with neither and no login at all, the platform's
// default helper when installed, as docker does) has its secret in that helper and an empty
// entry in "auths".
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { detectDefaultStore, helperErase, helperGet, helperStore } from './credential-helper.ts';

/** Docker Hub's key in "auths" (registry.IndexServer). */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

export interface StoredAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  email?: string;
  [k: string]: unknown;
}

export function configDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

export function configPath(): string {
  return join(configDir(), 'config.json');
}

/** credentials.ConvertToHostname: "https://host:5000/v2/" -> "host:5000". */
export function convertToHostname(address: string): string {
  let s = address;
  if (s.startsWith('http://')) s = s.slice(7);
  else if (s.startsWith('https://')) s = s.slice(8);
  const i = s.indexOf('/');
  return i >= 0 ? s.slice(0, i) : s;
}

/** The "auths" key of a registry host as a reference names it ("docker.io" is Docker Hub). */
export function authKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? INDEX_SERVER : registry;
}

export class DockerConfig {
  readonly path: string;
  private doc: Record<string, unknown>;

  private constructor(path: string, doc: Record<string, unknown>) {
    this.path = path;
    this.doc = doc;
  }

  static async load(path = configPath()): Promise<DockerConfig> {
    let doc: Record<string, unknown> = {};
    try {
      const text = await fsp.readFile(path, 'utf8');
      if (text.trim() !== '') doc = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`loading config file: ${path}: ${(err as Error).message}`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) doc = {};
    const cfg = new DockerConfig(path, doc);
    // config.LoadDefaultConfigFile: no login of any kind yet, so the platform's helper (if
    // installed) takes the first one; it is written to the file with it.
    if (!cfg.containsAuth()) {
      const store = detectDefaultStore();
      if (store) doc.credsStore = store;
    }
    return cfg;
  }

  private containsAuth(): boolean {
    const helpers = this.doc.credHelpers;
    return (
      (typeof this.doc.credsStore === 'string' && this.doc.credsStore !== '') ||
      (!!helpers && typeof helpers === 'object' && Object.keys(helpers).length > 0) ||
      Object.keys(this.auths).length > 0
    );
  }

  /** GetCredentialsStore: the helper keeping this registry's credentials, or undefined for the file. */
  helperFor(server: string): string | undefined {
    const helpers = this.doc.credHelpers as Record<string, unknown> | undefined;
    const own = helpers && typeof helpers === 'object' ? helpers[server] : undefined;
    const helper = typeof own === 'string' ? own : this.doc.credsStore;
    return typeof helper === 'string' && helper !== '' ? helper : undefined;
  }

  /** configfile.GetAuthConfig: from the registry's helper when it has one, else from the file. */
  async getAuth(server: string): Promise<StoredAuth> {
    const helper = this.helperFor(server);
    if (!helper) return this.get(server);
    // As docker's native store: what the helper says, nothing when it has nothing (an old
    // password in the file is not used).
    const c = await helperGet(helper, server);
    const out: StoredAuth = { serveraddress: server };
    if (c.username) out.username = c.username;
    if (c.password) out.password = c.password;
    if (c.identitytoken) out.identitytoken = c.identitytoken;
    return out;
  }

  /**
   * Stores credentials with the registry's helper (the file keeps an empty entry), else in
   * the file; true when a password went into the file (docker's warning is due).
   */
  async storeAuth(server: string, a: StoredAuth): Promise<boolean> {
    const helper = this.helperFor(server);
    if (!helper) return (await this.store(server, a)) && !!a.password;
    await helperStore(helper, server, a);
    this.auths[server] = {};
    await this.save();
    return false;
  }

  /** Removes one key's credentials, from its helper first; throws when the helper fails. */
  async eraseAuth(server: string): Promise<void> {
    const helper = this.helperFor(server);
    if (helper) await helperErase(helper, server);
    await this.erase([server]);
  }

  private get auths(): Record<string, AuthEntry> {
    if (!this.doc.auths || typeof this.doc.auths !== 'object') this.doc.auths = {};
    return this.doc.auths as Record<string, AuthEntry>;
  }

  /** configfile.GetAuthConfig: the exact key, else one whose hostname matches. */
  get(server: string): StoredAuth {
    const auths = this.auths;
    let entry = auths[server];
    if (!entry) {
      const host = convertToHostname(server);
      for (const [k, v] of Object.entries(auths)) {
        if (convertToHostname(k) === host) {
          entry = v;
          break;
        }
      }
    }
    if (!entry) return { serveraddress: server };
    const out: StoredAuth = { serveraddress: server };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i >= 0) {
        out.username = decoded.slice(0, i);
        out.password = decoded.slice(i + 1).replace(/\0+$/, '');
      }
    } else {
      if (entry.username) out.username = entry.username;
      if (entry.password) out.password = entry.password;
    }
    if (entry.identitytoken) out.identitytoken = entry.identitytoken;
    return out;
  }

  /** Stores credentials under server; false when they were stored already (nothing written). */
  async store(server: string, a: StoredAuth): Promise<boolean> {
    const entry: AuthEntry = { auth: Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64') };
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    const old = this.auths[server];
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return false;
    this.auths[server] = entry;
    await this.save();
    return true;
  }

  /** Removes the keys; true when any was there. */
  async erase(servers: string[]): Promise<boolean> {
    let any = false;
    for (const s of servers) {
      if (s in this.auths) {
        delete this.auths[s];
        any = true;
      }
    }
    if (any) await this.save();
    return any;
  }

  /** As configfile.Save: tab-indented, written to a temporary file and renamed, mode 0600. */
  private async save(): Promise<void> {
    await fsp.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}`;
    try {
      await fsp.writeFile(tmp, JSON.stringify(this.doc, null, '\t'), { mode: 0o600 });
      await fsp.rename(tmp, this.path);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }
}

/** The X-Registry-Auth header docker sends: base64url of the JSON credentials ("e30=" for none). */
export function encodeRegistryAuth(a: StoredAuth | undefined): string {
  const o: Record<string, string> = {};
  if (a?.username) o.username = a.username;
  if (a?.password) o.password = a.password;
  if (a?.username || a?.password || a?.identitytoken) {
    if (a.serveraddress) o.serveraddress = a.serveraddress;
  }
  if (a?.identitytoken) o.identitytoken = a.identitytoken;
  return Buffer.from(JSON.stringify(o)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** The stored credentials for a registry host, as docker's ResolveAuthConfig finds them. */
export async function registryAuthHeader(registry: string): Promise<string> {
  const cfg = await DockerConfig.load();
  // As docker 28: a helper that fails leaves the request without credentials (the
  // registry's refusal is what the user sees).
  const a = await cfg.getAuth(authKey(registry)).catch(() => undefined);
  if (!a) return encodeRegistryAuth(undefined);
  return encodeRegistryAuth(a.username || a.identitytoken ? a : undefined);
}
