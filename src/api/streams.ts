// Streams the Engine API speaks: hijacked connections (attach, exec), the 8-byte-header
// multiplexed stdout/stderr frames, and newline-delimited JSON progress.
import type { Duplex, Writable } from 'node:stream';
import type { Context } from './context.ts';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/** One multiplexed frame: [stream, 0, 0, 0, size (big-endian u32)] then the payload. */
export function frame(stream: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + data.length);
  out[0] = stream;
  out[1] = out[2] = out[3] = 0;
  out.writeUInt32BE(data.length, 4);
  out.set(data, 8);
  return out;
}

/**
 * Takes over the connection for a bidirectional stream. Upgrade requests (what the docker
 * CLI sends: "Connection: Upgrade, Upgrade: tcp") get "101 UPGRADED"; plain ones get a
 * 200 whose body is the stream, as dockerd answers older clients.
 */
export function hijack(ctx: Context, contentType: string): Duplex {
  if (ctx.upgrade) {
    const { socket, head } = ctx.upgrade;
    // The client half-closes after its stdin ends; output must keep flowing until the
    // container stops.
    socket.allowHalfOpen = true;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (head.length) socket.unshift(head);
    return socket;
  }
  const socket = ctx.req.socket;
  socket.allowHalfOpen = true;
  ctx.res.detachSocket(socket);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nConnection: close\r\n\r\n`);
  return socket;
}

/** Starts a chunked newline-delimited JSON response (pull/load/import progress, events). */
export function jsonStream(ctx: Context, status = 200): { write(obj: unknown): void; end(): void; out: Writable } {
  ctx.res.writeHead(status, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  return {
    write: (obj) => void ctx.res.write(JSON.stringify(obj) + '\r\n'),
    end: () => void ctx.res.end(),
    out: ctx.res,
  };
}
