// The embedded DNS server (Docker's 127.0.0.11 resolver): names of containers and aliases
// are answered from the resolver callback, everything else is forwarded upstream.
//
// Where it listens: berthd runs one per user network on the network's gateway address
// (network-dns.ts); inside each container an nft table redirects 127.0.0.11:53 there, and
// the resolver tells the askers apart by their source address.
import dgram from 'node:dgram';
import net from 'node:net';
import {
  CLASS_IN, DnsFormatError, RCODE, TYPE, canonicalName, decodeMessage, encodeMessage, maxUdpSize, peekHeader,
} from './dns-codec.ts';
import type { DnsMessage, DnsRecord } from './dns-codec.ts';
import { forwardQuery } from './dns-upstream.ts';
import type { Upstream } from './dns-upstream.ts';

export interface DnsClient { address: string; port: number; transport: 'udp' | 'tcp' }

export interface DnsResolver {
  /** IPv4 addresses of a container name or alias visible to `scope`; empty when unknown. */
  lookup(scope: string, name: string, client: DnsClient): readonly string[] | Promise<readonly string[]>;
  /** Names (first is canonical) for one of our container addresses; empty when unknown. */
  reverse?(scope: string, ipv4: string, client: DnsClient): readonly string[] | Promise<readonly string[]>;
}

export interface DnsServerOptions {
  resolver: DnsResolver;
  /** Passed to the resolver: which container/network this server answers for. */
  scope?: string;
  /** Where to forward other names (a function is asked per query, so resolv.conf edits apply). */
  upstreams?: Upstream[] | ((scope: string, client: DnsClient) => Upstream[]);
  /** Answer for names we cannot forward for lack of upstreams: NXDOMAIN unless set (Docker: SERVFAIL). */
  noUpstreamRcode?: number;
  /** Per-upstream, per-transport timeout. */
  upstreamTimeoutMs?: number;
  /** TTL of the records we answer ourselves (Docker uses 600). */
  ttl?: number;
  /** Sockets already bound (e.g. inside a container's netns); otherwise listen() binds. */
  udp?: dgram.Socket;
  tcp?: net.Server;
}

const TCP_IDLE_MS = 10_000;

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4", or undefined when not a full IPv4 reverse name. */
function reverseToIPv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m || m.slice(1).some((p) => Number(p) > 255)) return undefined;
  return [m[4], m[3], m[2], m[1]].map(Number).join('.');
}

export class DnsServer {
  private readonly opts: DnsServerOptions;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();

  constructor(opts: DnsServerOptions) {
    this.opts = opts;
    if (opts.udp) this.attachUdp(opts.udp);
    if (opts.tcp) this.attachTcp(opts.tcp);
  }

  /** Binds UDP and TCP on address:port (port 0: the same random port for both, when free). */
  async listen(address: string, port = 0): Promise<{ udpPort: number; tcpPort: number }> {
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: address, port, exclusive: true }, () => { tcp.off('error', reject); resolve(); });
    });
    const tcpPort = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port: tcpPort, exclusive: true }, () => { udp.off('error', reject); resolve(); });
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw err;
    }
    this.attachTcp(tcp);
    this.attachUdp(udp);
    return { udpPort: udp.address().port, tcpPort };
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private attachUdp(sock: dgram.Socket): void {
    this.udp = sock;
    sock.on('error', () => { /* a bad send must not kill the daemon */ });
    sock.on('message', (msg, rinfo) => {
      const client: DnsClient = { address: rinfo.address, port: rinfo.port, transport: 'udp' };
      this.handle(msg, client).then((reply) => {
        if (reply && this.udp === sock) sock.send(reply, rinfo.port, rinfo.address);
      }, () => { /* handle() never rejects; belt and braces */ });
    });
  }

  private attachTcp(server: net.Server): void {
    this.tcp = server;
    server.on('error', () => {});
    server.on('connection', (conn) => {
      this.conns.add(conn);
      conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
      conn.on('close', () => this.conns.delete(conn));
      conn.on('error', () => {});
      const client: DnsClient = { address: conn.remoteAddress ?? '', port: conn.remotePort ?? 0, transport: 'tcp' };
      let buffered = Buffer.alloc(0);
      conn.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk as Buffer]);
        while (buffered.length >= 2) {
          const n = buffered.readUInt16BE(0);
          if (buffered.length < 2 + n) break;
          const msg = Buffer.from(buffered.subarray(2, 2 + n));
          buffered = buffered.subarray(2 + n);
          this.handle(msg, client).then((reply) => {
            if (!reply || conn.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            conn.write(Buffer.concat([len, reply]));
          }, () => {});
        }
      });
    });
  }

  /** Answers one query message; undefined means send nothing (not even a header to echo). */
  async handle(msg: Buffer, client: DnsClient): Promise<Buffer | undefined> {
    const header = peekHeader(msg);
    if (!header || header.flags.qr) return undefined; // never answer responses (reflection loops)
    let query: DnsMessage;
    try {
      query = decodeMessage(msg);
    } catch (err) {
      if (!(err instanceof DnsFormatError)) throw err;
      return this.errorReply(header.id, header.flags.opcode, header.flags.rd, RCODE.FORMERR);
    }
    if (query.flags.opcode !== 0) return this.errorReply(query.id, query.flags.opcode, query.flags.rd, RCODE.NOTIMP, query);
    if (query.questions.length !== 1) return this.errorReply(query.id, 0, query.flags.rd, RCODE.FORMERR, query);
    try {
      const reply = await this.answer(query, msg, client);
      return client.transport === 'udp' ? this.fitUdp(reply, query) : reply;
    } catch {
      return this.errorReply(query.id, 0, query.flags.rd, RCODE.SERVFAIL, query);
    }
  }

  private async answer(query: DnsMessage, raw: Buffer, client: DnsClient): Promise<Buffer> {
    const q = query.questions[0]!;
    const name = canonicalName(q.name);
    const scope = this.opts.scope ?? '';
    const ttl = this.opts.ttl ?? 600;
    if (q.class === CLASS_IN && q.type === TYPE.PTR) {
      const ip = reverseToIPv4(name);
      const names = ip && this.opts.resolver.reverse ? await this.opts.resolver.reverse(scope, ip, client) : [];
      if (names.length > 0) {
        return this.localReply(query, [{ name: q.name, type: TYPE.PTR, class: CLASS_IN, ttl, data: names[0]! }]);
      }
    } else if (q.class === CLASS_IN && name.length > 0) {
      const addrs = await this.opts.resolver.lookup(scope, name, client);
      if (addrs.length > 0) {
        // A (or ANY) gets the addresses; AAAA and other types get NODATA, as Docker answers
        // for containers without IPv6.
        const wantsA = q.type === TYPE.A || q.type === TYPE.ANY;
        const answers: DnsRecord[] = wantsA
          ? addrs.map((a) => ({ name: q.name, type: TYPE.A, class: CLASS_IN, ttl, data: a }))
          : [];
        return this.localReply(query, answers);
      }
    }
    const configured = this.opts.upstreams ?? [];
    const upstreams = typeof configured === 'function' ? configured(scope, client) : configured;
    if (upstreams.length === 0) {
      return this.errorReply(query.id, 0, query.flags.rd, this.opts.noUpstreamRcode ?? RCODE.NXDOMAIN, query);
    }
    const reply = await forwardQuery(upstreams, raw, this.opts.upstreamTimeoutMs ?? 2000);
    if (!reply) return this.errorReply(query.id, 0, query.flags.rd, RCODE.SERVFAIL, query);
    return reply;
  }

  private localReply(query: DnsMessage, answers: DnsRecord[]): Buffer {
    return encodeMessage({
      id: query.id,
      flags: { qr: true, opcode: 0, aa: true, tc: false, rd: query.flags.rd, ra: true, rcode: RCODE.NOERROR },
      questions: query.questions, answers, authority: [], additional: this.ednsEcho(query),
    });
  }

  /** Echo an OPT record when the client sent one, advertising our own (modest) UDP size. */
  private ednsEcho(query: DnsMessage): DnsRecord[] {
    return query.additional.some((rr) => rr.type === TYPE.OPT)
      ? [{ name: '', type: TYPE.OPT, class: 1232, ttl: 0, data: Buffer.alloc(0) }]
      : [];
  }

  private errorReply(id: number, opcode: number, rd: boolean, rcode: number, query?: DnsMessage): Buffer {
    return encodeMessage({
      id,
      flags: { qr: true, opcode, aa: false, tc: false, rd, ra: true, rcode },
      questions: query?.questions ?? [], answers: [], authority: [], additional: query ? this.ednsEcho(query) : [],
    });
  }

  /** A reply too big for the client's UDP size becomes a truncated (TC) header + question. */
  private fitUdp(reply: Buffer, query: DnsMessage): Buffer {
    if (reply.length <= maxUdpSize(query)) return reply;
    const parsed = peekHeader(reply)!;
    return encodeMessage({
      id: query.id,
      flags: { ...parsed.flags, tc: true },
      questions: query.questions, answers: [], authority: [], additional: [],
    });
  }
}
