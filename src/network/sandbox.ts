// A container's network sandbox: a named network namespace (/run/netns/berth-<id16>) made
// before the runtime starts the container (the spec joins it by path), and one veth pair
// per network. The namespace outlives berthd (a bind mount), so a restarted daemon finds
// the networking of containers that kept running exactly where it left it.
//
// Speed matters here: every `docker run` on a bridge pays for it. Each step is one iproute2
// process fed a batch of commands: `ip netns add`, the host side (`ip -batch`: the pair is
// created with its peer already named, addressed and moved into the namespace), the
// namespace side (`ip -n NS -batch`).
import { systemError } from '../util/errors.ts';
import { runTool } from './netns.ts';
import { formatIPv4, macFromIPv4, parseIPv4 } from './subnets.ts';
import { hostVethName, VETH_ALIAS_PREFIX } from './veth.ts';

export const NETNS_DIR = '/run/netns';
const NETNS_PREFIX = 'berth-';

/** The namespace's name (as `ip netns` knows it) for a container. */
export function sandboxName(containerId: string): string {
  return NETNS_PREFIX + containerId.slice(0, 16);
}

export function sandboxPath(containerId: string): string {
  return `${NETNS_DIR}/${sandboxName(containerId)}`;
}

async function run(args: string[], input?: string): Promise<void> {
  const r = await runTool('ip', args, input);
  if (r.code !== 0) throw systemError(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/**
 * Creates the namespace, or with `pid` names the one that process is in (a container in a
 * user namespace has its network namespace made by the runtime inside it: only a namespace
 * its user namespace owns lets it mount /sys). An existing one of that name (a start that
 * failed half-way) is reused.
 */
export async function createSandbox(containerId: string, pid?: number): Promise<string> {
  const name = sandboxName(containerId);
  const r = await runTool('ip', pid ? ['netns', 'attach', name, String(pid)] : ['netns', 'add', name]);
  if (r.code !== 0 && !/exists/i.test(r.stderr)) throw systemError(`creating the network namespace: ${r.stderr.trim()}`);
  return `${NETNS_DIR}/${name}`;
}

/** Deletes the namespace (its veth ends with it); a missing one is fine. */
export async function deleteSandbox(containerId: string): Promise<void> {
  const r = await runTool('ip', ['netns', 'delete', sandboxName(containerId)]);
  if (r.code !== 0 && !/No such file|not found|does not exist/i.test(r.stderr)) throw systemError(`deleting the network namespace: ${r.stderr.trim()}`);
}

/** Sandboxes present on the host, by the container id prefix in their name. */
export async function listSandboxes(): Promise<string[]> {
  const r = await runTool('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX))
    .map((n) => n.slice(NETNS_PREFIX.length));
}

export interface PlugOptions {
  containerId: string;
  /** Network id: names the host end and goes in its alias. */
  networkId: string;
  bridge: string;
  /** eth0, eth1, … inside the container. */
  ifname: string;
  address: string;
  prefix: number;
  /** Default route through it (the container's first network). */
  gateway?: string;
  mac?: string;
  mtu?: number;
}

export interface PluggedEndpoint {
  hostIfname: string;
  ifname: string;
  mac: string;
}

/** One veth pair from the network's bridge into the sandbox; on failure nothing is left. */
export async function plugEndpoint(o: PlugOptions): Promise<PluggedEndpoint> {
  const ns = sandboxName(o.containerId);
  const hostIfname = hostVethName(o.containerId, o.networkId);
  const address = formatIPv4(parseIPv4(o.address));
  const mac = o.mac || macFromIPv4(parseIPv4(address));
  const mtu = o.mtu ? ` mtu ${o.mtu}` : '';
  const host = [
    `link add name ${hostIfname}${mtu} type veth peer name ${o.ifname} address ${mac}${mtu} netns ${ns}`,
    `link set dev ${hostIfname} alias ${VETH_ALIAS_PREFIX}${o.containerId}:${o.networkId}`,
    `link set dev ${hostIfname} master ${o.bridge}`,
    // Hairpin: a container may reach its own published port through the host's address.
    `link set dev ${hostIfname} type bridge_slave hairpin on`,
    `link set dev ${hostIfname} up`,
  ];
  const inside = ['link set dev lo up', `addr add ${address}/${o.prefix} dev ${o.ifname}`, `link set dev ${o.ifname} up`];
  if (o.gateway) inside.push(`route replace default via ${formatIPv4(parseIPv4(o.gateway))} dev ${o.ifname}`);
  try {
    await run(['-batch', '-'], host.join('\n') + '\n');
    await run(['-n', ns, '-batch', '-'], inside.join('\n') + '\n');
  } catch (err) {
    await runTool('ip', ['link', 'del', 'dev', hostIfname]); // takes the peer with it
    throw err;
  }
  return { hostIfname, ifname: o.ifname, mac };
}

/** Removes one endpoint's pair by its host end; a missing one is fine. */
export async function unplugEndpoint(containerId: string, networkId: string): Promise<void> {
  const hostIfname = hostVethName(containerId, networkId);
  const r = await runTool('ip', ['link', 'del', 'dev', hostIfname]);
  if (r.code !== 0 && !/cannot find|does not exist/i.test(r.stderr)) throw systemError(`ip link del ${hostIfname}: ${r.stderr.trim()}`);
}
