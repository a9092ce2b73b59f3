// The WebSocket server side (src/api/websocket.ts): frames parsed from arbitrary splits,
// masking rules, control frames, and the handshake over a real node:http server with a
// client written here from RFC 6455 (not with the module's own encoder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { acceptKey, acceptWebSocket, encodeFrame, FrameParser, type FrameEvent, type WebSocketConnection } from '../../src/api/websocket.ts';
import { Context } from '../../src/api/context.ts';

/** A client frame as RFC 6455 section 5.2 lays it out: FIN, opcode, MASK bit, length, key, masked payload. */
function clientFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; masked?: boolean } = {}): Buffer {
  const data = Buffer.from(payload);
  const masked = opts.masked ?? true;
  const bytes: number[] = [(opts.fin === false ? 0 : 0x80) | opcode];
  const m = masked ? 0x80 : 0;
  if (data.length < 126) bytes.push(m | data.length);
  else if (data.length < 65536) bytes.push(m | 126, data.length >> 8, data.length & 0xff);
  else {
    bytes.push(m | 127, 0, 0, 0, 0);
    for (let shift = 24; shift >= 0; shift -= 8) bytes.push((data.length >>> shift) & 0xff);
  }
  if (!masked) return Buffer.concat([Buffer.from(bytes), data]);
  const key = randomBytes(4);
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(bytes), key, body]);
}

/** Reads server frames (unmasked) from a buffer: [{opcode, payload}], and the rest. */
function serverFrames(buf: Buffer): { frames: Array<{ opcode: number; fin: boolean; masked: boolean; payload: Buffer }>; rest: Buffer } {
  const frames = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const b0 = buf[pos]!;
    const b1 = buf[pos + 1]!;
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len === 126) {
      if (buf.length - pos < 4) break;
      len = buf.readUInt16BE(pos + 2);
      hdr = 4;
    } else if (len === 127) {
      if (buf.length - pos < 10) break;
      len = Number(buf.readBigUInt64BE(pos + 2));
      hdr = 10;
    }
    if (buf.length - pos < hdr + len) break;
    frames.push({ opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, masked: (b1 & 0x80) !== 0, payload: buf.subarray(pos + hdr, pos + hdr + len) });
    pos += hdr + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

/** Fails (instead of hanging) when a promise does not settle in time. */
async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function dataOf(events: FrameEvent[]): string {
  return Buffer.concat(events.filter((e) => e.kind === 'data').map((e) => (e as { data: Buffer }).data)).toString();
}

test('acceptKey: the RFC 6455 example', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('parser: masked frames of every length form, split at every byte', () => {
  const small = 'hello';
  const medium = 'm'.repeat(300);
  const large = Buffer.alloc(70_000, 'L').toString();
  const stream = Buffer.concat([clientFrame(1, small), clientFrame(2, medium), clientFrame(2, large), clientFrame(9, 'ping!')]);
  // All at once.
  const whole = new FrameParser({ requireMask: true }).push(stream);
  assert.equal(dataOf(whole), small + medium + large);
  assert.deepEqual(whole.at(-1), { kind: 'control', opcode: 9, payload: Buffer.from('ping!') });
  // One byte at a time: the same bytes, piecewise.
  const p = new FrameParser({ requireMask: true });
  const events: FrameEvent[] = [];
  for (let i = 0; i < stream.length; i++) events.push(...p.push(stream.subarray(i, i + 1)));
  assert.equal(dataOf(events), small + medium + large);
  assert.equal(events.filter((e) => e.kind === 'control').length, 1);
  // Continuation frames carry on the message.
  const cont = new FrameParser({ requireMask: true }).push(Buffer.concat([clientFrame(1, 'ab', { fin: false }), clientFrame(0, 'cd')]));
  assert.equal(dataOf(cont), 'abcd');
});

test('parser: unmasked client frames and oversized control frames are protocol errors', () => {
  assert.deepEqual(new FrameParser({ requireMask: true }).push(clientFrame(2, 'x', { masked: false })), [{ kind: 'error', status: 1002 }]);
  assert.deepEqual(new FrameParser({ requireMask: true }).push(clientFrame(9, 'p'.repeat(126))), [{ kind: 'error', status: 1002 }]);
  // The server's own frames: unmasked, FIN set, payload as is.
  const { frames } = serverFrames(encodeFrame(2, Buffer.from('out')));
  assert.deepEqual(frames, [{ opcode: 2, fin: true, masked: false, payload: Buffer.from('out') }]);
  assert.equal(dataOf(new FrameParser({ requireMask: false }).push(encodeFrame(1, Buffer.alloc(70_000, 'z')))).length, 70_000);
});

/** A server whose every upgrade goes to `handle` with a Context, as berthd's does. */
async function withServer(handle: (ctx: Context) => void, body: (path: string) => Promise<void>): Promise<void> {
  const path = `/tmp/berth-ws-test-${randomBytes(4).toString('hex')}.sock`;
  const server: Server = createServer((req, res) => handle(new Context(req, res, '1.50', new URL(req.url ?? '/', 'http://x').searchParams)));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.on('finish', () => socket.end());
    handle(new Context(req, res, '1.50', new URL(req.url ?? '/', 'http://x').searchParams, { socket, head }));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(path, r));
  try {
    await body(path);
  } finally {
    // Upgraded connections are no longer the server's to close.
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A raw client connection: sends bytes, collects everything that comes back. */
function rawClient(path: string): Promise<{ sock: Socket; received: () => Buffer; waitFor: (cond: (b: Buffer) => boolean) => Promise<Buffer>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let got = Buffer.alloc(0);
    const waiters: Array<() => void> = [];
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<void>((r) => sock.on('close', () => {
      for (const w of waiters.splice(0)) w();
      r();
    }));
    sock.on('error', () => {});
    const waitFor = async (cond: (b: Buffer) => boolean) => {
      const deadline = Date.now() + 5000;
      while (!cond(got)) {
        if (sock.destroyed && !cond(got)) throw new Error(`connection closed; got ${JSON.stringify(got.toString('latin1'))}`);
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(got.toString('latin1'))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return got;
    };
    sock.once('connect', () => resolve({ sock, received: () => got, waitFor, closed }));
    sock.once('error', reject);
  });
}

function upgradeRequest(key: string, extra = ''): string {
  return `GET /containers/c/attach/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

test('handshake and echo: 101 with the accept key, input frames in, binary frames out, ping answered, close', async () => {
  let conn: WebSocketConnection | undefined;
  await withServer(
    (ctx) => {
      conn = acceptWebSocket(ctx, { binary: true });
      if (!conn) return;
      const ws = conn;
      void (async () => {
        for await (const chunk of ws.input) ws.send(Buffer.from(`echo:${chunk}`));
        ws.send(Buffer.from('input ended'));
        ws.close();
      })();
    },
    async (path) => {
      const c = await rawClient(path);
      const key = randomBytes(16).toString('base64');
      c.sock.write(upgradeRequest(key));
      const head = await c.waitFor((b) => b.includes('\r\n\r\n'));
      const text = head.subarray(0, head.indexOf('\r\n\r\n')).toString();
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(text, /\r\nUpgrade: websocket/);
      assert.match(text, /\r\nConnection: Upgrade/);
      assert.ok(text.includes(`\r\nSec-WebSocket-Accept: ${acceptKey(key)}`));
      const afterHead = () => c.received().subarray(c.received().indexOf('\r\n\r\n') + 4);
      c.sock.write(clientFrame(2, 'one'));
      c.sock.write(clientFrame(9, 'are you there'));
      await c.waitFor(() => serverFrames(afterHead()).frames.length >= 2);
      // The pong is written at once; the echo comes after the input is read: either order.
      const first = serverFrames(afterHead()).frames;
      const echo = first.find((f) => f.opcode === 2);
      const pong = first.find((f) => f.opcode === 10);
      assert.deepEqual(echo, { opcode: 2, fin: true, masked: false, payload: Buffer.from('echo:one') });
      assert.deepEqual(pong, { opcode: 10, fin: true, masked: false, payload: Buffer.from('are you there') });
      // A close frame ends the input; the server says its last word and closes with 1000.
      c.sock.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
      await within(c.closed, 'the connection closing');
      const frames = serverFrames(afterHead()).frames;
      assert.deepEqual(frames.at(-2)?.payload, Buffer.from('input ended'));
      assert.equal(frames.at(-1)?.opcode, 8);
      assert.equal(frames.at(-1)?.payload.readUInt16BE(0), 1000);
    },
  );
});

test('handshake refused as x/net/websocket refuses it; text frames before API 1.28', async () => {
  await withServer(
    (ctx) => {
      const ws = acceptWebSocket(ctx, { binary: false });
      ws?.send(Buffer.from('hi'));
      ws?.close();
    },
    async (path) => {
      const plain = await rawClient(path);
      plain.sock.write('GET /containers/c/attach/ws HTTP/1.1\r\nHost: x\r\n\r\n');
      await within(plain.closed, 'the connection closing');
      assert.match(plain.received().toString(), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nnot websocket protocol$/);

      const badVersion = await rawClient(path);
      badVersion.sock.write(upgradeRequest('a2V5', '').replace('Version: 13', 'Version: 8'));
      await within(badVersion.closed, 'the connection closing');
      const v = badVersion.received().toString();
      assert.match(v, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(v, /\r\nSec-WebSocket-Version: 13\r\n/);
      assert.ok(v.endsWith('\r\n\r\nmissing or bad WebSocket Version'));

      const noKey = await rawClient(path);
      noKey.sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n');
      await within(noKey.closed, 'the connection closing');
      assert.ok(noKey.received().toString().endsWith('\r\n\r\nmismatch challenge/response'));

      const text = await rawClient(path);
      text.sock.write(upgradeRequest('a2V5', 'Sec-WebSocket-Protocol: chat\r\n'));
      await within(text.closed, 'the connection closing');
      const got = text.received();
      const head = got.subarray(0, got.indexOf('\r\n\r\n')).toString();
      assert.match(head, /\r\nSec-WebSocket-Protocol: chat/);
      const { frames } = serverFrames(got.subarray(got.indexOf('\r\n\r\n') + 4));
      assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString('latin1')]), [[1, 'hi'], [8, '\x03\xe8']]);
    },
  );
});

test('an unmasked client frame gets close 1002 and ends the input', async () => {
  let ended = false;
  await withServer(
    (ctx) => {
      const ws = acceptWebSocket(ctx, { binary: true });
      ws?.input.on('end', () => (ended = true)).resume();
    },
    async (path) => {
      const c = await rawClient(path);
      c.sock.write(upgradeRequest('a2V5'));
      await c.waitFor((b) => b.includes('\r\n\r\n'));
      c.sock.write(clientFrame(2, 'naked', { masked: false }));
      await within(c.closed, 'the connection closing');
      const got = c.received();
      const { frames } = serverFrames(got.subarray(got.indexOf('\r\n\r\n') + 4));
      assert.equal(frames.at(-1)?.opcode, 8);
      assert.equal(frames.at(-1)?.payload.readUInt16BE(0), 1002);
      assert.equal(ended, true);
    },
  );
});
