// The Engine API server: listens on unix sockets (and tcp when configured), negotiates
// versions, routes to handlers and turns errors into Docker's {"message": ...} bodies.
// It holds no engine logic: handlers call engine services.
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { Context } from './context.ts';
import { Router } from './router.ts';
import { API_VERSION, splitVersion } from './version.ts';
import { statusOf } from '../util/errors.ts';
import { log } from '../util/log.ts';

export const SERVER_HEADER = 'berth/0.1.0 (linux)';

export class ApiServer {
  readonly router = new Router();
  private servers: Server[] = [];

  private async dispatch(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', SERVER_HEADER);
    const url = new URL(req.url ?? '/', 'http://berth');
    let ctx: Context | undefined;
    try {
      const { version, path } = splitVersion(url.pathname);
      ctx = new Context(req, res, version, url.searchParams, upgrade);
      const m = this.router.match(req.method ?? 'GET', path);
      if (!m.handler) {
        const status = 404;
        const message = m.pathExists ? `page not found` : 'page not found';
        sendError(res, status, message);
        return;
      }
      ctx.params = m.params;
      await m.handler(ctx);
    } catch (err) {
      const status = statusOf(err);
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500 && status !== 501) log.error('handler failed', { method: req.method, url: req.url, error: message });
      else log.debug('request refused', { method: req.method, url: req.url, status, error: message });
      if (res.headersSent || res.writableEnded) {
        res.destroy();
        return;
      }
      sendError(res, status, message);
    }
  }

  private handle = (req: IncomingMessage, res: ServerResponse) => {
    log.debug('request', { method: req.method, url: req.url });
    void this.dispatch(req, res);
  };

  private handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A ServerResponse on the raw socket lets a handler answer an error as plain HTTP
    // before it decides to hijack.
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    void this.dispatch(req, res, { socket, head });
  };

  /** Listens on "unix:///path" or "tcp://host:port" (or a bare path). */
  async listen(host: string, socketMode = 0o660): Promise<void> {
    const server = createServer({ keepAliveTimeout: 60_000 }, this.handle);
    server.on('upgrade', this.handleUpgrade);
    server.on('clientError', (_err, socket) => socket.destroy());
    if (host.startsWith('tcp://')) {
      const u = new URL(host);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(u.port || 2375), u.hostname, () => resolve());
      });
    } else {
      const path = host.replace(/^unix:\/\//, '');
      await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      if (await socketAlive(path)) throw new Error(`another daemon is listening on ${path}`);
      await fsp.rm(path, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      await fsp.chmod(path, socketMode);
    }
    this.servers.push(server);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })),
    );
    this.servers = [];
  }
}

function sendError(res: ServerResponse, status: number, message: string): void {
  if (status === 304) {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = JSON.stringify({ message }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
