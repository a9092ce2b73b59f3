// The Engine API client: one keep-alive connection pool to the daemon, docker's version
// negotiation (HEAD /_ping, then min(1.50, the daemon's Api-Version) as the /vX.Y prefix),
// JSON requests, raw streams, and errors carrying the daemon's {"message"}.
import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import type { Readable } from 'node:stream';
import { ApiError, ConnectionError, statusText } from './errors.ts';
import type { DaemonAddress } from './host.ts';
import { encodeQuery, escapePath, type Query } from './query.ts';

export const CLIENT_API_VERSION = '1.50';
export const USER_AGENT = 'Berth-Client/0.1.0 (linux)';
/** The host name Go's client puts in URLs for unix sockets (appears in some error texts). */
const DUMMY_HOST = 'api.moby.localhost';

export function compareApiVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

export interface RequestOpts {
  query?: Query;
  /** A plain value is sent as JSON; a stream or buffer as is. */
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  /** Skips the /vX.Y prefix (for /_ping). */
  unversioned?: boolean;
}

export interface PingResult {
  apiVersion: string;
  osType: string;
  experimental: boolean;
}

function isStream(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}

export class ApiClient {
  readonly address: DaemonAddress;
  private readonly agent: Agent;
  private version: string | undefined;
  private pingResult: PingResult | undefined;
  private negotiating: Promise<void> | undefined;

  constructor(address: DaemonAddress) {
    this.address = address;
    this.agent = new Agent({ keepAlive: true, maxSockets: 64 });
  }

  /** The API version in use (after negotiation). */
  get apiVersion(): string {
    return this.version ?? CLIENT_API_VERSION;
  }

  get serverOsType(): string {
    return this.pingResult?.osType || 'linux';
  }

  private baseOptions(method: string, path: string, headers: OutgoingHttpHeaders): RequestOptions {
    const base: RequestOptions = { method, path, agent: this.agent, headers: { 'User-Agent': USER_AGENT, ...headers } };
    if (this.address.kind === 'unix') return { ...base, socketPath: this.address.path, host: DUMMY_HOST };
    return { ...base, host: this.address.host, port: this.address.port };
  }

  private send(method: string, path: string, body: unknown, headers: OutgoingHttpHeaders): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let payload: Buffer | undefined;
      const h: OutgoingHttpHeaders = { ...headers };
      if (body !== undefined && !isStream(body)) {
        if (Buffer.isBuffer(body)) payload = body;
        else {
          payload = Buffer.from(JSON.stringify(body) + '\n');
          h['Content-Type'] ??= 'application/json';
        }
        h['Content-Length'] = payload.length;
      }
      const req = httpRequest(this.baseOptions(method, path, h), resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ECONNREFUSED', 'ENOENT', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(err.code ?? '') && !req.reusedSocket) {
          reject(new ConnectionError(this.address.url, err));
        } else reject(err);
      });
      if (isStream(body)) {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      } else req.end(payload);
    });
  }

  /** HEAD /_ping (GET when HEAD is refused): the daemon's API version and OS. */
  async ping(): Promise<PingResult> {
    let res: IncomingMessage | undefined;
    try {
      res = await this.send('HEAD', '/_ping', undefined, {});
      res.resume();
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
    }
    if (!res || (res.statusCode !== 200 && res.statusCode !== 500)) {
      res = await this.send('GET', '/_ping', undefined, {});
      res.resume();
    }
    const result = { apiVersion: String(res.headers['api-version'] ?? ''), osType: String(res.headers['ostype'] ?? ''), experimental: res.headers['docker-experimental'] === 'true' };
    this.pingResult = result;
    return result;
  }

  /** Settles the API version once, as docker does before its first request. */
  negotiate(): Promise<void> {
    this.negotiating ??= (async () => {
      const p = await this.ping();
      const server = p.apiVersion || '1.24';
      this.version = compareApiVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    })();
    return this.negotiating;
  }

  versionAtLeast(v: string): boolean {
    return compareApiVersions(this.apiVersion, v) >= 0;
  }

  private async urlPath(path: string, query: Query | undefined, unversioned = false): Promise<string> {
    if (!unversioned) await this.negotiate();
    const q = query ? encodeQuery(query) : '';
    const p = unversioned ? path : `/v${this.apiVersion}${path}`;
    return escapePath(p) + (q ? `?${q}` : '');
  }

  /** The error docker reports for a failed response (the body is consumed). */
  private async responseError(res: IncomingMessage, path: string): Promise<Error> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const status = res.statusCode ?? 500;
    const statusMsg = `${status} ${res.statusMessage || statusText(status)}`;
    if (body.length === 0) {
      return new ApiErrorNoBody(status, `request returned ${statusMsg} for API route and version http://${DUMMY_HOST}${path}, check if the server supports the requested API version`);
    }
    const ctype = String(res.headers['content-type'] ?? '');
    if (ctype === 'application/json') {
      try {
        const msg = (JSON.parse(body) as { message?: string }).message;
        if (!msg) return new ApiError(status, `API returned a ${status} (${statusText(status)}) but provided no error-message`);
        return new ApiError(status, msg.trim());
      } catch (e) {
        return new Error(`Error reading JSON: ${(e as Error).message}`);
      }
    }
    return new ApiError(status, body.trim());
  }

  /** Sends a request; resolves with the response (headers received) when its status is below 400. */
  async request(method: string, path: string, opts: RequestOpts = {}): Promise<IncomingMessage> {
    const url = await this.urlPath(path, opts.query, opts.unversioned);
    const res = await this.send(method, url, opts.body, opts.headers ?? {});
    if ((res.statusCode ?? 500) >= 400) throw await this.responseError(res, url);
    return res;
  }

  /** A request whose response body is JSON; resolves with the parsed body (undefined when empty). */
  async json<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await readAll(res);
    return (text.length ? JSON.parse(text.toString()) : undefined) as T;
  }

  /** A request whose body is ignored. */
  async call(method: string, path: string, opts: RequestOpts = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise<void>((resolve) => (res.complete ? resolve() : res.on('end', resolve).on('close', resolve)));
  }

  /** Like json() but also returns the raw body (inspect prints the daemon's bytes). */
  async jsonWithRaw<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<{ value: T; raw: Buffer }> {
    const res = await this.request(method, path, opts);
    const raw = await readAll(res);
    return { value: JSON.parse(raw.toString()) as T, raw };
  }

  /**
   * POSTs with "Connection: Upgrade, Upgrade: tcp" and takes over the connection on
   * "101 Switching Protocols" (attach, exec start). Any other answer is an error, worded as docker's.
   */
  async hijack(path: string, opts: RequestOpts = {}): Promise<{ socket: import('node:net').Socket; contentType: string }> {
    const url = await this.urlPath(path, opts.query);
    const headers: OutgoingHttpHeaders = { 'Content-Type': 'text/plain', ...opts.headers, Connection: 'Upgrade', Upgrade: 'tcp' };
    return new Promise((resolve, reject) => {
      // A dedicated connection: the hijacked socket never goes back to the pool.
      const options = this.baseOptions('POST', url, headers);
      options.agent = false;
      const req = httpRequest(options);
      req.on('upgrade', (res: IncomingMessage, socket: import('node:net').Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.on('response', (res: IncomingMessage) => {
        res.resume();
        reject(new Error(`unable to upgrade to tcp, received ${res.statusCode}`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (['ECONNREFUSED', 'ENOENT', 'EACCES'].includes(err.code ?? '')) reject(new ConnectionError(this.address.url, err));
        else reject(err);
      });
      if (opts.body !== undefined) req.end(JSON.stringify(opts.body));
      else req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** An error status with an empty body: docker prints the request line instead of a message. */
export class ApiErrorNoBody extends ApiError {
  constructor(status: number, text: string) {
    super(status, text);
    this.message = text;
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
