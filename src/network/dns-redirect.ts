// Docker-style port-53 redirect inside a container's network namespace: the server listens
// on a random port of 127.0.0.11 (so nothing else in the container can squat on it, and
// no privileged port is needed), and an nft table *inside that netns* rewrites queries to
// 127.0.0.11:53 onto it (dnat, not redirect: redirect would send them to 127.0.0.1).
// Conntrack translates the replies back. The table dies with the
// netns; it never touches the host's ruleset.
import { execFileSync } from 'node:child_process';

export const DNS_REDIRECT_TABLE = 'berth-dns';

/** Creates (or replaces) `table ip berth-dns` in netns `netns` (a name `ip netns` knows). */
export function installDnsRedirect(netns: string, address: string, udpPort: number, tcpPort: number): void {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`not an IPv4 address: ${address}`);
  for (const p of [udpPort, tcpPort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`bad port: ${p}`);
  // the empty declaration makes the delete succeed on first install: replace atomically in one batch
  const rules = [
    `table ip ${DNS_REDIRECT_TABLE} {}`,
    `delete table ip ${DNS_REDIRECT_TABLE}`,
    `table ip ${DNS_REDIRECT_TABLE} {`,
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${address} udp dport 53 dnat to ${address}:${udpPort}`,
    `    ip daddr ${address} tcp dport 53 dnat to ${address}:${tcpPort}`,
    '  }',
    '}',
  ].join('\n');
  execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: rules + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
}

export function removeDnsRedirect(netns: string): void {
  try {
    execFileSync('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'ip', DNS_REDIRECT_TABLE], { stdio: 'ignore' });
  } catch {
    // no such table (or netns already gone): nothing to remove
  }
}
