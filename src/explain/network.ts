// The network part of `berth explain`, read from the kernel: the interfaces and routes in
// the container's network namespace (through its pid), each veth's host end and the bridge
// it is on, the nameservers its /etc/resolv.conf names, and the DNAT rules in berth's ports
// table that lead to its addresses.
import { join } from 'node:path';
import { ip, runTool } from '../network/netns.ts';
import { readFileInRoot } from '../runtime/rootpath.ts';
import type { NetworkFacts } from './types.ts';

interface IpAddr {
  ifname: string;
  ifindex: number;
  address?: string;
  operstate?: string;
  link_index?: number;
  link_netnsid?: number;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  master?: string;
}

/** `nft list table` lines like "ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80". */
export function parsePublished(rules: string, addresses: readonly string[]): NetworkFacts['Published'] {
  const out: NetworkFacts['Published'] = [];
  for (const line of rules.split('\n')) {
    const m = /^\s*(?:ip daddr (\S+) )?(tcp|udp|sctp) dport (\d+) dnat (?:ip )?to ([\d.]+):(\d+)/.exec(line);
    if (!m || !addresses.includes(m[4]!)) continue;
    out.push({ HostIp: m[1] ?? '0.0.0.0', HostPort: Number(m[3]), ContainerIp: m[4]!, ContainerPort: Number(m[5]), Proto: m[2]! });
  }
  return out;
}

export async function readNetworkFacts(proc: string, pid: number, portsTable?: string): Promise<NetworkFacts> {
  const ns = join(proc, String(pid), 'ns', 'net');
  const addrs = JSON.parse((await ip(['-j', 'addr', 'show'], ns).catch(() => '[]')) || '[]') as IpAddr[];
  // A veth's peer index names the host end when the peer is in berthd's namespace (netnsid 0
  // is how the container's namespace sees the host's here: the only peer it has).
  const hostLinks = JSON.parse((await ip(['-j', 'link', 'show']).catch(() => '[]')) || '[]') as IpLink[];
  const interfaces: NetworkFacts['Interfaces'] = addrs.map((a) => {
    const peer = a.link_netnsid !== undefined && a.link_index ? hostLinks.find((l) => l.ifindex === a.link_index) : undefined;
    return {
      Name: a.ifname,
      Mac: a.address ?? '',
      State: a.operstate ?? '',
      Addresses: (a.addr_info ?? []).map((i) => `${i.local}/${i.prefixlen}`),
      HostPeer: peer?.ifname ?? '',
      Bridge: peer?.master ?? '',
    };
  });
  const routes = JSON.parse((await ip(['-j', '-4', 'route', 'show'], ns).catch(() => '[]')) || '[]') as Array<{ dst: string; gateway?: string; dev?: string }>;
  const resolv = (await readFileInRoot(join(proc, String(pid), 'root'), '/etc/resolv.conf').catch(() => undefined)) ?? '';
  const nameservers = resolv.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  const v4 = interfaces.flatMap((i) => i.Addresses.filter((x) => !x.includes(':')).map((x) => x.split('/')[0]!)).filter((x) => !x.startsWith('127.'));
  let published: NetworkFacts['Published'] = [];
  if (portsTable && v4.length) {
    const r = await runTool('nft', ['list', 'table', 'ip', portsTable]).catch(() => undefined);
    if (r?.code === 0) published = parsePublished(r.stdout, v4);
  }
  return {
    Interfaces: interfaces,
    Routes: routes.map((r) => ({ Destination: r.dst, Gateway: r.gateway ?? '', Device: r.dev ?? '' })),
    Nameservers: nameservers,
    Published: published,
  };
}
