// The kernel side of a bridge network: its Linux bridge (with the gateway address), its
// firewall table (masquerade, or none of the way out for --internal) and isolation from
// berth's other bridges. Made when the network is created (the default bridge when berthd
// starts), removed with the network, or when berthd stops with nothing left running on it.
import { deleteBridge, ensureBridge } from './bridge.ts';
import { applyNat, ensureIpForward, removeNat } from './nat.ts';
import type { NetworkRecord } from './types.ts';

export const DEFAULT_BRIDGE = 'berth0';

/** The bridge's name: the option Docker names it by, else br-<id12> as dockerd does. */
export function bridgeNameOf(n: NetworkRecord): string {
  return n.Options['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`;
}

export function isBridgeNetwork(n: NetworkRecord): boolean {
  return n.Driver === 'bridge';
}

/** The network's IPv4 subnet and gateway (bridge networks always have one). */
export function ipv4Config(n: NetworkRecord): { subnet: string; gateway: string; prefix: number } {
  const c = n.IPAM.Config.find((x) => x.Subnet && !x.Subnet.includes(':'));
  if (!c?.Subnet || !c.Gateway) throw new Error(`network ${n.Name} has no IPv4 subnet`);
  return { subnet: c.Subnet, gateway: c.Gateway, prefix: Number(c.Subnet.split('/')[1]) };
}

/** com.docker.network.driver.mtu when it differs from the kernel's default. */
export function mtuFor(n: NetworkRecord): number | undefined {
  const v = Number(n.Options['com.docker.network.driver.mtu']);
  return Number.isInteger(v) && v >= 68 && v !== 1500 ? v : undefined;
}

/** Bridge, address, firewall table: each step idempotent, so a restart re-adopts them. */
export async function ensurePlane(n: NetworkRecord): Promise<void> {
  const { subnet, gateway, prefix } = ipv4Config(n);
  const bridge = bridgeNameOf(n);
  await ensureBridge({ name: bridge, address: `${gateway}/${prefix}`, network: n.Id, mtu: mtuFor(n) });
  const masquerade = n.Options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false';
  await applyNat({ bridge, subnet, internal: n.Internal, masquerade });
  if (!n.Internal) await ensureIpForward();
}

export async function removePlane(n: NetworkRecord): Promise<void> {
  const bridge = bridgeNameOf(n);
  await removeNat(bridge);
  await deleteBridge(bridge);
}
