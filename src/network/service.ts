// Networks as the Engine API sees them: the predefined bridge/host/none, user networks
// created with a subnet (given, or chosen by an injected allocator), Docker's filters, and
// endpoint records for connect/disconnect. Nothing here touches the kernel: the data plane
// is wired by the container start path, which reads these records.
import { randomBytes } from 'node:crypto';
import { EngineError, badParameter, conflict, forbidden, notFound } from '../util/errors.ts';
import { newId } from '../util/ids.ts';
import { NetworkStore } from './store.ts';
import { chooseSubnet } from './ipam.ts';
import { formatCidr, formatIPv4, lastOf, macFromIPv4, overlaps, parseCidr, parseIPv4, type Cidr } from './subnets.ts';
import { PREDEFINED_NETWORKS, type IpamConfig, type NetworkCreateRequest, type NetworkEndpoint, type NetworkRecord, type SubnetAllocator } from './types.ts';

export type NetworkFilters = Record<string, string[]>;

const LIST_FILTERS = new Set(['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

/** Docker's default pools, first free one (berthd uses hostAwareAllocator, which also skips the host's routes). */
export const defaultAllocator: SubnetAllocator = (inUse) => {
  try {
    const c = chooseSubnet(inUse.map((u) => cidr(u)));
    return { Subnet: formatCidr(c), Gateway: formatIPv4(c.base + 1) };
  } catch {
    throw forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }
};

export class NetworkService {
  readonly store: NetworkStore;
  allocate: SubnetAllocator;
  /** Makes a new network's kernel side; a failure undoes the create. */
  onCreated: ((n: NetworkRecord) => Promise<void>) | undefined;
  /** Removes a network's kernel side, after its record is gone. */
  onRemoved: ((n: NetworkRecord) => Promise<void>) | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(store: NetworkStore, allocate: SubnetAllocator) {
    this.store = store;
    this.allocate = allocate;
  }

  /** Opens the records in `dir`, creating the predefined networks the first time. */
  static async open(dir: string, allocate: SubnetAllocator = defaultAllocator): Promise<NetworkService> {
    const svc = new NetworkService(await NetworkStore.open(dir), allocate);
    for (const name of PREDEFINED_NETWORKS) {
      if (!svc.store.list().some((n) => n.Name === name)) await svc.store.save(predefined(name));
    }
    return svc;
  }

  /** Mutations run one at a time, so uniqueness and overlap checks see a settled state. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.serial(async () => {
      const name = req.Name ?? '';
      if (!name) throw badParameter('network name must not be empty');
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw badParameter(`invalid network name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      const driver = req.Driver || 'bridge';
      if ((PREDEFINED_NETWORKS as readonly string[]).includes(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
      if (this.store.list().some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
      if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
      if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
      if (req.Scope && req.Scope !== 'local') throw badParameter(`scope "${req.Scope}" is not supported by the bridge driver`);
      if (req.Ingress) throw forbidden('ingress networks are only supported in swarm mode');
      const ipamDriver = req.IPAM?.Driver || 'default';
      if (ipamDriver !== 'default') throw notFound(`plugin "${ipamDriver}" not found`);

      const inUse = this.usedSubnets();
      const given = (req.IPAM?.Config ?? []).filter((c) => c.Subnet && !c.Subnet.includes(':'));
      const config: IpamConfig[] = [];
      for (const c of given) {
        const subnet = canonicalCidr(c.Subnet!);
        if (inUse.some((u) => cidrOverlap(u, subnet)) || config.some((x) => cidrOverlap(x.Subnet!, subnet))) {
          throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
        }
        const out: IpamConfig = { Subnet: subnet };
        if (c.IPRange) {
          const range = canonicalCidr(c.IPRange);
          if (!cidrContains(subnet, range)) throw badParameter(`invalid ip-range ${c.IPRange}: it must be within subnet ${subnet}`);
          out.IPRange = range;
        }
        if (c.Gateway) {
          if (!cidrContains(subnet, `${c.Gateway}/32`)) throw badParameter(`invalid gateway ${c.Gateway}: it must be within subnet ${subnet}`);
          out.Gateway = c.Gateway;
        } else {
          out.Gateway = hostAddress(subnet, 1);
        }
        if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) out.AuxiliaryAddresses = c.AuxiliaryAddresses;
        config.push(out);
      }
      for (const c of req.IPAM?.Config ?? []) {
        if (!c.Subnet && (c.Gateway || c.IPRange)) throw badParameter('gateway or ip-range given without a subnet');
      }
      if (config.length === 0) {
        const picked = await this.allocate(inUse);
        config.push({ Subnet: picked.Subnet, Gateway: picked.Gateway });
      }
      const id = this.uniqueId();
      const rec: NetworkRecord = {
        Name: name,
        Id: id,
        Created: new Date().toISOString(),
        Scope: 'local',
        Driver: driver,
        EnableIPv4: req.EnableIPv4 ?? true,
        EnableIPv6: req.EnableIPv6 ?? false,
        IPAM: { Driver: ipamDriver, Options: req.IPAM?.Options ?? {}, Config: config },
        Internal: !!req.Internal,
        Attachable: !!req.Attachable,
        Ingress: false,
        ConfigFrom: { Network: req.ConfigFrom?.Network ?? '' },
        ConfigOnly: !!req.ConfigOnly,
        Containers: {},
        Options: { ...(req.Options ?? {}) },
        Labels: { ...(req.Labels ?? {}) },
      };
      await this.store.save(rec);
      try {
        await this.onCreated?.(rec);
      } catch (err) {
        await this.store.delete(id);
        await this.onRemoved?.(rec).catch(() => undefined);
        throw err;
      }
      return { Id: id, Warning: '' };
    });
  }

  /** By full id, then exact name, then unique id prefix: Docker's lookup order. */
  find(ref: string): NetworkRecord | undefined {
    const all = this.store.list();
    const byId = all.find((n) => n.Id === ref);
    if (byId) return byId;
    const byName = all.find((n) => n.Name === ref);
    if (byName) return byName;
    if (!ref) return undefined;
    const prefixed = all.filter((n) => n.Id.startsWith(ref));
    if (prefixed.length > 1) throw badParameter(`network ${ref} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    return prefixed[0];
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  /** The API view; `verbose` adds nothing local-scope networks lack. */
  inspect(ref: string): NetworkRecord {
    return structuredClone(this.get(ref));
  }

  list(filters: NetworkFilters = {}): NetworkRecord[] {
    for (const k of Object.keys(filters)) if (!LIST_FILTERS.has(k)) throw badParameter(`invalid filter '${k}'`);
    for (const t of filters.type ?? []) if (t !== 'custom' && t !== 'builtin') throw badParameter(`invalid filter: 'type'='${t}'`);
    for (const d of filters.dangling ?? []) if (!['true', 'false', '1', '0'].includes(d.toLowerCase())) throw badParameter(`invalid filter 'dangling=${d}'`);
    const out = this.store.list().filter((n) => {
      if (filters.name?.length && !filters.name.some((v) => n.Name.includes(v))) return false;
      if (filters.id?.length && !filters.id.some((v) => n.Id.startsWith(v))) return false;
      if (filters.driver?.length && !filters.driver.includes(n.Driver)) return false;
      if (filters.scope?.length && !filters.scope.includes(n.Scope)) return false;
      if (filters.type?.length && !filters.type.includes(isPredefined(n) ? 'builtin' : 'custom')) return false;
      if (filters.label?.length && !filters.label.every((l) => labelMatches(n.Labels, l))) return false;
      if (filters.dangling?.length) {
        const want = ['true', '1'].includes(filters.dangling[0].toLowerCase());
        const dangling = !isPredefined(n) && Object.keys(n.Containers).length === 0;
        if (dangling !== want) return false;
      }
      return true;
    });
    return out.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => structuredClone(n));
  }

  async remove(ref: string): Promise<void> {
    return this.serial(async () => {
      const n = this.get(ref);
      if (isPredefined(n)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
      const ids = Object.keys(n.Containers);
      if (ids.length) {
        const e = n.Containers[ids[0]];
        throw forbidden(`error while removing network: network ${n.Name} has active endpoints (name:"${e.Name}" id:"${ids[0].slice(0, 12)}")`);
      }
      await this.store.delete(n.Id);
      await this.onRemoved?.(n);
    });
  }

  async prune(filters: NetworkFilters = {}, now = Date.now()): Promise<{ NetworksDeleted: string[] }> {
    for (const k of Object.keys(filters)) if (!PRUNE_FILTERS.has(k)) throw badParameter(`invalid filter '${k}'`);
    let until: number | undefined;
    for (const u of filters.until ?? []) until = parseUntil(u, now);
    const deleted: string[] = [];
    for (const n of this.store.list().sort((a, b) => a.Name.localeCompare(b.Name))) {
      if (isPredefined(n) || Object.keys(n.Containers).length) continue;
      if (until !== undefined && Date.parse(n.Created) >= until) continue;
      if (filters.label?.length && !filters.label.every((l) => labelMatches(n.Labels, l))) continue;
      if (filters['label!']?.length && filters['label!'].some((l) => labelMatches(n.Labels, l))) continue;
      try {
        await this.remove(n.Id);
        deleted.push(n.Name);
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
      }
    }
    return { NetworksDeleted: deleted };
  }

  /**
   * Records a container's endpoint on a network. The address is the requested one or the
   * next free one in the pool; the MAC derives from it as Docker's bridge driver does.
   */
  async connect(ref: string, container: { id: string; name: string }, opts: { ipv4Address?: string; macAddress?: string } = {}): Promise<NetworkEndpoint> {
    return this.serial(async () => {
      const n = this.get(ref);
      if (n.Driver === 'host' || n.Driver === 'null') throw badParameter(`container cannot be disconnected from host network or connected to host network`);
      const name = container.name.replace(/^\//, '');
      if (n.Containers[container.id] || Object.values(n.Containers).some((e) => e.Name === name)) {
        throw forbidden(`endpoint with name ${name} already exists in network ${n.Name}`);
      }
      const pool = n.IPAM.Config.find((c) => c.Subnet && !c.Subnet.includes(':'));
      let ip = '';
      let prefix = 0;
      if (pool?.Subnet) {
        prefix = Number(pool.Subnet.split('/')[1]);
        const used = new Set(Object.values(n.Containers).map((e) => e.IPv4Address.split('/')[0]));
        if (pool.Gateway) used.add(pool.Gateway);
        for (const a of Object.values(pool.AuxiliaryAddresses ?? {})) used.add(a);
        if (opts.ipv4Address) {
          if (!cidrContains(pool.Subnet, `${opts.ipv4Address}/32`)) throw badParameter(`no configured subnet contains IP address ${opts.ipv4Address}`);
          if (used.has(opts.ipv4Address)) throw forbidden(`Address already in use`);
          ip = opts.ipv4Address;
        } else {
          ip = nextFree(pool.IPRange ?? pool.Subnet, pool.Subnet, used);
        }
      }
      const ep: NetworkEndpoint = {
        Name: name,
        EndpointID: newId(),
        MacAddress: opts.macAddress || (ip ? macFor(ip) : randomMac()),
        IPv4Address: ip ? `${ip}/${prefix}` : '',
        IPv6Address: '',
      };
      const next = structuredClone(n);
      next.Containers[container.id] = ep;
      await this.store.save(next);
      return { ...ep };
    });
  }

  async disconnect(ref: string, containerId: string, force = false): Promise<void> {
    return this.serial(async () => {
      const n = this.get(ref);
      if (n.Driver === 'host' || n.Driver === 'null') throw badParameter(`container cannot be disconnected from host network or connected to host network`);
      if (!n.Containers[containerId]) {
        if (force) return;
        throw forbidden(`container ${containerId} is not connected to network ${n.Name}`);
      }
      const next = structuredClone(n);
      delete next.Containers[containerId];
      await this.store.save(next);
    });
  }

  /** A renamed container's endpoint: network inspect shows the new name. */
  async renameEndpoint(ref: string, containerId: string, name: string): Promise<void> {
    return this.serial(async () => {
      const n = this.get(ref);
      if (!n.Containers[containerId]) return;
      const next = structuredClone(n);
      next.Containers[containerId]!.Name = name;
      await this.store.save(next);
    });
  }

  private usedSubnets(): string[] {
    const out: string[] = [];
    for (const n of this.store.list()) for (const c of n.IPAM.Config) if (c.Subnet && !c.Subnet.includes(':')) out.push(c.Subnet);
    return out;
  }

  private uniqueId(): string {
    for (;;) {
      const id = newId();
      // Docker avoids ids whose short form is all digits or that prefix another object's.
      if (/^\d+$/.test(id.slice(0, 12))) continue;
      if (!this.store.list().some((n) => n.Id.startsWith(id.slice(0, 12)))) return id;
    }
  }
}

export function isPredefined(n: NetworkRecord): boolean {
  return (PREDEFINED_NETWORKS as readonly string[]).includes(n.Name) && (n.Name === 'bridge' ? n.Driver === 'bridge' : n.Driver === (n.Name === 'none' ? 'null' : 'host'));
}

function predefined(name: (typeof PREDEFINED_NETWORKS)[number]): NetworkRecord {
  const bridge = name === 'bridge';
  return {
    Name: name,
    Id: newId(),
    Created: new Date().toISOString(),
    Scope: 'local',
    Driver: bridge ? 'bridge' : name === 'host' ? 'host' : 'null',
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: bridge ? [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] : [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: bridge
      ? {
          'com.docker.network.bridge.default_bridge': 'true',
          'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          'com.docker.network.bridge.name': 'berth0',
          'com.docker.network.driver.mtu': '1500',
        }
      : {},
    Labels: {},
  };
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  const k = filter.slice(0, eq);
  return k in labels && labels[k] === filter.slice(eq + 1);
}

/** `until`: a unix timestamp, an RFC 3339 date, or a Go duration ("10m", "1h30m") before now. */
function parseUntil(v: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? v : undefined;
  if (dur) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
    let total = 0;
    for (const m of dur.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
    return now - total;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badParameter(`failed to parse value as time or duration: "${v}"`);
  return t;
}

// --- IPv4 arithmetic on subnets.ts ---

/** A CIDR, any fault in it reported as dockerd reports a bad one. */
function cidr(text: string): Cidr {
  try {
    return parseCidr(text);
  } catch {
    throw badParameter(`invalid CIDR address: ${text}`);
  }
}

/** The network address form: 10.1.2.3/24 becomes 10.1.2.0/24, as Docker stores it. */
function canonicalCidr(text: string): string {
  return formatCidr(cidr(text));
}

function cidrOverlap(a: string, b: string): boolean {
  return overlaps(cidr(a), cidr(b));
}

function cidrContains(outer: string, inner: string): boolean {
  const o = cidr(outer);
  const i = cidr(inner);
  return i.base >= o.base && lastOf(i) <= lastOf(o);
}

function hostAddress(text: string, n: number): string {
  return formatIPv4(cidr(text).base + n);
}

function nextFree(range: string, subnet: string, used: Set<string>): string {
  const r = cidr(range);
  const s = cidr(subnet);
  for (let a = Math.max(r.base, s.base + 1); a <= Math.min(lastOf(r), lastOf(s) - 1); a++) {
    const ip = formatIPv4(a);
    if (!used.has(ip)) return ip;
  }
  throw forbidden(`no available IPv4 addresses on this network's address pools: ${subnet}`);
}

function macFor(ip: string): string {
  return macFromIPv4(parseIPv4(ip));
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
