// Forwarding of queries the embedded server cannot answer itself. The client's query
// bytes go upstream unchanged (so EDNS options pass through); UDP first, then TCP when
// the upstream sets TC, as resolvers do (RFC 7766).
import dgram from 'node:dgram';
import net from 'node:net';
import { peekHeader } from './dns-codec.ts';

export interface Upstream { address: string; port: number }

function sameId(query: Buffer, reply: Buffer): boolean {
  return reply.length >= 12 && reply.readUInt16BE(0) === query.readUInt16BE(0);
}

/** One UDP exchange on a fresh socket (a fresh source port per query resists spoofing). */
export function queryUdp(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(up.address) ? 'udp6' : 'udp4');
    const done = (err: Error | null, reply?: Buffer) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err); else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${up.address}:${up.port} timed out (udp)`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('message', (msg, rinfo) => {
      // ignore stray datagrams that are not the answer to this query
      if (rinfo.address !== up.address || rinfo.port !== up.port || !sameId(query, msg)) return;
      done(null, msg);
    });
    sock.send(query, up.port, up.address, (err) => { if (err) done(err); });
  });
}

/** One TCP exchange: two-byte length prefix each way. */
export function queryTcp(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: up.address, port: up.port });
    let buffered = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(reply!);
    };
    const timer = setTimeout(() => done(new Error(`upstream ${up.address}:${up.port} timed out (tcp)`)), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error(`upstream ${up.address}:${up.port} closed the connection`)));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      if (buffered.length < 2) return;
      const n = buffered.readUInt16BE(0);
      if (buffered.length < 2 + n) return;
      const reply = buffered.subarray(2, 2 + n);
      if (!sameId(query, reply)) return done(new Error('upstream answered with a different id'));
      done(null, Buffer.from(reply));
    });
  });
}

/**
 * Tries each upstream in turn; returns the first reply (rcode whatever it is), or
 * undefined when every upstream failed or timed out (the caller answers SERVFAIL).
 */
export async function forwardQuery(upstreams: Upstream[], query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  for (const up of upstreams) {
    try {
      const reply = await queryUdp(up, query, timeoutMs);
      if (!peekHeader(reply)?.flags.tc) return reply;
      return await queryTcp(up, query, timeoutMs);
    } catch {
      // next upstream
    }
  }
  return undefined;
}
