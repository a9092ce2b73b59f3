// Starts the registry: prepares --root (cleans what a crash left), loads the htpasswd file,
// listens over HTTP or HTTPS and logs the address it got (port 0 picks a free port; tests
// read it from that line).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { log } from '../../util/log.ts';
import { BasicAuth, loadHtpasswd } from './auth.ts';
import { claimRoot, releaseRoot } from './root-lock.ts';
import { createHandler } from './router.ts';
import { Storage } from './storage.ts';
import { Uploads } from './uploads.ts';

/** Upload sessions idle this long are abandoned; a start removes them. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;

export interface ServeOptions {
  addr: string;
  root: string;
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  realm: string;
}

export interface RunningRegistry {
  server: Server;
  /** "host:port" as bound. */
  address: string;
  close(): Promise<void>;
}

/** Splits "HOST:PORT", "[v6]:PORT" or ":PORT" (every interface). */
export function parseAddr(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m || Number(m[3]) > 65535) throw new Error(`invalid --addr ${JSON.stringify(addr)}: want HOST:PORT`);
  const host = m[1] ?? m[2];
  return { host: host || undefined, port: Number(m[3]) };
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Prepares the storage and listens; the server once it accepts connections. */
async function listen(opts: ServeOptions, host: string | undefined, port: number, auth: BasicAuth | undefined): Promise<Server> {
  const storage = new Storage(opts.root);
  await storage.init();
  const uploads = new Uploads(storage);
  for (const gone of await uploads.purgeStale(STALE_UPLOAD_MS)) log.info('removed stale upload', { upload: gone });
  const handler = createHandler({ storage, uploads, auth });
  const tls = opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined;
  const server: Server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  // Layer uploads may take longer than Node's default 5-minute request limit.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export async function serve(opts: ServeOptions): Promise<RunningRegistry> {
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  const { host, port } = parseAddr(opts.addr);
  const auth = opts.htpasswd ? new BasicAuth(loadHtpasswd(opts.htpasswd), opts.realm) : undefined;
  // Claimed before init(), which clears tmp/: a second server must not touch a live one's files.
  await claimRoot(opts.root);
  let server: Server;
  try {
    server = await listen(opts, host, port, auth);
  } catch (err) {
    releaseRoot(opts.root);
    throw err;
  }
  const address = formatAddress(server.address() as AddressInfo);
  log.info('registry listening', { addr: address, tls: Boolean(opts.tlsCert), auth: Boolean(auth), root: opts.root });
  return {
    server,
    address,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      releaseRoot(opts.root);
    },
  };
}
