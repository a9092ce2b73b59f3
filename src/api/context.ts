// One API request as a route handler sees it: parameters, query helpers, and the ways to
// answer (JSON, empty, a stream, or a hijacked connection).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { badParameter } from '../util/errors.ts';
import { compareVersions } from './version.ts';

export type Filters = Record<string, string[]>;

export class Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly version: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  /** Set for requests that asked to upgrade the connection (attach, exec start). */
  readonly upgrade?: { socket: Duplex; head: Buffer };

  constructor(req: IncomingMessage, res: ServerResponse, version: string, query: URLSearchParams, upgrade?: { socket: Duplex; head: Buffer }) {
    this.req = req;
    this.res = res;
    this.version = version;
    this.query = query;
    this.upgrade = upgrade;
  }

  versionAtLeast(v: string): boolean {
    return compareVersions(this.version, v) >= 0;
  }

  /** Docker's boolean query values: "", "0", "no", "false" and "none" are false. */
  bool(name: string, dflt = false): boolean {
    const v = this.query.get(name);
    if (v === null) return dflt;
    const s = v.trim().toLowerCase();
    return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
  }

  int(name: string, dflt?: number): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) throw badParameter(`invalid value for ${name}: ${v}`);
    return n;
  }

  str(name: string): string | undefined {
    const v = this.query.get(name);
    return v === null ? undefined : v;
  }

  /** The `filters` query parameter: {"k":["v"]} or the legacy {"k":{"v":true}}. */
  filters(): Filters {
    const raw = this.query.get('filters');
    if (!raw) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badParameter(`invalid filter: ${raw}`);
    }
    const out: Filters = {};
    if (!parsed || typeof parsed !== 'object') return out;
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out[k] = v.map(String);
      else if (v && typeof v === 'object') out[k] = Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]);
      else throw badParameter(`invalid filter: ${raw}`);
    }
    return out;
  }

  async bodyBuffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** The JSON request body; {} when empty. 400 with Docker's wording when it is not JSON. */
  async json<T = Record<string, unknown>>(): Promise<T> {
    const buf = await this.bodyBuffer();
    if (buf.length === 0) return {} as T;
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch (err) {
      throw badParameter(`invalid JSON: ${(err as Error).message}`);
    }
  }

  send(status: number, body?: unknown): void {
    if (body === undefined) {
      this.res.writeHead(status);
      this.res.end();
      return;
    }
    const text = JSON.stringify(body) + '\n';
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }
}
