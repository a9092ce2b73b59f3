// berth network create: POST /networks/create; the IPAM settings are paired client-side as
// docker's consolidateIpam does (each gateway/ip-range under the subnet that holds it).
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef, type Invocation } from '../command.ts';
import { ListFlag, StringSliceFlag, type BoolFlag, type FlagSet, type StringFlag } from '../flags.ts';
import { validateLabel } from '../opts/validators.ts';

interface CreateFlags {
  driver: StringFlag;
  opts: ListFlag;
  labels: ListFlag;
  internal: BoolFlag;
  ipv4: BoolFlag;
  ipv6: BoolFlag;
  attachable: BoolFlag;
  ingress: BoolFlag;
  scope: StringFlag;
  configOnly: BoolFlag;
  configFrom: StringFlag;
  ipamDriver: StringFlag;
  subnets: StringSliceFlag;
  ipRanges: StringSliceFlag;
  gateways: StringSliceFlag;
  auxAddresses: ListFlag;
  ipamOpts: ListFlag;
}

export function mapOf(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function ipv4ToInt(ip: string): number | undefined {
  const p = ip.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((a, x) => a * 256 + Number(x), 0);
}

function parseCidr(s: string): { base: number; size: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  const ip = m ? ipv4ToInt(m[1]) : undefined;
  if (!m || ip === undefined || Number(m[2]) > 32) return undefined;
  const size = 2 ** (32 - Number(m[2]));
  return { base: ip - (ip % size), size };
}

function subnetHolds(subnet: string, addr: string): boolean {
  const s = parseCidr(subnet);
  const a = addr.includes('/') ? parseCidr(addr) : (() => {
    const n = ipv4ToInt(addr);
    return n === undefined ? undefined : { base: n, size: 1 };
  })();
  if (!s || !a) return false;
  return a.base >= s.base && a.base + a.size <= s.base + s.size;
}

interface IpamEntry {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

function consolidateIpam(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IpamEntry[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const entries: IpamEntry[] = [];
  for (const s of subnets) {
    if (!parseCidr(s)) throw new Error(`invalid CIDR address: ${s}`);
    for (const e of entries) {
      if (subnetHolds(e.Subnet, s) || subnetHolds(s, e.Subnet)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    entries.push({ Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of ranges) {
    const e = entries.find((x) => subnetHolds(x.Subnet, r));
    if (!e) throw new Error(`no matching subnet for range ${r}`);
    if (e.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${e.IPRange}) on the same subnet (${e.Subnet})`);
    e.IPRange = r;
  }
  for (const g of gateways) {
    const e = entries.find((x) => subnetHolds(x.Subnet, g));
    if (!e) throw new Error(`no matching subnet for gateway ${g}`);
    if (e.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${e.Gateway}) for the same subnet (${e.Subnet})`);
    e.Gateway = g;
  }
  for (const [k, a] of Object.entries(aux)) {
    const e = entries.find((x) => subnetHolds(x.Subnet, a));
    if (!e) throw new Error(`no matching subnet for aux-address ${a}`);
    e.AuxiliaryAddresses![k] = a;
  }
  return entries;
}

export const command: CommandDef<CreateFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    attachable: fs.bool('attachable', undefined, false, 'Enable manual container attachment'),
    auxAddresses: fs.add(new ListFlag('aux-address', undefined, 'Auxiliary IPv4 or IPv6 addresses used by Network driver', undefined, 'map', 'map[]')),
    configFrom: fs.string('config-from', undefined, '', 'The network from which to copy the configuration'),
    configOnly: fs.bool('config-only', undefined, false, 'Create a configuration only network'),
    driver: fs.string('driver', 'd', 'bridge', 'Driver to manage the Network'),
    gateways: fs.add(new StringSliceFlag('gateway', undefined, 'IPv4 or IPv6 Gateway for the master subnet')),
    ingress: fs.bool('ingress', undefined, false, 'Create swarm routing-mesh network'),
    internal: fs.bool('internal', undefined, false, 'Restrict external access to the network'),
    ipRanges: fs.add(new StringSliceFlag('ip-range', undefined, 'Allocate container ip from a sub-range')),
    ipamDriver: fs.string('ipam-driver', undefined, 'default', 'IP Address Management Driver'),
    ipamOpts: fs.add(new ListFlag('ipam-opt', undefined, 'Set IPAM driver specific options', undefined, 'map', 'map[]')),
    ipv4: fs.bool('ipv4', undefined, true, 'Enable or disable IPv4 address assignment'),
    ipv6: fs.bool('ipv6', undefined, false, 'Enable or disable IPv6 address assignment'),
    labels: fs.list('label', undefined, 'Set metadata on a network', validateLabel),
    opts: fs.add(new ListFlag('opt', 'o', 'Set driver specific options', undefined, 'map', 'map[]')),
    scope: fs.string('scope', undefined, '', "Control the network's scope"),
    subnets: fs.add(new StringSliceFlag('subnet', undefined, 'Subnet in CIDR format that represents a network segment')),
  }),
  async run(cli: Cli, f: CreateFlags, [name]: string[], fs: FlagSet, _inv: Invocation) {
    const config = consolidateIpam(f.subnets.values, f.ipRanges.values, f.gateways.values, mapOf(f.auxAddresses.values));
    const body: Record<string, unknown> = {
      Name: name,
      Driver: f.driver.value,
      Scope: f.scope.value,
      IPAM: { Driver: f.ipamDriver.value, Config: config, Options: mapOf(f.ipamOpts.values) },
      Internal: f.internal.value,
      Attachable: f.attachable.value,
      Ingress: f.ingress.value,
      ConfigOnly: f.configOnly.value,
      Options: mapOf(f.opts.values),
      Labels: mapOf(f.labels.values),
    };
    // Unset booleans stay out of the body so the daemon applies its defaults, as docker's pointers do.
    if (fs.changed('ipv4')) body.EnableIPv4 = f.ipv4.value;
    if (fs.changed('ipv6')) body.EnableIPv6 = f.ipv6.value;
    body.ConfigFrom = f.configFrom.value ? { Network: f.configFrom.value } : null;
    for (const c of config) if (Object.keys(c.AuxiliaryAddresses ?? {}).length === 0) delete c.AuxiliaryAddresses;
    const res = await cli.client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body });
    if (res.Warning) cli.err.write(`Warning: ${res.Warning}\n`);
    cli.out.write(res.Id + '\n');
  },
};
