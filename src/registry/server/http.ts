// Small response helpers shared by the route handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { regError } from './errors.ts';

export function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string | Uint8Array): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body === undefined) {
    if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  send(res, status, { 'Content-Type': contentType, ...headers }, JSON.stringify(value));
}

/** Reads a small request body (a manifest) whole; larger than limit is 413 SIZE_INVALID. */
export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw regError('SIZE_INVALID', { limit }, { status: 413, message: 'payload too large' });
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw regError('SIZE_INVALID', { limit }, { status: 413, message: 'payload too large' });
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
