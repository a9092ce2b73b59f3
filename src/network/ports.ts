// Published ports (-p, -P): host sockets that reserve each port, plus DNAT rules
// in berth's own nft table that send the traffic to the container. One
// PortPublisher per daemon; it knows every container it published, so the whole
// table can be rewritten from that state in one transaction. The rules outlive
// the daemon (published ports keep working while berthd is down); the sockets do
// not, and are taken again by restore().

import { EngineError, systemError } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { errnoText, holdPort, localPortRange, type HeldPort } from './ports-sockets.ts';
import { checkTableName, deletePortRules, enableRouteLocalnet, writePortRules, type RuleEntry } from './ports-rules.ts';
import type { PortProto, PortRequest, PublishedPort } from './ports-spec.ts';

export { parsePortKey, portMap, portRequests } from './ports-spec.ts';
export type { PortProto, PortRequest, PublishedPort } from './ports-spec.ts';

interface Binding { port: PublishedPort; held?: HeldPort }
interface Published { containerIp: string; bridge: string; bindings: Binding[] }
interface Target { containerId: string; endpointName: string; containerIp: string; bridge: string }

// The kernel's pick may collide with a port berth tracks without a socket (SCTP, or
// one restore() could not re-take); a few retries then give up like dockerd does.
const RANDOM_ATTEMPTS = 10;

export class PortPublisher {
  readonly table: string;
  private readonly published = new Map<string, Published>();
  private queue: Promise<unknown> = Promise.resolve();

  /** table: the nft table name this daemon uses for its DNAT rules (e.g. `berth-ports-<bridge>`), one per daemon. */
  constructor(opts: { table: string }) {
    checkTableName(opts.table);
    this.table = opts.table;
  }

  /** Reserves every host port, then installs the DNAT rules. All or nothing: on failure nothing of this call remains. */
  publish(c: Target, requests: PortRequest[]): Promise<PublishedPort[]> {
    return this.serial(async () => {
      // A container publishes once per start; a repeated call replaces its earlier ports.
      if (this.published.has(c.containerId)) await this.unpublishNow(c.containerId);
      // Fixed ports are taken first, then ranges, then random ones (as dockerd orders
      // them), so a random pick can never steal a port the same call asks for by number.
      const ipv4 = requests.filter((r) => {
        if (!r.hostIp.includes(':')) return true;
        log.warn('IPv6 host address for a published port skipped: berth networks are IPv4', { container: c.containerId, hostIp: r.hostIp });
        return false;
      });
      const order = ipv4.map((r, i) => ({ r, i })).sort((a, b) => allocationRank(a.r) - allocationRank(b.r) || a.i - b.i);
      const byRequest: Binding[] = [];
      const bindings: Binding[] = [];
      try {
        for (const { r, i } of order) {
          const b = await this.reserve(c, r, bindings);
          bindings.push(b);
          byRequest[i] = b;
        }
        bindings.splice(0, bindings.length, ...byRequest);
        if (bindings.length === 0) return []; // nothing to publish: no nft spawn on this start path
        await enableRouteLocalnet(c.bridge);
        this.published.set(c.containerId, { containerIp: c.containerIp, bridge: c.bridge, bindings });
        await writePortRules(this.table, this.ruleEntries());
      } catch (err) {
        this.published.delete(c.containerId);
        await closeAll(bindings);
        throw err instanceof EngineError ? err : systemError(driverFailed(c, err instanceof Error ? err.message : String(err)));
      }
      return bindings.map((b) => ({ ...b.port }));
    });
  }

  /** Releases a container's sockets and rules; unknown id is a no-op. */
  unpublish(containerId: string): Promise<void> {
    return this.serial(() => this.unpublishNow(containerId));
  }

  /** After a daemon restart: re-holds the sockets and rewrites the rules for containers still running. Re-bind failures are logged, not thrown. */
  restore(entries: Array<{ containerId: string; containerIp: string; bridge: string; ports: PublishedPort[] }>): Promise<void> {
    return this.serial(async () => {
      for (const p of this.published.values()) await closeAll(p.bindings);
      this.published.clear();
      for (const e of entries) {
        const bindings: Binding[] = [];
        for (const port of e.ports) {
          const b: Binding = { port: { ...port } };
          if (!port.hostIp.includes(':')) {
            try { b.held = await holdPort(port.proto, port.hostIp, port.hostPort); } catch (err) {
              log.warn('could not reserve published port again', { container: e.containerId, port: `${port.hostIp}:${port.hostPort}/${port.proto}`, error: errnoText(err) });
            }
          }
          bindings.push(b);
        }
        this.published.set(e.containerId, { containerIp: e.containerIp, bridge: e.bridge, bindings });
        if (bindings.length > 0) {
          await enableRouteLocalnet(e.bridge).catch((err: unknown) => log.warn('route_localnet not set', { bridge: e.bridge, error: err as Error }));
        }
      }
      await writePortRules(this.table, this.ruleEntries());
    });
  }

  /** Daemon stop: closes the held sockets; `removeRules` true also deletes the nft table (when no container keeps running). */
  close(removeRules: boolean): Promise<void> {
    return this.serial(async () => {
      for (const p of this.published.values()) await closeAll(p.bindings);
      this.published.clear();
      if (removeRules) await deletePortRules(this.table);
    });
  }

  private async unpublishNow(containerId: string): Promise<void> {
    const p = this.published.get(containerId);
    if (!p) return;
    this.published.delete(containerId);
    try {
      // Rules go first: once the socket closes, another program may take the port.
      await writePortRules(this.table, this.ruleEntries());
    } catch (err) {
      this.published.set(containerId, p);
      throw err;
    }
    await closeAll(p.bindings);
  }

  private async reserve(c: Target, r: PortRequest, pending: Binding[]): Promise<Binding> {
    const { proto, hostIp } = r;
    const mapping = (hostPort: number | string) => `${hostIp}:${hostPort}:${c.containerIp}:${r.containerPort}/${proto}`;
    const make = (held: HeldPort): Binding => ({ port: { proto, containerPort: r.containerPort, hostIp, hostPort: held.port }, held });

    if (r.hostPort !== 0 && (r.hostPortEnd === undefined || r.hostPortEnd === r.hostPort)) {
      if (this.taken(proto, hostIp, r.hostPort, pending)) throw systemError(driverFailed(c, `Bind for ${hostIp}:${r.hostPort} failed: port is already allocated`));
      try { return make(await holdPort(proto, hostIp, r.hostPort)); } catch (err) {
        throw systemError(driverFailed(c, `failed to bind host port for ${mapping(r.hostPort)}: ${errnoText(err)}`));
      }
    }

    if (r.hostPort !== 0) {
      const end = r.hostPortEnd!;
      let lastErr: unknown;
      for (let port = r.hostPort; port <= end; port++) {
        if (this.taken(proto, hostIp, port, pending)) continue;
        try { return make(await holdPort(proto, hostIp, port)); } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw systemError(driverFailed(c, `failed to bind host port ${port} for ${mapping(`${r.hostPort}-${end}`)}: ${errnoText(err)}`));
          lastErr = err;
        }
      }
      if (lastErr) throw systemError(driverFailed(c, `failed to bind host port for ${mapping(`${r.hostPort}-${end}`)}: ${errnoText(lastErr)}`));
      throw systemError(driverFailed(c, 'all ports are allocated'));
    }

    // Random: TCP/UDP let the kernel pick from ip_local_port_range; SCTP (no socket) picks there itself.
    const range = await localPortRange();
    for (let i = 0; i < RANDOM_ATTEMPTS; i++) {
      let held: HeldPort;
      try {
        held = proto === 'sctp'
          ? await holdPort(proto, hostIp, range.low + Math.floor(Math.random() * (range.high - range.low + 1)))
          : await holdPort(proto, hostIp, 0);
      } catch (err) {
        throw systemError(driverFailed(c, `failed to bind host port for ${mapping(0)}: ${errnoText(err)}`));
      }
      if (!this.taken(proto, hostIp, held.port, pending)) return make(held);
      await held.close();
    }
    throw systemError(driverFailed(c, 'all ports are allocated'));
  }

  /** Whether berth already publishes this port on an overlapping address (0.0.0.0 overlaps every address). */
  private taken(proto: PortProto, hostIp: string, port: number, pending: Binding[]): boolean {
    const clash = (p: PublishedPort) => p.proto === proto && p.hostPort === port &&
      (p.hostIp === hostIp || p.hostIp === '0.0.0.0' || hostIp === '0.0.0.0');
    if (pending.some((b) => clash(b.port))) return true;
    for (const p of this.published.values()) if (p.bindings.some((b) => clash(b.port))) return true;
    return false;
  }

  private ruleEntries(): RuleEntry[] {
    return [...this.published.values()].map((p) => ({ containerIp: p.containerIp, bridge: p.bridge, ports: p.bindings.map((b) => b.port) }));
  }

  /** Calls run one at a time: each rewrites the whole table from the shared state. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

/** 0: one fixed port, 1: a range, 2: any port. */
function allocationRank(r: PortRequest): number {
  if (r.hostPort === 0) return 2;
  return r.hostPortEnd !== undefined && r.hostPortEnd !== r.hostPort ? 1 : 0;
}

function driverFailed(c: Target, msg: string): string {
  return `driver failed programming external connectivity on endpoint ${c.endpointName} (${c.containerId}): ${msg}`;
}

async function closeAll(bindings: Binding[]): Promise<void> {
  await Promise.all(bindings.map((b) => b.held?.close()));
}
