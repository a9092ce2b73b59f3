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
 * Takes over the connection for a bidirectional stream, as dockerd answers attach and exec
 * start. Upgrade requests (what the docker CLI sends: "Connection: Upgrade, Upgrade: tcp")
 * get "101 UPGRADED" with the stream's type (multiplexed only from API 1.42 on: older
 * clients always got raw-stream); plain ones get a 200 whose body is the stream, always
 * labelled raw-stream.
 */
export function hijack(ctx: Context, contentType: string): Duplex {
  if (ctx.upgrade) {
    const { socket, head } = ctx.upgrade;
    // The client half-closes after its stdin ends; output must keep flowing until the
    // container stops.
    socket.allowHalfOpen = true;
    const type = contentType === MULTIPLEXED && !ctx.versionAtLeast('1.42') ? RAW_STREAM : contentType;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (head.length) socket.unshift(head);
    return socket;
  }
  const socket = ctx.req.socket;
  socket.allowHalfOpen = true;
  ctx.res.detachSocket(socket);
  // node's HTTP server would read the client's input as its next request: unhook it as
  // node does at an upgrade (the stream's first reader then takes the socket back).
  for (const event of ['data', 'end', 'timeout'] as const) socket.removeAllListeners(event);
  socket.setTimeout(0);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${RAW_STREAM}\r\n\r\n`);
  return socket;
}

/**
 * Answers an error on a connection about to be hijacked as dockerd does there: a bare
 * status line, the stream's content type and the message as plain text, then the
 * connection closes.
 */
export function hijackError(ctx: Context, status: number, message: string): void {
  ctx.res.writeHead(status, { 'Content-Type': RAW_STREAM, Connection: 'close' });
  ctx.res.end(message + '\r\n');
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
