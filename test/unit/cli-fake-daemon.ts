// A scripted stand-in for berthd used by the CLI tests: it records every request (so the
// requests of berth and of the real docker CLI can be compared) and answers from canned
// handlers. Upgrade (attach) requests are answered with 101 and the handler's frames.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or buffer as is. */
  body?: unknown;
  /** For upgrade requests: bytes written after the 101 response, then the socket is ended. */
  upgrade?: Buffer;
  /** Delays the answer until this promise settles (lets a test order events). */
  after?: Promise<unknown>;
}

export type Handler = (req: Recorded) => Reply | undefined;

export interface FakeDaemon {
  socket: string;
  host: string;
  requests: Recorded[];
  /** Handlers tried in order; the first to return a reply answers. */
  handlers: Handler[];
  close(): Promise<void>;
}

function pingHandler(req: Recorded): Reply | undefined {
  if (req.url !== '/_ping') return undefined;
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'OK' };
}

export async function startFakeDaemon(handlers: Handler[] = []): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-fake-'));
  const socket = join(dir, 'd.sock');
  const requests: Recorded[] = [];
  const daemon: FakeDaemon = {
    socket,
    host: `unix://${socket}`,
    requests,
    handlers,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const answer = async (req: IncomingMessage, body: Buffer): Promise<Reply> => {
    const rec: Recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    requests.push(rec);
    for (const h of [pingHandler, ...daemon.handlers]) {
      const r = h(rec);
      if (r) {
        if (r.after) await r.after;
        return r;
      }
    }
    return { status: 404, body: { message: 'page not found' } };
  };
  const readBody = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const reply = await answer(req, await readBody(req));
      const headers: Record<string, string> = { 'Api-Version': '1.50', Ostype: 'linux', Server: 'fake', ...reply.headers };
      let payload: Buffer;
      if (Buffer.isBuffer(reply.body)) payload = reply.body;
      else if (typeof reply.body === 'string') payload = Buffer.from(reply.body);
      else if (reply.body === undefined) payload = Buffer.alloc(0);
      else {
        payload = Buffer.from(JSON.stringify(reply.body) + '\n');
        headers['Content-Type'] ??= 'application/json';
      }
      res.writeHead(reply.status ?? 200, headers);
      res.end(req.method === 'HEAD' ? undefined : payload);
    })();
  });
  server.on('upgrade', (req: IncomingMessage, sock: Duplex) => {
    void (async () => {
      // The client half-closes after sending stdin; collect what it sent.
      const chunks: Buffer[] = [];
      sock.on('data', (c: Buffer) => chunks.push(c));
      const reply = await answer(req, Buffer.alloc(0));
      if ((reply.status ?? 101) !== 101) {
        const body = JSON.stringify(reply.body ?? { message: 'error' });
        sock.end(`HTTP/1.1 ${reply.status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      if (reply.upgrade) sock.write(reply.upgrade);
      sock.on('end', () => {
        requests.push({ method: 'STDIN', url: req.url ?? '', headers: {}, body: Buffer.concat(chunks) });
        sock.end();
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return daemon;
}
