// The default `bridge` network (dockerd's docker0): its Linux bridge is named by --bridge
// and its subnet is --bip's, or one of Docker's default pools that no route or address of
// the host touches, chosen once and kept while the bridge exists (a restart re-adopts it).
import { getLink, ip } from './netns.ts';
import { chooseSubnet, hostSubnets, parseBip } from './ipam.ts';
import type { NetworkService } from './service.ts';
import { formatCidr, formatIPv4, parseCidr, type Cidr } from './subnets.ts';
import type { SubnetAllocator } from './types.ts';

const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

export async function configureDefaultBridge(svc: NetworkService, bridge: string, bip?: string): Promise<void> {
  const rec = structuredClone(svc.get('bridge'));
  const current = rec.IPAM.Config[0];
  let subnet: string;
  let gateway: string;
  if (bip) {
    const b = parseBip(bip);
    subnet = formatCidr(b.subnet);
    gateway = formatIPv4(b.gateway);
  } else if (current?.Subnet && current.Gateway && rec.Options[BRIDGE_NAME_OPTION] === bridge && (await bridgeHasAddress(bridge, current.Gateway))) {
    ({ Subnet: subnet, Gateway: gateway } = current as { Subnet: string; Gateway: string });
  } else {
    const others = svc.store.list().filter((n) => n.Id !== rec.Id).flatMap((n) => n.IPAM.Config.filter((c) => c.Subnet && !c.Subnet.includes(':')).map((c) => parseCidr(c.Subnet!)));
    const c = chooseSubnet([...(await hostSubnets()), ...others]);
    subnet = formatCidr(c);
    gateway = formatIPv4(c.base + 1);
  }
  if (current?.Subnet === subnet && current.Gateway === gateway && rec.Options[BRIDGE_NAME_OPTION] === bridge) return;
  rec.IPAM.Config = [{ Subnet: subnet, Gateway: gateway }];
  rec.Options[BRIDGE_NAME_OPTION] = bridge;
  await svc.store.save(rec);
}

async function bridgeHasAddress(name: string, address: string): Promise<boolean> {
  if (!(await getLink(name))) return false;
  const info = JSON.parse((await ip(['-j', '-4', 'addr', 'show', 'dev', name])) || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  return info.some((i) => i.addr_info?.some((a) => a.local === address));
}

/** User networks without --subnet: Docker's default pools, skipping what the host routes. */
export const hostAwareAllocator: SubnetAllocator = async (inUse) => {
  const taken: Cidr[] = [...(await hostSubnets()), ...inUse.map((s) => parseCidr(s))];
  const c = chooseSubnet(taken);
  return { Subnet: formatCidr(c), Gateway: formatIPv4(c.base + 1) };
};
