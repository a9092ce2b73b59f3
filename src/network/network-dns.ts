// The embedded DNS (Docker's 127.0.0.11) for user-defined networks, served from the
// host side: one UDP+TCP listener per network, bound on the network's gateway address
// in berthd's own namespace, and in each container's netns an nft redirect of
// 127.0.0.11:53 to it (network-dns-redirect.ts). The redirect SNATs to the container's
// address, so the source address of a query says which container asks; the directory
// answers only names that container may see (isolation between networks).
// A network keeps its port across daemon restarts (state file), so the redirects left
// in running containers' namespaces stay valid without touching them again.
import { RCODE } from './dns-codec.ts';
import { DnsServer } from './dns-server.ts';
import type { DnsResolver } from './dns-server.ts';
import type { Upstream } from './dns-upstream.ts';
import { hostUpstreams } from './network-dns-upstreams.ts';
import { checkIPv4, checkToken, installNetworkDnsRedirect, removeNetworkDnsRedirect } from './network-dns-redirect.ts';
import { readJson, writeJsonAtomic } from '../util/atomic.ts';
import { conflict, systemError } from '../util/errors.ts';
import { log } from '../util/log.ts';

export interface DnsDirectory {
  /** IPv4 addresses for `name` as seen by the container at `clientIp` on network `networkId` ([] unknown). */
  lookup(networkId: string, clientIp: string, name: string): string[];
  /** Names for `ip` as seen from that client (first canonical), [] unknown. */
  reverse(networkId: string, clientIp: string, ip: string): string[];
  /** The client's own resolvers (its --dns), where others go; empty: the host's. */
  upstreams?(networkId: string, clientIp: string): Array<{ address: string; port: number }>;
}

export interface NetworkDnsOptions {
  directory: DnsDirectory;
  /** JSON {networkId: port}, rewritten atomically. */
  stateFile: string;
  upstreams?: () => Array<{ address: string; port: number }>;
}

interface Listener { gateway: string; port: number; server: DnsServer }
interface Attachment { networkId: string; containerIp: string; ifname: string }

/** Tries for a random port: the TCP port picked may be taken on UDP. */
const RANDOM_PORT_TRIES = 8;

function isAddrInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

export class NetworkDns {
  private readonly directory: DnsDirectory;
  private readonly stateFile: string;
  private readonly upstreamSource: () => Upstream[];
  private readonly listeners = new Map<string, Listener>();
  /** In-flight serveNetwork per network, so concurrent calls share one bind. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Attachments made by this process (netns -> per network), to re-point them if a port must change. */
  private readonly attached = new Map<string, Attachment[]>();
  /** Per-netns queue: parallel attaches (eth0, eth1) must not race for "first network wins". */
  private readonly netnsQueue = new Map<string, Promise<unknown>>();
  private ports: Record<string, number> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(opts: NetworkDnsOptions) {
    this.directory = opts.directory;
    this.stateFile = opts.stateFile;
    this.upstreamSource = opts.upstreams ?? hostUpstreams();
  }

  /** Starts (or keeps) the listener of a network on its gateway (the bridge with that address must exist). Idempotent. */
  async serveNetwork(networkId: string, gateway: string): Promise<void> {
    checkToken('network id', networkId, 100);
    checkIPv4('gateway', gateway);
    for (;;) {
      const pending = this.starting.get(networkId);
      if (!pending) break;
      await pending.catch(() => {});
    }
    const cur = this.listeners.get(networkId);
    if (cur?.gateway === gateway) return;
    const p = this.start(networkId, gateway);
    this.starting.set(networkId, p);
    try { await p; } finally { this.starting.delete(networkId); }
  }

  /** Stops a network's listener and forgets its port (network removed). */
  async stopNetwork(networkId: string): Promise<void> {
    await this.starting.get(networkId)?.catch(() => {});
    const cur = this.listeners.get(networkId);
    this.listeners.delete(networkId);
    await cur?.server.close();
    for (const [netns, list] of this.attached) {
      const rest = list.filter((a) => a.networkId !== networkId);
      if (rest.length) this.attached.set(netns, rest); else this.attached.delete(netns);
    }
    const ports = await this.loadPorts();
    if (networkId in ports) {
      delete ports[networkId];
      await this.savePorts();
    }
  }

  /** Installs the in-netns redirect for one container; netns is the name under /run/netns. Cheap (one spawn). */
  async attachContainer(netns: string, networkId: string, containerIp: string, ifname = 'eth0'): Promise<void> {
    await this.starting.get(networkId)?.catch(() => {});
    const l = this.listeners.get(networkId);
    if (!l) throw conflict(`embedded DNS is not serving network ${networkId}`);
    const a: Attachment = { networkId, containerIp, ifname };
    await this.inOrder(netns, async () => {
      await installNetworkDnsRedirect(netns, { ...a, gateway: l.gateway, port: l.port });
      const list = (this.attached.get(netns) ?? []).filter((x) => x.networkId !== networkId);
      this.attached.set(netns, [...list, a]);
    });
  }

  /**
   * The container leaves a network: if its 127.0.0.11 redirect pointed there, it is
   * removed and moved to another network it is still attached to (as known to this
   * process), if any. Call before its veth goes away; a gone netns is fine.
   */
  async detachContainer(netns: string, networkId: string): Promise<void> {
    await this.inOrder(netns, async () => {
      const rest = (this.attached.get(netns) ?? []).filter((x) => x.networkId !== networkId);
      if (rest.length) this.attached.set(netns, rest); else this.attached.delete(netns);
      if (!(await removeNetworkDnsRedirect(netns, networkId))) return;
      for (const a of rest) {
        const l = this.listeners.get(a.networkId);
        if (!l) continue;
        await installNetworkDnsRedirect(netns, { ...a, gateway: l.gateway, port: l.port });
        return;
      }
    });
  }

  private inOrder<T>(netns: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.netnsQueue.get(netns) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.netnsQueue.set(netns, next);
    const drop = () => { if (this.netnsQueue.get(netns) === next) this.netnsQueue.delete(netns); };
    next.then(drop, drop);
    return next;
  }

  /** Forgets a container's attachments (its netns is being deleted); nothing to undo in the kernel. */
  forgetContainer(netns: string): void {
    this.attached.delete(netns);
  }

  /** The port a network's listener is bound to (undefined when not serving). */
  portOf(networkId: string): number | undefined {
    return this.listeners.get(networkId)?.port;
  }

  /** Closes every listener (daemon stop); ports stay remembered. */
  async close(): Promise<void> {
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => {})));
    const all = [...this.listeners.values()];
    this.listeners.clear();
    this.attached.clear();
    await Promise.all(all.map((l) => l.server.close()));
    await this.saving;
  }

  private async start(networkId: string, gateway: string): Promise<void> {
    const old = this.listeners.get(networkId);
    if (old) { // gateway changed: rebind on the new address, same port if possible
      this.listeners.delete(networkId);
      await old.server.close();
    }
    const ports = await this.loadPorts();
    const remembered = ports[networkId];
    const server = this.newServer(networkId);
    const port = await this.bind(server, gateway, remembered);
    this.listeners.set(networkId, { gateway, port, server });
    if (remembered !== port) {
      ports[networkId] = port;
      await this.savePorts();
      if (remembered !== undefined) {
        log.warn('embedded DNS port of a network changed; redirects of running containers must be re-attached', { network: networkId, old: remembered, port });
      }
    }
    if (old || (remembered !== undefined && remembered !== port)) await this.repoint(networkId);
  }

  /** Binds the remembered port, else 53, else a random one; returns the port. */
  private async bind(server: DnsServer, gateway: string, remembered: number | undefined): Promise<number> {
    const wanted = [...new Set([remembered, 53].filter((p): p is number => p !== undefined))];
    for (const p of wanted) {
      try {
        return (await server.listen(gateway, p)).udpPort;
      } catch (err) {
        if (!isAddrInUse(err)) throw systemError(`embedded DNS for ${gateway}: ${(err as Error).message}`);
      }
    }
    let last: unknown;
    for (let i = 0; i < RANDOM_PORT_TRIES; i++) {
      try {
        return (await server.listen(gateway, 0)).udpPort;
      } catch (err) {
        last = err;
        if (!isAddrInUse(err)) break;
      }
    }
    throw systemError(`embedded DNS for ${gateway}: ${(last as Error | undefined)?.message ?? 'cannot bind'}`);
  }

  private newServer(networkId: string): DnsServer {
    const resolver: DnsResolver = {
      lookup: (scope, name, client) => this.directory.lookup(scope, client.address, name),
      reverse: (scope, ip, client) => this.directory.reverse(scope, client.address, ip),
    };
    return new DnsServer({
      resolver,
      scope: networkId,
      upstreams: (scope, client) => {
        const own = this.directory.upstreams?.(scope, client.address) ?? [];
        return own.length ? own : this.upstreams();
      },
      // Docker's resolver answers SERVFAIL when it has nowhere to forward
      noUpstreamRcode: RCODE.SERVFAIL,
    });
  }

  /** Host resolvers minus our own listeners (a resolv.conf naming a gateway would loop). */
  private upstreams(): Upstream[] {
    const ours = new Set([...this.listeners.values()].map((l) => `${l.gateway}:${l.port}`));
    return this.upstreamSource().filter((u) => !ours.has(`${u.address}:${u.port}`));
  }

  /** Re-installs the redirects this process made for a network whose address or port changed. */
  private async repoint(networkId: string): Promise<void> {
    const l = this.listeners.get(networkId);
    if (!l) return;
    for (const [netns, list] of this.attached) {
      const a = list.find((x) => x.networkId === networkId);
      if (!a) continue;
      try {
        await installNetworkDnsRedirect(netns, { ...a, gateway: l.gateway, port: l.port });
      } catch (err) {
        log.warn('cannot re-point a container DNS redirect', { netns, network: networkId, err });
      }
    }
  }

  private async loadPorts(): Promise<Record<string, number>> {
    if (!this.ports) {
      let data: unknown;
      try {
        data = await readJson<unknown>(this.stateFile);
      } catch (err) {
        log.warn('unreadable embedded DNS state; ports will be chosen afresh', { file: this.stateFile, err });
      }
      const ports: Record<string, number> = {};
      if (data && typeof data === 'object') {
        for (const [k, v] of Object.entries(data as Record<string, unknown>)) if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536) ports[k] = v;
      }
      this.ports ??= ports;
    }
    return this.ports;
  }

  /** Writes are chained so the file ends with the latest map whatever the interleaving. */
  private savePorts(): Promise<void> {
    const next = this.saving.catch(() => {}).then(() => writeJsonAtomic(this.stateFile, this.ports ?? {}));
    this.saving = next;
    return next;
  }
}
