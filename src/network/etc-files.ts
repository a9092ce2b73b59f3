// The /etc/hosts and /etc/resolv.conf a container sees, written as dockerd writes them.

const HOSTS_HEAD = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

export interface HostsInput {
  /** --add-host entries, "name:ip" (host-gateway already replaced). */
  extraHosts: Array<{ name: string; ip: string }>;
  /** Legacy links on the default bridge: the linked container's address, its alias and name. */
  links: Array<{ ip: string; names: string[] }>;
  /** The container's own address on its first network, with its hostname (and domain). */
  self?: { ip: string; hostname: string; domainname?: string };
}

export function hostsFile(i: HostsInput): string {
  let out = HOSTS_HEAD;
  for (const h of i.extraHosts) out += `${h.ip}\t${h.name}\n`;
  for (const l of i.links) out += `${l.ip}\t${l.names.join(' ')}\n`;
  if (i.self) {
    const names = i.self.domainname ? [`${i.self.hostname}.${i.self.domainname}`, i.self.hostname] : [i.self.hostname];
    out += `${i.self.ip}\t${names.join(' ')}\n`;
  }
  return out;
}

/** "name:ip" or "name=ip" (Docker accepts both); ip may be IPv6 or host-gateway. */
export function parseExtraHost(entry: string, hostGateway: string): { name: string; ip: string } {
  const m = /^([^:=]+)[:=](.+)$/.exec(entry);
  if (!m) throw new Error(`invalid extra host entry: ${entry}`);
  const ip = m[2] === 'host-gateway' ? hostGateway : m[2]!.replace(/^\[(.*)\]$/, '$1');
  return { name: m[1]!, ip };
}

export interface ResolvInput {
  /** The host's /etc/resolv.conf text. */
  host: string;
  /** --dns, --dns-search, --dns-option (empty: the host's). */
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** User-defined networks: the embedded server at 127.0.0.11 answers (and forwards). */
  embedded: boolean;
}

const LOOPBACK_NS = /^(127\.|::1$)/;
/** dockerd's fallback when the host leaves a container no usable resolver. */
const DEFAULT_NS = ['8.8.8.8', '8.8.4.4'];

export function resolvConf(i: ResolvInput): string {
  const hostNs: string[] = [];
  let hostSearch: string[] = [];
  const hostOptions: string[] = [];
  for (const raw of i.host.split('\n')) {
    const w = raw.trim().split(/\s+/);
    if (w[0] === 'nameserver' && w[1]) hostNs.push(w[1]);
    else if ((w[0] === 'search' || w[0] === 'domain') && w.length > 1) hostSearch = w.slice(1);
    else if (w[0] === 'options') hostOptions.push(...w.slice(1));
  }
  const search = i.dnsSearch.length ? i.dnsSearch.filter((s) => s !== '.') : hostSearch;
  let ns: string[];
  let options: string[];
  if (i.embedded) {
    ns = ['127.0.0.11'];
    // ndots:0 as dockerd's internal resolver sets it, unless the user chose one.
    const given = i.dnsOptions.length ? i.dnsOptions : hostOptions;
    options = given.some((o) => o.startsWith('ndots:')) ? given : ['ndots:0', ...given];
  } else {
    ns = i.dns.length ? i.dns : hostNs.filter((n) => !LOOPBACK_NS.test(n));
    if (!ns.length) ns = DEFAULT_NS;
    options = i.dnsOptions.length ? i.dnsOptions : hostOptions;
  }
  let out = '';
  for (const n of ns) out += `nameserver ${n}\n`;
  if (search.length) out += `search ${search.join(' ')}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

/** "web:db", "/web:/me/db" → ["web", "db"]; a link without alias is named after its target. */
export function parseLink(l: string): [string, string] {
  const i = l.indexOf(':');
  const target = (i < 0 ? l : l.slice(0, i)).replace(/^\//, '');
  const alias = i < 0 ? target : l.slice(i + 1).split('/').pop()!;
  return [target, alias];
}
