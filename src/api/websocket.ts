// WebSocket (RFC 6455) server side, for GET /containers/{id}/attach/ws: the handshake,
// frame parsing and writing, on the raw socket node:http hands over at an upgrade.
// It answers as dockerd's golang.org/x/net/websocket server does: the same handshake
// checks and error texts; client frames must be masked (else close 1002); a ping gets a
// pong; a close frame from the client ends its input; one frame per write, unmasked.
import { createHash } from 'node:crypto';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import type { Context } from './context.ts';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_CONTROL_PAYLOAD = 125;

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** One frame, FIN set; masked when a key is given (clients must mask, servers must not). */
export function encodeFrame(opcode: number, payload: Uint8Array = new Uint8Array(0), mask?: Uint8Array): Buffer {
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + extra + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (extra === 0 ? len : extra === 2 ? 126 : 127);
  if (extra === 2) head.writeUInt16BE(len, 2);
  else if (extra === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  head.set(mask, 2 + extra);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, body]);
}

export type FrameEvent =
  /** Part of a text, binary or continuation frame's payload, unmasked, as it arrives. */
  | { kind: 'data'; opcode: number; data: Buffer }
  /** A whole control frame (close, ping, pong). */
  | { kind: 'control'; opcode: number; payload: Buffer }
  /** The peer broke the protocol: close with this status. */
  | { kind: 'error'; status: number };

/**
 * Splits a byte stream into frame events. Data payloads are handed on piecewise (a large
 * frame is never held whole); control frames, at most 125 bytes, whole.
 */
export class FrameParser {
  private readonly requireMask: boolean;
  private header: Buffer = Buffer.alloc(0);
  /** Set while a frame's payload is being read. */
  private frame: { opcode: number; mask?: Buffer; left: number; offset: number; control: Buffer[] } | undefined;
  private failed = false;

  constructor(opts: { requireMask: boolean }) {
    this.requireMask = opts.requireMask;
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    let buf: Buffer = chunk;
    while (!this.failed && buf.length > 0) {
      if (!this.frame) {
        this.header = this.header.length ? Buffer.concat([this.header, buf]) : buf;
        buf = Buffer.alloc(0);
        const parsed = this.parseHeader(events);
        if (!parsed) break;
        buf = this.header.subarray(parsed.used);
        this.header = Buffer.alloc(0);
        this.frame = parsed.frame;
        if (this.frame.left === 0) this.endFrame(events);
        continue;
      }
      const f = this.frame;
      const n = Math.min(f.left, buf.length);
      const part = Buffer.from(buf.subarray(0, n));
      buf = buf.subarray(n);
      if (f.mask) for (let i = 0; i < part.length; i++) part[i]! ^= f.mask[(f.offset + i) & 3]!;
      f.offset += n;
      f.left -= n;
      if (f.opcode >= 0x8) f.control.push(part);
      else if (part.length) events.push({ kind: 'data', opcode: f.opcode, data: part });
      if (f.left === 0) this.endFrame(events);
    }
    return events;
  }

  private endFrame(events: FrameEvent[]): void {
    const f = this.frame!;
    this.frame = undefined;
    if (f.opcode >= 0x8) events.push({ kind: 'control', opcode: f.opcode, payload: Buffer.concat(f.control) });
  }

  private parseHeader(events: FrameEvent[]): { used: number; frame: NonNullable<FrameParser['frame']> } | undefined {
    const h = this.header;
    if (h.length < 2) return undefined;
    const opcode = h[0]! & 0x0f;
    const masked = (h[1]! & 0x80) !== 0;
    let len = h[1]! & 0x7f;
    let pos = 2;
    if (len === 126) {
      if (h.length < 4) return undefined;
      len = h.readUInt16BE(2);
      pos = 4;
    } else if (len === 127) {
      if (h.length < 10) return undefined;
      const big = h.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.fail(events);
      len = Number(big);
      pos = 10;
    }
    if (masked && h.length < pos + 4) return undefined;
    if (this.requireMask !== masked) return this.fail(events);
    if (opcode >= 0x8 && len > MAX_CONTROL_PAYLOAD) return this.fail(events);
    const mask = masked ? Buffer.from(h.subarray(pos, pos + 4)) : undefined;
    return { used: pos + (masked ? 4 : 0), frame: { opcode, mask, left: len, offset: 0, control: [] } };
  }

  private fail(events: FrameEvent[]): undefined {
    this.failed = true;
    events.push({ kind: 'error', status: CLOSE_PROTOCOL_ERROR });
    return undefined;
  }
}

/** Why a handshake is refused, as x/net/websocket words it; undefined when it is fine. */
export function handshakeProblem(ctx: Context): { status: number; text: string; body: string; headers?: Record<string, string> } | undefined {
  const h = ctx.req.headers;
  if (ctx.req.method !== 'GET') return { status: 405, text: 'Method Not Allowed', body: 'bad method' };
  if (String(h.upgrade ?? '').toLowerCase() !== 'websocket' || !String(h.connection ?? '').toLowerCase().includes('upgrade')) {
    return { status: 400, text: 'Bad Request', body: 'not websocket protocol' };
  }
  if (!h['sec-websocket-key']) return { status: 400, text: 'Bad Request', body: 'mismatch challenge/response' };
  if (h['sec-websocket-version'] !== '13') {
    return { status: 400, text: 'Bad Request', body: 'missing or bad WebSocket Version', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  // x/net/websocket cannot choose among several subprotocols and refuses the handshake.
  if (offeredProtocols(ctx).length > 1) return { status: 400, text: 'Bad Request', body: '' };
  return undefined;
}

function offeredProtocols(ctx: Context): string[] {
  const raw = String(ctx.req.headers['sec-websocket-protocol'] ?? '').trim();
  return raw ? raw.split(',').map((p) => p.trim()) : [];
}

/** An accepted WebSocket: output frames out, input payloads in. */
export class WebSocketConnection {
  readonly socket: Duplex;
  /** The payload bytes of the client's text and binary frames; ends at a close frame. */
  readonly input: Readable;
  private readonly opcode: number;
  private closed = false;

  constructor(socket: Duplex, opts: { binary: boolean }) {
    this.socket = socket;
    this.opcode = opts.binary ? OP_BINARY : OP_TEXT;
    const input = new PassThrough();
    input.on('error', () => {});
    this.input = input;
    const parser = new FrameParser({ requireMask: true });
    let inputOpen = true;
    const endInput = () => {
      if (!inputOpen) return;
      inputOpen = false;
      input.end();
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of parser.push(chunk)) {
        if (ev.kind === 'data') {
          if (inputOpen && input.writable && !input.write(ev.data)) {
            socket.pause();
            input.once('drain', () => socket.resume());
          }
        } else if (ev.kind === 'control') {
          if (ev.opcode === OP_PING) this.write(OP_PONG, ev.payload);
          else if (ev.opcode === OP_CLOSE) endInput();
        } else {
          endInput();
          this.close(ev.status);
        }
      }
    });
    socket.on('end', endInput);
    socket.on('close', endInput);
    socket.on('error', () => socket.destroy());
  }

  /** One frame of output. */
  send(data: Uint8Array): void {
    this.write(this.opcode, data);
  }

  /** Sends a close frame and ends the connection once it is written. */
  close(status = CLOSE_NORMAL): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(status);
    this.write(OP_CLOSE, payload);
    this.closed = true;
    this.socket.end();
    // Whatever the client still sends is of no interest now.
    this.socket.once('finish', () => this.socket.destroy());
  }

  private write(opcode: number, payload: Uint8Array): void {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodeFrame(opcode, payload));
  }
}

/**
 * Completes the handshake and returns the connection; on a bad handshake answers as
 * x/net/websocket does and returns undefined.
 */
export function acceptWebSocket(ctx: Context, opts: { binary: boolean }): WebSocketConnection | undefined {
  const problem = handshakeProblem(ctx);
  if (problem) {
    ctx.res.writeHead(problem.status, problem.text, { ...problem.headers, 'Content-Length': Buffer.byteLength(problem.body), Connection: 'close' });
    ctx.res.end(problem.body);
    return undefined;
  }
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(String(ctx.req.headers['sec-websocket-key']))}`];
  const [protocol] = offeredProtocols(ctx);
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  let socket: Duplex;
  let head: Buffer = Buffer.alloc(0);
  if (ctx.upgrade) {
    socket = ctx.upgrade.socket;
    head = ctx.upgrade.head;
  } else {
    socket = ctx.req.socket;
    ctx.res.detachSocket(ctx.req.socket);
  }
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  if (head.length) socket.unshift(head);
  return new WebSocketConnection(socket, opts);
}
