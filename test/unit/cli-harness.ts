// Test harness for the CLI: a scripted stand-in for berthd that records every request (so the
// requests of berth and of the real docker CLI can be compared) and answers from canned
// handlers, and helpers that run `berth` (and `docker`) as child processes against it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
  /** For upgrade requests: bytes written after the 101 response. */
  upgrade?: Buffer;
  /** For upgrade requests: end the stream once written (the container exited), not at the client's half-close. */
  endStream?: boolean;
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
    for (const h of [...daemon.handlers, pingHandler]) {
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
      if (reply.endStream) {
        // Collect what the client sent so far, then close our side.
        setTimeout(() => {
          requests.push({ method: 'STDIN', url: req.url ?? '', headers: {}, body: Buffer.concat(chunks) });
          sock.end();
        }, 300);
        return;
      }
      sock.on('end', () => {
        requests.push({ method: 'STDIN', url: req.url ?? '', headers: {}, body: Buffer.concat(chunks) });
        sock.end();
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return daemon;
}

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = join(ROOT, 'node_modules/node/bin/node');
// "--": Node 26 would otherwise read an --env-file among the command's own arguments.
export const BERTH = [NODE, '--', join(ROOT, 'src/cli/main.ts')];

/** The real docker CLI, when installed: the reference for output and request compatibility. */
export const DOCKER: string[] | undefined = (() => {
  const r = spawnSync('docker', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /Docker version 28\./.test(r.stdout) ? ['docker'] : undefined;
})();

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
}

/** Runs a CLI (asynchronously: the fake daemon lives in this process) and collects its output. */
export async function runCli(bin: string[], args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const p = spawn(bin[0], [...bin.slice(1), ...args], {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  p.stdin.on('error', () => {});
  if (opts.stdin !== undefined) p.stdin.end(opts.stdin);
  else p.stdin.end();
  const code = await new Promise<number | null>((res) => p.on('close', (c) => res(c)));
  return { code, stdout, stderr };
}

/** docker's words for berth's: the expected berth text for a docker output. */
export function asBerth(s: string): string {
  return s.replace(/\bdocker\b/g, 'berth').replace(/\bDocker\b/g, 'Berth').replace(/docs\.berth\.com/g, 'docs.docker.com');
}

/** Requests as "METHOD URL" lines, without the pings (docker pings at different moments). */
export function requestLines(reqs: Recorded[]): string[] {
  return reqs.filter((r) => r.url !== '/_ping').map((r) => `${r.method} ${r.url}`);
}

export interface Comparison {
  docker: RunResult & { requests: Recorded[] };
  berth: RunResult & { requests: Recorded[] };
}

/** Runs docker and berth with the same arguments, each against its own fake daemon with the same handlers. */
export async function compareWithDocker(args: string[], handlers: Handler[], opts: RunOptions = {}): Promise<Comparison> {
  const config = mkdtempSync(join(tmpdir(), 'berth-cli-dockercfg-'));
  try {
    const env = { DOCKER_CONFIG: config, ...opts.env };
    const one = async (bin: string[]) => {
      const d = await startFakeDaemon(handlers);
      try {
        const r = await runCli(bin, ['-H', d.host, ...args], { ...opts, env });
        return { ...r, requests: d.requests };
      } finally {
        await d.close();
      }
    };
    return { docker: await one(DOCKER!), berth: await one(BERTH) };
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}

/** The path of a request without its /vX.Y prefix and query. */
export function routeOf(url: string): string {
  return url.split('?')[0].replace(/^\/v\d+\.\d+/, '');
}

/** A handler answering "METHOD /path" keys (path without version and query) with fixed replies. */
export function canned(replies: Record<string, Reply>): Handler {
  return (req) => replies[`${req.method} ${routeOf(req.url)}`];
}

/** One multiplexed stream frame (stream 1 stdout, 2 stderr). */
export function frame(stream: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}
