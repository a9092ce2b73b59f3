// A container's network sandbox: a named network namespace (/run/netns/berth-<id16>) made
// before the runtime starts the container (the spec joins it by path), and one veth pair
// per network. The namespace outlives berthd (a bind mount), so a restarted daemon finds
// the networking of containers that kept running exactly where it left it.
//
// Speed matters here: every `docker run` on a bridge pays for it. A start costs two iproute2
// processes fed batches of commands (the host side with the namespace itself, then the
// inside), a stop one; the kernel's slow part of deleting a veth (~20 ms) happens after the
// namespace is gone, in the background.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { systemError } from '../util/errors.ts';
import { runTool } from './netns.ts';
import { formatIPv4, parseIPv4 } from './subnets.ts';
import { VETH_ALIAS_PREFIX } from './veth.ts';
import { runBatches, tryBatches } from './ip-runner.ts';

export const NETNS_DIR = '/run/netns';
const NETNS_PREFIX = 'berth-';

/** The namespace's name (as `ip netns` knows it) for a container. */
export function sandboxName(containerId: string): string {
  return NETNS_PREFIX + containerId.slice(0, 16);
}

/** One endpoint to plug: a veth from `bridge` into the sandbox, named `ifname` there. */
export interface EndpointPlan {
  networkId: string;
  bridge: string;
  /** The host end's name (newVethName): fresh for every start, see there. */
  hostIfname: string;
  /** eth0, eth1, … inside the container. */
  ifname: string;
  address: string;
  prefix: number;
  /** Default route through it (the container's first network). */
  gateway?: string;
  mac: string;
  mtu?: number;
}

/**
 * A host end's name: "veth" + 7 hex digits, new at every start. The pair of a stopped run
 * dies with its namespace, which the kernel finishes in the background (waiting for it
 * costs ~20 ms an interface): a restart right after must not need the old name.
 */
export function newVethName(): string {
  return 'veth' + randomBytes(4).toString('hex').slice(0, 7);
}

function hostLines(containerId: string, e: EndpointPlan): string[] {
  const mtu = e.mtu ? ` mtu ${e.mtu}` : '';
  return [
    // Made with its peer already named, addressed by MAC and inside the namespace.
    `link add name ${e.hostIfname}${mtu} master ${e.bridge} type veth peer name ${e.ifname} address ${e.mac}${mtu} netns ${sandboxName(containerId)}`,
    `link set dev ${e.hostIfname} alias ${VETH_ALIAS_PREFIX}${containerId}:${e.networkId}`,
    // Hairpin: a container may reach its own published port through the host's address.
    `link set dev ${e.hostIfname} type bridge_slave hairpin on`,
    `link set dev ${e.hostIfname} up`,
  ];
}

function insideLines(e: EndpointPlan): string[] {
  const lines = [`addr add ${formatIPv4(parseIPv4(e.address))}/${e.prefix} dev ${e.ifname}`, `link set dev ${e.ifname} up`];
  if (e.gateway) lines.push(`route replace default via ${formatIPv4(parseIPv4(e.gateway))} dev ${e.ifname}`);
  return lines;
}

/**
 * The sandbox with every endpoint, in two iproute2 processes: the host side (the namespace
 * itself, the pairs) and the inside. With `pid`, the namespace is the one that process is
 * in (a container in a user namespace has its network namespace made by the runtime inside
 * it: only a namespace its user namespace owns lets it mount /sys). On failure nothing is
 * left. Returns the namespace's path.
 */
export async function buildSandbox(containerId: string, endpoints: EndpointPlan[], pid?: number): Promise<string> {
  const name = sandboxName(containerId);
  const host = [pid ? `netns attach ${name} ${pid}` : `netns add ${name}`, ...endpoints.flatMap((e) => hostLines(containerId, e))];
  try {
    await runBatches([{ lines: host }, { ns: name, lines: ['link set dev lo up', ...endpoints.flatMap(insideLines)] }]);
  } catch (err) {
    await destroySandbox(containerId, endpoints.map((e) => e.hostIfname)).catch(() => undefined);
    throw err;
  }
  return `${NETNS_DIR}/${name}`;
}

/** One more endpoint in a running container's sandbox (network connect). */
export async function plugEndpoint(containerId: string, e: EndpointPlan): Promise<void> {
  try {
    await runBatches([{ lines: hostLines(containerId, e) }, { ns: sandboxName(containerId), lines: insideLines(e) }]);
  } catch (err) {
    await runTool('ip', ['link', 'del', 'dev', e.hostIfname]); // takes the peer with it
    throw err;
  }
}

/**
 * The sandbox goes, in one process: the host ends are set down first (the bridge forgets
 * them at once, so an address given again right away reaches its new owner), then the
 * namespace is unnamed and the kernel deletes it, and the pairs with it, in the background.
 * Missing pieces are fine.
 */
export async function destroySandbox(containerId: string, hostIfnames: string[]): Promise<void> {
  const lines = [...hostIfnames.map((h) => `link set dev ${h} down`), `netns delete ${sandboxName(containerId)}`];
  const r = await tryBatches([{ lines, force: true }]);
  // Every failure being a missing piece is no failure.
  const rest = r.output.split('\n').filter((l) => l.trim() && !/No such file|not found|does not exist|Cannot find|Command failed/i.test(l));
  if (r.code !== 0 && rest.length) throw systemError(`removing the network namespace: ${r.output.trim()}`);
}

/** Sandboxes present on the host, by the container id prefix in their name. */
export async function listSandboxes(): Promise<string[]> {
  const names = await readdir(NETNS_DIR).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(NETNS_PREFIX)).map((n) => n.slice(NETNS_PREFIX.length));
}

/** Removes one endpoint's pair by its host end (network disconnect); a missing one is fine. */
export async function unplugEndpoint(hostIfname: string): Promise<void> {
  const r = await runTool('ip', ['link', 'del', 'dev', hostIfname]);
  if (r.code !== 0 && !/cannot find|does not exist/i.test(r.stderr)) throw systemError(`ip link del ${hostIfname}: ${r.stderr.trim()}`);
}

/** The sandbox's default route, now through `ifname` (its network with a way out changed). */
export async function setDefaultRoute(containerId: string, gateway: string, ifname: string): Promise<void> {
  await runBatches([{ ns: sandboxName(containerId), lines: [`route replace default via ${formatIPv4(parseIPv4(gateway))} dev ${ifname}`] }]);
}
