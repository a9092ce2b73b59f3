// Shared by the network unit tests that build real kernel objects.
import { randomBytes, randomInt } from 'node:crypto';
import { chooseSubnet, hostSubnets } from '../../src/network/ipam.ts';
import { createHash } from 'node:crypto';
import { systemError } from '../../src/util/errors.ts';
import { ip, type NetnsRef, netnsTarget, runTool } from '../../src/network/netns.ts';
import { formatIPv4, macFromIPv4, parseIPv4, type Cidr } from '../../src/network/subnets.ts';
import { VETH_ALIAS_PREFIX } from '../../src/network/veth.ts';

// Unique names, a test subnet touching nothing on this host, and a cleanup stack
// that runs every step even on failure.
export const uniq = (): string => randomBytes(3).toString('hex');

/** A random 10.x.y.0/24 no host route or address touches. */
export async function freeTestSubnet(prefix = 24): Promise<Cidr> {
  const cands: Cidr[] = [];
  for (let i = 0; i < 64; i++) cands.push({ base: ((10 << 24) | (randomInt(100, 250) << 16) | (randomInt(0, 256) << 8)) >>> 0, prefix });
  return chooseSubnet(await hostSubnets(), cands);
}

export class Cleanup {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  push(step: () => Promise<unknown> | unknown): void { this.steps.push(step); }
  /** Runs every step, last first; keeps going past failures and reports the first. */
  async run(): Promise<void> {
    let first: unknown;
    while (this.steps.length) {
      try { await this.steps.pop()!(); } catch (err) { first ??= err; }
    }
    if (first) throw first;
  }
}

// A veth from a bridge into any namespace (a named one or a /proc path): the tests' own
// stand-in for a container's endpoint, with the alias berth's veths carry.

export function hostVethName(containerId: string, network: string): string {
  return 'veth' + createHash('sha256').update(`${containerId}\0${network}`).digest('hex').slice(0, 7);
}

export interface VethOptions {
  containerId: string;
  network: string;
  bridge: string;
  /** the container's network namespace: nsfs path or named netns */
  netns: NetnsRef;
  /** container address, dotted */
  address: string;
  prefix: number;
  /** default route via this address; omitted: no default route (e.g. a second network) */
  gateway?: string;
  /** default: Docker's 02:42 + the address octets */
  mac?: string;
  /** name inside the namespace, default eth0 */
  ifname?: string;
  mtu?: number;
}

export interface Endpoint {
  hostIfname: string;
  ifname: string;
  mac: string;
  address: string;
  prefix: number;
  gateway?: string;
}

/** Creates and configures the pair; on any failure nothing is left behind. */
export async function attachVeth(opts: VethOptions): Promise<Endpoint> {
  const hostIfname = hostVethName(opts.containerId, opts.network);
  const tmpName = 'bt' + hostIfname.slice(4) + 'p'; // unique in the root ns while it passes through
  const ifname = opts.ifname ?? 'eth0';
  const mac = opts.mac ?? macFromIPv4(parseIPv4(opts.address));
  const address = formatIPv4(parseIPv4(opts.address));
  const add = ['link', 'add', 'name', hostIfname];
  if (opts.mtu) add.push('mtu', String(opts.mtu));
  add.push('type', 'veth', 'peer', 'name', tmpName);
  if (opts.mtu) add.push('mtu', String(opts.mtu));
  await ip(add);
  try {
    await ip(['link', 'set', 'dev', hostIfname, 'alias', `${VETH_ALIAS_PREFIX}${opts.containerId}:${opts.network}`]);
    await ip(['link', 'set', 'dev', hostIfname, 'master', opts.bridge]);
    await ip(['link', 'set', 'dev', tmpName, 'netns', netnsTarget(opts.netns)]);
    const ns = opts.netns;
    await ip(['link', 'set', 'dev', tmpName, 'name', ifname], ns);
    await ip(['link', 'set', 'dev', ifname, 'address', mac], ns);
    await ip(['addr', 'add', `${address}/${opts.prefix}`, 'dev', ifname], ns);
    await ip(['link', 'set', 'dev', 'lo', 'up'], ns);
    await ip(['link', 'set', 'dev', ifname, 'up'], ns);
    await ip(['link', 'set', 'dev', hostIfname, 'up']);
    if (opts.gateway) await ip(['route', 'replace', 'default', 'via', opts.gateway, 'dev', ifname], ns);
  } catch (err) {
    await runTool('ip', ['link', 'del', 'dev', hostIfname]); // takes the peer with it, wherever it is
    throw err;
  }
  return { hostIfname, ifname, mac, address, prefix: opts.prefix, gateway: opts.gateway };
}

/** Deletes the pair by its host end. Missing (already gone with its namespace) is fine. */
export async function detachVeth(hostIfname: string): Promise<void> {
  const r = await runTool('ip', ['link', 'del', 'dev', hostIfname]);
  if (r.code !== 0 && !/cannot find|does not exist/i.test(r.stderr)) throw systemError(`ip link del ${hostIfname}: ${r.stderr.trim()}`);
}
