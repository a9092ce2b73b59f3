// A container's link to a bridge: a veth pair whose host end joins the bridge and
// whose other end moves into the container's network namespace as eth0.
// Host ends are named "veth" + 7 hex digits of sha256(container, network), so the
// name is stable for a (container, network) pair and a restart can find it again,
// and carry the alias "berth-veth:<container>:<network>" to mark them as berth's
// (Docker names its own veths the same way, so the name alone proves nothing).

import { createHash } from 'node:crypto';
import { systemError } from '../util/errors.ts';
import { ip, listLinks, type NetnsRef, netnsTarget, runTool } from './netns.ts';
import { formatIPv4, macFromIPv4, parseIPv4 } from './subnets.ts';

export const VETH_ALIAS_PREFIX = 'berth-veth:';

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

/** Host ends berth created, with the container and network from their alias. */
export async function listBerthVeths(): Promise<Array<{ hostIfname: string; containerId: string; network: string; master?: string }>> {
  const out = [];
  for (const l of await listLinks()) {
    if (!l.ifalias?.startsWith(VETH_ALIAS_PREFIX)) continue;
    const rest = l.ifalias.slice(VETH_ALIAS_PREFIX.length);
    const i = rest.indexOf(':');
    out.push({ hostIfname: l.ifname, containerId: rest.slice(0, i), network: rest.slice(i + 1), master: l.master });
  }
  return out;
}
