// Containers on networks: what `run` asks for is checked at create, made in the kernel at
// each start (sandbox, one endpoint per network, DNS, published ports, /etc files) and
// undone at the exit. berthd's restart re-adopts what running containers hold and removes
// what stopped ones left.
//
// The container service owns the records; this service fills in and clears their
// NetworkSettings, and keeps the networks' endpoint lists (network inspect's Containers).
import { existsSync, promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ContainerRecord } from '../container/record.ts';
import { isActive } from '../container/record.ts';
import { EngineError, badParameter, forbidden, notFound } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { clearRuntime, newEndpointSettings, type ContainerNetworkSettings, type EndpointRequest, type EndpointSettings } from './endpoint.ts';
import { hostsFile, parseExtraHost, parseLink, resolvConf } from './etc-files.ts';
import type { NetworkDns } from './network-dns.ts';
import { configureDefaultBridge } from './default-bridge.ts';
import { dnsDirectory } from './network-dns-directory.ts';
import { bridgeNameOf, ensurePlane, ipv4Config, isBridgeNetwork, mtuFor, removePlane } from './plane.ts';
import { PortPublisher, portRequests } from './ports.ts';
import { NETNS_DIR, buildSandbox, destroySandbox, listSandboxes, newVethName, plugEndpoint, sandboxName, setDefaultRoute, unplugEndpoint, type EndpointPlan } from './sandbox.ts';
import type { NetworkService } from './service.ts';
import type { NetworkRecord } from './types.ts';
import type { NetworkEventSink } from '../events/sinks.ts';

export interface ContainerDirectory {
  find(ref: string): ContainerRecord | undefined;
  list(): ContainerRecord[];
}

export interface ContainerNetworkingOptions {
  networks: NetworkService;
  containers: ContainerDirectory;
  execRoot: string;
  /** The default bridge's Linux bridge (--bridge): it names the published ports' table. */
  defaultBridge: string;
  /** --bip: the default bridge's address and subnet. */
  bip?: string;
  /** dockerd's network events (connect and disconnect of containers). */
  events?: NetworkEventSink;
}

/** Network modes that are not networks: the container gets no endpoint of berth's. */
function isSpecialMode(mode: string): boolean {
  return mode === 'host' || mode === 'none' || mode.startsWith('container:');
}

export function settingsOf(rec: ContainerRecord): ContainerNetworkSettings {
  rec.NetworkSettings ??= { Networks: {}, SandboxID: '', SandboxKey: '' };
  return rec.NetworkSettings;
}

export class ContainerNetworking {
  private readonly o: ContainerNetworkingOptions;
  readonly ports: PortPublisher;
  /** The embedded DNS, loaded with the first user network it serves (a quicker daemon start). */
  private dnsLoaded: Promise<NetworkDns> | undefined;
  /** The default bridge's subnet, chosen again at each daemon start (see defaultBridgeReady). */
  private defaultBridge: Promise<void> | undefined;
  /** Sandboxes of stopped runs being removed, by container id. */
  private readonly destroying = new Map<string, Promise<void>>();
  /** Networks whose bridge and rules this daemon has made or checked (or is making). */
  private readonly planes = new Map<string, Promise<void>>();

  constructor(o: ContainerNetworkingOptions) {
    this.o = o;
    this.ports = new PortPublisher({ table: `berth-ports-${o.defaultBridge}` });

  }

  // ---- create ----

  /**
   * dockerd's checks of the network part of a create, and the container's first
   * NetworkSettings: its network mode's network first, then the others asked for.
   */
  atCreate(rec: ContainerRecord, endpoints: Record<string, EndpointRequest | null> | null | undefined): void {
    const mode = rec.HostConfig.NetworkMode || 'bridge';
    const ns: ContainerNetworkSettings = { Networks: {}, SandboxID: '', SandboxKey: '' };
    rec.NetworkSettings = ns;
    // The CLI names the default network "default", as it names the mode.
    const asked: Record<string, EndpointRequest | null> = {};
    for (const [k, v] of Object.entries(endpoints ?? {})) asked[k === 'default' ? 'bridge' : k] = v;
    if (mode === 'host' || mode === 'none') {
      const n = this.o.networks.get(mode);
      ns.Networks[mode] = newEndpointSettings(n.Id, asked[mode] ?? {});
      return;
    }
    if (mode.startsWith('container:')) return;
    // As dockerd, a network that does not exist (yet) is not an error until the start.
    const primary = this.o.networks.find(mode);
    const list: Array<[string, NetworkRecord | undefined, EndpointRequest]> = [[primary?.Name ?? mode, primary, asked[mode] ?? (primary && (asked[primary.Name] ?? asked[primary.Id])) ?? {}]];
    for (const [ref, req] of Object.entries(asked)) {
      if (ref === mode || ref === primary?.Name || ref === primary?.Id) continue;
      const n = this.o.networks.find(ref);
      if (n && !isBridgeNetwork(n)) throw badParameter(`container cannot be connected to network ${n.Name} with network mode ${mode}`);
      list.push([n?.Name ?? ref, n, req ?? {}]);
    }
    for (const [name, n, req] of list) {
      if (n) checkEndpointRequest(n, req);
      ns.Networks[name] = newEndpointSettings(n?.Id ?? '', req);
    }
    // Bad port specs and extra hosts are refused at create (dockerd checks them there too).
    portRequests(rec.HostConfig.PortBindings, !!rec.HostConfig.PublishAllPorts, rec.Config.ExposedPorts);
    for (const h of rec.HostConfig.ExtraHosts ?? []) {
      let ip = '';
      try {
        ip = parseExtraHost(h, '0.0.0.0').ip;
      } catch {
        throw badParameter(`invalid extra host entry: ${h}`);
      }
      if (!isIP(ip)) throw badParameter(`invalid IP address in add-host: "${ip}"`);
    }
    if (rec.HostConfig.Links?.length && primary && !isDefaultBridge(primary)) {
      // On user networks a link is a name the container resolves (dockerd keeps them per endpoint).
      ns.Networks[primary.Name]!.Links = [...rec.HostConfig.Links];
    }
  }

  // ---- start / exit ----

  /**
   * Everything the container's network needs before its process starts; returns the
   * namespace to join (undefined: the runtime makes one, or none is private). With `pid`,
   * the namespace is the one that created (not yet started) process is in. All or nothing.
   */
  async setup(rec: ContainerRecord, pid?: number): Promise<string | undefined> {
    const mode = rec.HostConfig.NetworkMode || 'bridge';
    if (isSpecialMode(mode)) return undefined;
    const ns = settingsOf(rec);
    if (!Object.keys(ns.Networks).length) this.atCreate(rec, {});
    await this.destroying.get(rec.Id); // the previous run's namespace, still going
    try {
      // Addresses first (in memory and the networks' records), then the kernel side in one go.
      const plans: Array<{ n: NetworkRecord; es: EndpointSettings; plan: EndpointPlan; endpointId: string }> = [];
      for (const [name, es] of Object.entries(ns.Networks)) plans.push(await this.endpoint(rec, name, es, plans.length));
      ns.Veths = Object.fromEntries(plans.map((p) => [p.n.Id, { host: p.plan.hostIfname, ifname: p.plan.ifname }]));
      const path = await buildSandbox(rec.Id, plans.map((p) => p.plan), pid);
      ns.SandboxKey = path;
      ns.SandboxID = rec.Id;
      for (const p of plans) await this.joined(rec, p.n, p.es, p.plan, p.endpointId);
      const first = plans[0];
      if (first) await this.publish(rec, first.es);
      await this.writeEtcFiles(rec);
      return path;
    } catch (err) {
      // A failed start leaves nothing once it has answered.
      await this.teardown(rec).catch((e) => log.warn('network cleanup after a failed start', { id: rec.Id, error: e }));
      await this.destroying.get(rec.Id);
      throw err;
    }
  }

  pathFor(rec: ContainerRecord): string {
    return `${NETNS_DIR}/${sandboxName(rec.Id)}`;
  }

  /** Whether the container gets a namespace of berth's making (bridge and user networks). */
  wantsSandbox(rec: ContainerRecord): boolean {
    return !isSpecialMode(rec.HostConfig.NetworkMode || 'bridge');
  }

  /** After the exit, or a failed start: every endpoint, port and the sandbox go. Repeatable. */
  async teardown(rec: ContainerRecord): Promise<void> {
    const ns = rec.NetworkSettings;
    if (!ns || !this.wantsSandbox(rec)) return;
    await this.ports.unpublish(rec.Id);
    delete ns.Published;
    // The kernel side goes in the background (the exit is answered meanwhile): its first act
    // sets the host ends down, so an address released below is safe to hand out again at
    // once; a new start of this container waits for it.
    if (ns.SandboxKey || ns.Veths) this.destroyLater(rec.Id, Object.values(ns.Veths ?? {}).map((v) => v.host));
    for (const es of Object.values(ns.Networks)) {
      const n = es.NetworkID ? this.o.networks.store.get(es.NetworkID) : undefined;
      if (n?.Containers[rec.Id]) {
        await this.o.networks.disconnect(n.Id, rec.Id, true);
        if (es.IPAddress) this.o.events?.('disconnect', n, rec.Id);
      }
      clearRuntime(es);
    }
    delete ns.Veths;
    ns.SandboxKey = '';
    ns.SandboxID = '';
  }

  private destroyLater(containerId: string, hostEnds: string[]): void {
    const before = this.destroying.get(containerId) ?? Promise.resolve();
    const done: Promise<void> = before
      .then(() => destroySandbox(containerId, hostEnds))
      .catch((err) => log.warn('removing a network namespace failed', { id: containerId, error: err }))
      .finally(() => {
        if (this.destroying.get(containerId) === done) this.destroying.delete(containerId);
      });
    this.destroying.set(containerId, done);
  }

  /** Resolves once every sandbox being removed is gone (daemon stop, tests). */
  async settled(): Promise<void> {
    while (this.destroying.size) await Promise.all(this.destroying.values());
  }

  /** An endpoint's address from its network's pool, and how its veth will be made. */
  private async endpoint(rec: ContainerRecord, name: string, es: EndpointSettings, index: number, primary = index === 0) {
    const n = this.o.networks.store.get(es.NetworkID) ?? this.o.networks.find(name);
    if (!n) throw notFound(`network ${name} not found`);
    es.NetworkID = n.Id;
    await this.plane(n);
    return this.address(rec, this.o.networks.get(n.Id), es, index, primary); // the record as the plane left it
  }

  /** The address from the pool (the network record now holds the endpoint) and the veth to make. */
  private async address(rec: ContainerRecord, n: NetworkRecord, es: EndpointSettings, index: number, primary: boolean) {
    const ep = await this.o.networks.connect(n.Id, { id: rec.Id, name: rec.Name }, {
      ipv4Address: es.IPAMConfig?.IPv4Address || undefined,
      macAddress: es.MacAddress || undefined,
    });
    const { gateway } = ipv4Config(n);
    const [ip, prefix] = ep.IPv4Address.split('/');
    const plan: EndpointPlan = {
      networkId: n.Id,
      bridge: bridgeNameOf(n),
      hostIfname: newVethName(),
      ifname: `eth${index}`,
      address: ip!,
      prefix: Number(prefix),
      // The first network's gateway is the default route (none on an internal network).
      gateway: primary && !n.Internal ? gateway : undefined,
      mac: ep.MacAddress,
      mtu: mtuFor(n),
    };
    return { n, es, plan, endpointId: ep.EndpointID };
  }

  /** Once plugged: the endpoint's settings as inspect shows them, and the DNS redirect. */
  private async joined(rec: ContainerRecord, n: NetworkRecord, es: EndpointSettings, plan: EndpointPlan, endpointId: string): Promise<void> {
    const { gateway } = ipv4Config(n);
    this.o.events?.('connect', n, rec.Id);
    es.EndpointID = endpointId;
    es.IPAddress = plan.address;
    es.IPPrefixLen = plan.prefix;
    es.Gateway = n.Internal ? '' : gateway;
    es.MacAddress = plan.mac;
    if (!isDefaultBridge(n)) {
      es.DNSNames = [rec.Name.slice(1), ...(es.Aliases ?? []), rec.Id.slice(0, 12)];
      const dns = await this.dns();
      await dns.serveNetwork(n.Id, gateway);
      await dns.attachContainer(sandboxName(rec.Id), n.Id, plan.address, plan.ifname);
    }
  }

  /** Published ports go to the container's address on its first network, as dockerd's. */
  private async publish(rec: ContainerRecord, es: EndpointSettings): Promise<void> {
    const reqs = portRequests(rec.HostConfig.PortBindings, !!rec.HostConfig.PublishAllPorts, rec.Config.ExposedPorts);
    if (!reqs.length) return;
    const n = this.o.networks.get(es.NetworkID);
    try {
      settingsOf(rec).Published = await this.ports.publish(
        { containerId: rec.Id, endpointName: rec.Name.slice(1), containerIp: es.IPAddress, bridge: bridgeNameOf(n) },
        reqs,
      );
    } catch (err) {
      if (err instanceof EngineError) throw new EngineError(err.status, `failed to set up container networking: ${err.message}`);
      throw err;
    }
  }

  private dns(): Promise<NetworkDns> {
    this.dnsLoaded ??= import('./network-dns.ts').then(({ NetworkDns }) => new NetworkDns({
      directory: dnsDirectory(this.o.networks, this.o.containers),
      stateFile: join(this.o.execRoot, 'network', 'dns-ports.json'),
    }));
    return this.dnsLoaded;
  }

  /**
   * The default bridge's subnet is checked against the host's routes once per daemon run
   * (configureDefaultBridge), at its first use: a daemon start spawns nothing for it.
   */
  defaultBridgeReady(): Promise<void> {
    this.defaultBridge ??= configureDefaultBridge(this.o.networks, this.o.defaultBridge, this.o.bip);
    return this.defaultBridge;
  }

  /** Starts at once (daemon start, restarts) wait for the one that makes the bridge. */
  private plane(n: NetworkRecord): Promise<void> {
    let p = this.planes.get(n.Id);
    if (!p) {
      p = (isDefaultBridge(n) ? this.defaultBridgeReady().then(() => ensurePlane(this.o.networks.get(n.Id))) : ensurePlane(n));
      this.planes.set(n.Id, p);
      p.catch(() => this.planes.delete(n.Id));
    }
    return p;
  }

  /** /etc/hosts and /etc/resolv.conf for a container on a bridge or user network. */
  async writeEtcFiles(rec: ContainerRecord): Promise<void> {
    await this.defaultBridgeReady(); // host-gateway is its address
    const ns = settingsOf(rec);
    const entries = Object.entries(ns.Networks);
    const first = entries[0];
    const onUserNetwork = entries.some(([, es]) => es.NetworkID && !isDefaultBridge(this.o.networks.store.get(es.NetworkID)));
    const gw = this.hostGateway();
    const extra = (rec.HostConfig.ExtraHosts ?? []).map((e) => parseExtraHost(e, gw));
    const links = first && isDefaultBridge(this.o.networks.store.get(first[1].NetworkID)) ? this.legacyLinks(rec) : [];
    const hosts = hostsFile({
      extraHosts: extra,
      links,
      self: first?.[1].IPAddress ? { ip: first[1].IPAddress, hostname: rec.Config.Hostname ?? rec.Id.slice(0, 12), domainname: rec.Config.Domainname || undefined } : undefined,
    });
    const resolv = resolvConf({
      host: await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => ''),
      dns: rec.HostConfig.Dns ?? [],
      dnsSearch: rec.HostConfig.DnsSearch ?? [],
      dnsOptions: rec.HostConfig.DnsOptions ?? [],
      embedded: onUserNetwork,
    });
    // Rewritten in place: the bind mounts of a running container keep their inode.
    await Promise.all([writeInPlace(rec.HostsPath, hosts), writeInPlace(rec.ResolvConfPath, resolv)]);
  }

  /** host-gateway: the default bridge's address, as dockerd's default host-gateway-ip. */
  private hostGateway(): string {
    return ipv4Config(this.o.networks.get('bridge')).gateway;
  }

  /** --link on the default bridge: "/web:/me/db" or "web:db"; the target must run. */
  private legacyLinks(rec: ContainerRecord): Array<{ ip: string; names: string[] }> {
    const out: Array<{ ip: string; names: string[] }> = [];
    for (const l of rec.HostConfig.Links ?? []) {
      const [target, alias] = parseLink(l);
      const c = this.o.containers.find(target);
      if (!c) throw notFound(`could not get container for ${target}`);
      if (!isActive(c)) throw badParameter(`cannot link to a non running container: ${c.Name} AS ${rec.Name}/${alias}`);
      const ip = c.NetworkSettings?.Networks.bridge?.IPAddress;
      if (!ip) throw badParameter(`cannot link to ${c.Name}: it is not on the default bridge network`);
      const names = [alias, c.Config.Hostname ?? ''].filter(Boolean);
      if (alias !== c.Name.slice(1)) names.push(c.Name.slice(1));
      out.push({ ip, names });
    }
    return out;
  }

  // ---- connect / disconnect ----

  /** `network connect`: recorded for a stopped container, made live for a running one. */
  async connect(rec: ContainerRecord, ref: string, req: EndpointRequest): Promise<void> {
    const n = this.o.networks.get(ref);
    const mode = rec.HostConfig.NetworkMode || 'bridge';
    if (isSpecialMode(mode) || !isBridgeNetwork(n)) throw badParameter('container cannot be disconnected from host network or connected to host network');
    const ns = settingsOf(rec);
    if (ns.Networks[n.Name]) throw forbidden(`endpoint with name ${rec.Name.slice(1)} already exists in network ${n.Name}`);
    checkEndpointRequest(n, req);
    const es = newEndpointSettings(n.Id, req);
    if (!isActive(rec) || !ns.SandboxKey) {
      ns.Networks[n.Name] = es;
      return;
    }
    ns.Networks[n.Name] = es;
    try {
      // The first ethN no other network of it uses (disconnects leave gaps).
      const used = new Set(Object.values(ns.Veths ?? {}).map((v) => v.ifname));
      let index = 0;
      while (used.has(`eth${index}`)) index++;
      const p = await this.endpoint(rec, n.Name, es, index, false);
      await plugEndpoint(rec.Id, p.plan);
      ns.Veths = { ...(ns.Veths ?? {}), [n.Id]: { host: p.plan.hostIfname, ifname: p.plan.ifname } };
      await this.joined(rec, n, es, p.plan, p.endpointId);
      await this.writeEtcFiles(rec);
    } catch (err) {
      const veth = ns.Veths?.[n.Id];
      if (veth) await unplugEndpoint(veth.host).catch(() => undefined);
      if (ns.Veths) delete ns.Veths[n.Id];
      if (this.o.networks.store.get(n.Id)?.Containers[rec.Id]) await this.o.networks.disconnect(n.Id, rec.Id, true).catch(() => undefined);
      delete ns.Networks[n.Name];
      throw err;
    }
  }

  async disconnect(rec: ContainerRecord, ref: string, force: boolean): Promise<void> {
    const n = this.o.networks.get(ref);
    const ns = settingsOf(rec);
    const es = ns.Networks[n.Name];
    if (!es) {
      if (force) return;
      throw forbidden(`container ${rec.Id} is not connected to network ${n.Name}`);
    }
    if (n.Driver === 'host' || n.Driver === 'null') throw badParameter('container cannot be disconnected from host network or connected to host network');
    const hadDefaultRoute = !!es.IPAddress && !!es.Gateway && Object.keys(ns.Networks)[0] === n.Name;
    if (es.IPAddress) {
      const veth = ns.Veths?.[n.Id];
      if (veth) await unplugEndpoint(veth.host);
      if (ns.Veths) delete ns.Veths[n.Id];
      if (n.Containers[rec.Id]) {
        await this.o.networks.disconnect(n.Id, rec.Id, true);
        this.o.events?.('disconnect', n, rec.Id);
      }
    }
    delete ns.Networks[n.Name];
    if (!ns.SandboxKey) return;
    if (hadDefaultRoute) {
      // The way out moves to the next network that has one, as libnetwork moves it; that
      // network is the container's first from now on.
      const next = Object.entries(ns.Networks).find(([, e]) => e.IPAddress && e.Gateway);
      const veth = next && ns.Veths?.[next[1].NetworkID];
      if (next && veth) {
        await setDefaultRoute(rec.Id, next[1].Gateway, veth.ifname);
        ns.Networks = { [next[0]]: next[1], ...ns.Networks };
      }
    }
    await this.writeEtcFiles(rec);
  }

  /** A rename reaches the networks' endpoint lists (network inspect shows the name). */
  async renamed(rec: ContainerRecord): Promise<void> {
    for (const es of Object.values(rec.NetworkSettings?.Networks ?? {})) {
      if (es.NetworkID && this.o.networks.store.get(es.NetworkID)?.Containers[rec.Id]) await this.o.networks.renameEndpoint(es.NetworkID, rec.Id, rec.Name.slice(1));
    }
  }

  // ---- networks ----

  async networkCreated(id: string): Promise<void> {
    const n = this.o.networks.get(id);
    if (isBridgeNetwork(n)) await this.plane(n);
  }

  async networkRemoving(n: NetworkRecord): Promise<void> {
    if (!isBridgeNetwork(n)) return;
    if (this.dnsLoaded) await (await this.dnsLoaded).stopNetwork(n.Id);
    await removePlane(n);
    this.planes.delete(n.Id);
  }

  // ---- daemon start and stop ----

  /**
   * Daemon start: the default bridge and every network's bridge are (re)made; endpoints of
   * containers that no longer run are released, with their sandboxes; running containers
   * get their DNS listeners and published ports back.
   */
  async init(): Promise<void> {
    await fsp.mkdir(join(this.o.execRoot, 'network'), { recursive: true, mode: 0o700 });
    const containers = this.o.containers.list();
    const running = new Map(containers.filter((c) => isActive(c) && c.NetworkSettings?.SandboxKey).map((c) => [c.Id, c]));
    for (const n of this.o.networks.store.list()) {
      if (!isBridgeNetwork(n)) continue;
      for (const id of Object.keys(n.Containers)) if (!running.has(id)) await this.o.networks.disconnect(n.Id, id, true);
      // Bridges are made (or checked) at their first use: the running containers' bridges and
      // tables outlived the daemon with them.
      if (!Object.keys(this.o.networks.store.get(n.Id)?.Containers ?? {}).length) continue;
      if (!isDefaultBridge(n)) {
        await (await this.dns()).serveNetwork(n.Id, ipv4Config(n).gateway).catch((err) => log.warn('cannot serve DNS', { network: n.Name, error: err }));
      }
    }
    // Sandboxes of containers that stopped (or vanished) while berthd was away; their veths
    // go with them.
    for (const prefix of await listSandboxes()) {
      const c = containers.find((x) => x.Id.startsWith(prefix));
      if (!c || running.has(c.Id)) continue; // running, or another daemon's
      await this.teardown(c).catch(() => undefined);
      await destroySandbox(c.Id, []);
    }
    // Only when some container held ports (a table without live rules is harmless); not
    // waited for (berthd answers meanwhile): a publish queues behind it.
    const holding = [...running.values()].filter((c) => c.NetworkSettings?.Published?.length);
    if (!holding.length) return;
    void this.ports
      .restore(
        holding.map((c) => {
          const first = Object.values(c.NetworkSettings!.Networks)[0]!;
          return { containerId: c.Id, containerIp: first.IPAddress, bridge: bridgeNameOf(this.o.networks.get(first.NetworkID)), ports: c.NetworkSettings!.Published! };
        }),
      )
      .catch((err) => log.warn('restoring published ports failed', { error: err }));
  }

  /** Daemon stop: listeners close; with nothing left running, the bridges and rules go too. */
  async shutdown(): Promise<void> {
    await this.settled();
    const anyRunning = this.o.containers.list().some((c) => isActive(c) && c.NetworkSettings?.SandboxKey);
    if (this.dnsLoaded) await (await this.dnsLoaded).close().catch((err) => log.warn('closing the DNS listeners failed', { error: err }));
    await this.ports.close(!anyRunning).catch((err) => log.warn('releasing published ports failed', { error: err }));
    if (anyRunning) return;
    for (const n of this.o.networks.store.list()) {
      // Made by this run or left by an earlier one: its bridge is there (no process to ask).
      if (!isBridgeNetwork(n) || !existsSync(`/sys/class/net/${bridgeNameOf(n)}`)) continue;
      await removePlane(n).catch((err) => log.warn('cannot remove network bridge', { network: n.Name, error: err }));
    }
  }
}

function isDefaultBridge(n: NetworkRecord | undefined): boolean {
  return !!n && n.Name === 'bridge' && n.Driver === 'bridge';
}

/** dockerd's checks of an endpoint's settings against its network. */
function checkEndpointRequest(n: NetworkRecord, req: EndpointRequest): void {
  const userNet = !isDefaultBridge(n) && isBridgeNetwork(n);
  if (req.Aliases?.length && !userNet) throw badParameter('network-scoped alias is supported only for containers in user defined networks');
  const ip = req.IPAMConfig?.IPv4Address;
  if (ip) {
    if (!userNet) throw badParameter('user specified IP address is supported on user defined networks only');
    // dockerd: only where the user chose the subnet.
    if (!n.IPAM.Config.some((c) => c.Subnet)) throw badParameter('user specified IP address is supported only when connecting to networks with user configured subnets');
  }
  if (req.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(req.MacAddress)) throw badParameter(`invalid MAC address: ${req.MacAddress}`);
}


async function writeInPlace(path: string, text: string): Promise<void> {
  await fsp.writeFile(path, text, { mode: 0o644 });
}

