// Who the embedded DNS of a network answers, and what: the containers with an endpoint on
// that network by name, short id and network alias (and, for the container that has it, a
// link's alias), their PTR names, and where a client's other names go (its --dns servers).
// The asker is known by its source address, so no container learns names of a network it
// is not on.
import { isIP } from 'node:net';
import type { ContainerRecord } from '../container/record.ts';
import type { DnsDirectory } from './network-dns.ts';
import type { NetworkService } from './service.ts';
import type { NetworkRecord } from './types.ts';
import { parseLink } from './etc-files.ts';

export function dnsDirectory(networks: NetworkService, containers: { find(ref: string): ContainerRecord | undefined }): DnsDirectory {
  const namesOf = (c: ContainerRecord, n: NetworkRecord): string[] => {
    const es = c.NetworkSettings?.Networks[n.Name];
    return [c.Name.slice(1), c.Id.slice(0, 12), ...(es?.Aliases ?? [])].map((x) => x.toLowerCase());
  };
  const members = (networkId: string) => {
    const n = networks.store.get(networkId);
    if (!n) return undefined;
    const out: Array<{ c: ContainerRecord; ip: string }> = [];
    for (const [id, ep] of Object.entries(n.Containers)) {
      const c = containers.find(id);
      if (c) out.push({ c, ip: ep.IPv4Address.split('/')[0]! });
    }
    return { n, out };
  };
  return {
    lookup: (networkId, clientIp, name) => {
      const first = members(networkId);
      const asker = first?.out.find((x) => x.ip === clientIp);
      if (!first || !asker) return [];
      // 127.0.0.11 reaches one network's listener; the asker sees the names of every network
      // it is on (in its order), and none of the others.
      const nets = [networkId, ...Object.values(asker.c.NetworkSettings?.Networks ?? {}).map((e) => e.NetworkID).filter((id) => id && id !== networkId)];
      for (const id of nets) {
        const m = id === networkId ? first : members(id);
        if (!m) continue;
        let q = name.toLowerCase().replace(/\.$/, '');
        if (q.endsWith(`.${m.n.Name.toLowerCase()}`)) q = q.slice(0, -(m.n.Name.length + 1));
        // A link's alias, seen only by the container that has the link.
        for (const l of asker.c.NetworkSettings?.Networks[m.n.Name]?.Links ?? []) {
          const [target, alias] = parseLink(l);
          if (alias.toLowerCase() !== q) continue;
          const t = m.out.find((x) => x.c.Name.slice(1) === target || x.c.Id.startsWith(target));
          if (t) return [t.ip];
        }
        const hits = m.out.filter((x) => namesOf(x.c, m.n).includes(q)).map((x) => x.ip);
        if (hits.length) return hits;
      }
      return [];
    },
    upstreams: (networkId, clientIp) => {
      const asker = members(networkId)?.out.find((x) => x.ip === clientIp);
      return (asker?.c.HostConfig.Dns ?? []).filter((a) => isIP(a)).map((address) => ({ address, port: 53 }));
    },
    reverse: (networkId, clientIp, ip) => {
      const first = members(networkId);
      const asker = first?.out.find((x) => x.ip === clientIp);
      const nets = [networkId, ...Object.values(asker?.c.NetworkSettings?.Networks ?? {}).map((e) => e.NetworkID).filter((id) => id && id !== networkId)];
      for (const id of nets) {
        const m = id === networkId ? first : members(id);
        const hit = m?.out.find((x) => x.ip === ip);
        if (hit && m) return [`${hit.c.Name.slice(1)}.${m.n.Name}`];
      }
      return [];
    },
  };
}
