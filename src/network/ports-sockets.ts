// Host sockets that keep a published port reserved: while berth holds a socket
// bound to hostIp:port, no other program can take the port, and taking it fails
// right away if someone else has it. Traffic never reaches these sockets: the
// DNAT rules rewrite it to the container before the local socket lookup.
// (dockerd binds without listening until its rules are in; Node cannot bind a TCP
// socket without listening, so a connection that slips in before the rules is
// closed at once.) SCTP has no Node socket API: those ports are only tracked.

import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import type { PortProto } from './ports-spec.ts';

export interface HeldPort {
  /** the port actually bound (the kernel's pick when 0 was asked) */
  port: number;
  close(): Promise<void>;
}

/** Binds proto hostIp:port (0 = the kernel picks from ip_local_port_range). Rejects with the errno error (code EADDRINUSE...). */
export function holdPort(proto: PortProto, hostIp: string, port: number): Promise<HeldPort> {
  if (proto === 'tcp') return holdTcp(hostIp, port);
  if (proto === 'udp') return holdUdp(hostIp, port);
  return Promise.resolve({ port, close: async () => {} });
}

function holdTcp(host: string, port: number): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const srv = createServer((c) => c.destroy());
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true, backlog: 1 }, () => {
      srv.off('error', reject);
      srv.on('error', () => {}); // a held socket has nothing to report
      srv.unref();
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ port: bound, close: () => new Promise<void>((r) => srv.close(() => r())) });
    });
  });
}

function holdUdp(host: string, port: number): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', (err) => { try { sock.close(); } catch { /* never bound */ } reject(err); });
    sock.on('message', () => {}); // anything that arrives before the rules is dropped
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => {});
      sock.unref();
      resolve({ port: sock.address().port, close: () => new Promise<void>((r) => { try { sock.close(() => r()); } catch { r(); } }) });
    });
  });
}

/** The kernel's ephemeral range, where dockerd also picks random host ports. */
export async function localPortRange(): Promise<{ low: number; high: number }> {
  try {
    const [low, high] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return { low, high };
  } catch { /* fall through to the kernel's default */ }
  return { low: 32768, high: 60999 };
}

/** Go's wording for the errno (Docker's messages end with it). */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const texts: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'cannot assign requested address',
    EACCES: 'permission denied',
    EINVAL: 'invalid argument',
  };
  return (code && texts[code]) || (err instanceof Error ? err.message : String(err));
}
