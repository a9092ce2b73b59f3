// A private distribution registry (Debian's docker-registry 2.8) for a test file: its own
// storage dir and free loopback port, optionally htpasswd Basic auth or token auth backed
// by a tiny token server here (RS256 JWTs whose certificate is the registry's rootcertbundle).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createSign, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, run } from './daemon.ts';

export interface TokenServerState {
  /** Every token request seen: method, query/form fields and the Basic user if any. */
  requests: Array<{ method: string; params: Record<string, string | string[]>; user?: string }>;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  dir: string;
  users: Record<string, string>;
  token?: TokenServerState;
  log(): Promise<string>;
  /** skopeo copy from a transport reference (default: the busybox image) to host/dest. */
  skopeoPush(dest: string, opts?: { src?: string; format?: 'oci' | 'v2s2'; all?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(ip = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, ip, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function b64url(x: Buffer | string): string {
  return Buffer.from(x).toString('base64url');
}

/** libtrust's key id, which distribution matches a JWT "kid" against: base32 of sha256(SPKI DER)[:30], grouped by 4. */
function libtrustKeyId(spkiDer: Buffer): string {
  const h = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of h) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** Any HTTP answer from url (certificates unchecked). */
function probe(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitHttp(url: string, proc: ChildProcess, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`registry exited with ${proc.exitCode}`);
    try {
      await probe(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`registry at ${url} did not come up`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Starts a registry. tls: https with a self-signed certificate; ip: the address to listen
 * on (default 127.0.0.1; a non-loopback one is not insecure by default for the daemon).
 */
export async function startRegistry(opts: { auth?: 'htpasswd' | 'token'; users?: Record<string, string>; tokenTtl?: number; tls?: boolean; ip?: string } = {}): Promise<TestRegistry> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-registry-'));
  const ip = opts.ip ?? '127.0.0.1';
  const port = await freePort(ip);
  const host = `${ip}:${port}`;
  let tlsYaml = '';
  if (opts.tls) {
    const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '2', '-subj', '/CN=berth-test-registry', '-addext', `subjectAltName=IP:${ip}`]);
    if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
    tlsYaml = `  tls:\n    certificate: ${join(dir, 'tls.crt')}\n    key: ${join(dir, 'tls.key')}\n`;
  }
  const users = opts.users ?? (opts.auth ? { alice: 'secret-pw' } : {});
  let authYaml = '';
  let tokenServer: Server | undefined;
  let token: TokenServerState | undefined;
  if (opts.auth === 'htpasswd') {
    const lines: string[] = [];
    for (const [u, p] of Object.entries(users)) {
      const r = await run('htpasswd', ['-Bbn', u, p]);
      if (r.code !== 0) throw new Error(`htpasswd: ${r.stderr}`);
      lines.push(r.stdout.trim());
    }
    await fsp.writeFile(join(dir, 'htpasswd'), lines.join('\n') + '\n');
    authYaml = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    const key = join(dir, 'token.key');
    const cert = join(dir, 'token.crt');
    const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=berth-test-token']);
    if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`);
    const keyPem = await fsp.readFile(key, 'utf8');
    const spki = await run('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
    const spkiDer = Buffer.from(spki.stdout.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const kid = libtrustKeyId(spkiDer);
    const state: TokenServerState = { requests: [] };
    token = state;
    const refreshTokens = new Map<string, string>();
    const sign = (sub: string, aud: string, access: unknown[]) => {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
      const claims = b64url(JSON.stringify({ iss: 'berth-test-issuer', sub, aud, exp: now + (opts.tokenTtl ?? 300), nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
      const s = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(keyPem);
      return `${header}.${claims}.${b64url(s)}`;
    };
    tokenServer = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const u = new URL(req.url ?? '/', 'http://x');
      const params: Record<string, string | string[]> = {};
      const src = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString()) : u.searchParams;
      for (const k of new Set(src.keys())) params[k] = src.getAll(k).length > 1 ? src.getAll(k) : src.get(k)!;
      let user: string | undefined;
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      if (basic) {
        const [name, ...rest] = Buffer.from(basic[1], 'base64').toString().split(':');
        if (users[name] !== rest.join(':')) {
          state.requests.push({ method: req.method!, params, user: name });
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
        user = name;
      }
      if (req.method === 'POST' && params.grant_type === 'refresh_token') {
        user = refreshTokens.get(String(params.refresh_token));
        if (!user) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ details: 'invalid refresh token' }));
          return;
        }
      }
      state.requests.push({ method: req.method!, params, user });
      const scopes = ([] as string[]).concat(params.scope ?? []).flatMap((s) => s.split(' ')).filter(Boolean);
      // Authenticated users get what they ask for; anonymous callers get nothing.
      const access = user
        ? scopes.map((s) => {
            const [type, ...mid] = s.split(':');
            const actions = mid.pop()!.split(',');
            return { type, name: mid.join(':'), actions };
          })
        : [];
      const body: Record<string, unknown> = { token: sign(user ?? '', String(params.service ?? ''), access), expires_in: opts.tokenTtl ?? 300, issued_at: new Date().toISOString() };
      if (user && (params.offline_token === 'true' || params.grant_type)) {
        const rt = randomBytes(16).toString('hex');
        refreshTokens.set(rt, user);
        body.refresh_token = rt;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    const tport = await new Promise<number>((resolve) => tokenServer!.listen(0, '127.0.0.1', () => resolve((tokenServer!.address() as AddressInfo).port)));
    authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${tport}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: ${cert}\n`;
  }
  const config = `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: ${join(dir, 'storage')}
  delete:
    enabled: true
http:
  addr: ${host}
${tlsYaml}${authYaml}`;
  await fsp.writeFile(join(dir, 'config.yml'), config);
  const logFd = await fsp.open(join(dir, 'registry.log'), 'a');
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd.fd, logFd.fd] });
  await logFd.close();
  try {
    await waitHttp(`${opts.tls ? 'https' : 'http'}://${host}/v2/`, proc);
  } catch (err) {
    proc.kill('SIGKILL');
    tokenServer?.close();
    const log = await fsp.readFile(join(dir, 'registry.log'), 'utf8').catch(() => '');
    await fsp.rm(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  const creds = Object.entries(users)[0];
  return {
    host,
    dir,
    users,
    token,
    log: () => fsp.readFile(join(dir, 'registry.log'), 'utf8'),
    async skopeoPush(dest, o = {}) {
      const args = ['copy', '--quiet', '--dest-tls-verify=false'];
      if (o.all) args.push('--all');
      if (o.format) args.push('--format', o.format);
      if (opts.auth && creds) args.push('--dest-creds', `${creds[0]}:${creds[1]}`);
      args.push(o.src ?? `docker-archive:${BUSYBOX_TAR}`, `docker://${host}/${dest}`);
      const r = await run('skopeo', args, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGTERM');
        });
      }
      if (tokenServer) await new Promise<void>((resolve) => tokenServer!.close(() => resolve()));
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

// Raw distribution API calls (no auth) for building test content, independent of berth's client.

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function rawPutBlob(host: string, repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location')!, `http://${host}/`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob put: ${put.status} ${text}`);
  return { digest, size: bytes.length };
}

export async function rawPutManifest(host: string, repo: string, ref: string, mediaType: string, doc: unknown): Promise<{ digest: string; size: number; bytes: Buffer }> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body: new Uint8Array(bytes) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${text}`);
  return { digest: sha256(bytes), size: bytes.length, bytes };
}

export async function rawGet(host: string, path: string, accept?: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`http://${host}${path}`, { headers: accept ? { Accept: accept } : {} });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A TCP relay to target that passes the registry's answers on at `bytesPerSecond`, so a
 * pull through it is slow enough to interrupt. Returns its "127.0.0.1:PORT".
 */
export async function slowProxy(target: string, bytesPerSecond: number): Promise<{ host: string; sent(): number; close(): Promise<void> }> {
  const { createConnection } = await import('node:net');
  const [thost, tport] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<import('node:net').Socket>();
  let sent = 0;
  const server = createNetServer((client) => {
    const upstream = createConnection(tport, thost);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    const tickMs = 50;
    const perTick = Math.max(1, Math.floor((bytesPerSecond * tickMs) / 1000));
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      let off = 0;
      const step = () => {
        if (client.destroyed) return;
        const piece = chunk.subarray(off, off + perTick);
        client.write(piece);
        sent += piece.length;
        off += perTick;
        if (off < chunk.length) setTimeout(step, tickMs);
        else upstream.resume();
      };
      step();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('end', () => client.end());
    upstream.on('error', end);
    client.on('error', end);
    client.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
