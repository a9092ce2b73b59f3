// The container side of the per-network embedded DNS: inside the container's netns,
// queries to 127.0.0.11:53 are DNATed to the network's listener on the gateway (in the
// host namespace) and SNATed to the container's own address, so the listener sees who
// asks. Two kernel rules must be bent for that, both per interface:
//  - after the output DNAT the packet still has a 127.x source; routing it out of eth0
//    needs net.ipv4.conf.<if>.route_localnet=1 (else the reroute fails with EINVAL);
//  - the reply, un-SNATed at prerouting back to 127.0.0.1, arrives on eth0; without
//    route_localnet it would be dropped as a martian destination.
// route_localnet would also let a neighbour on the bridge reach the container's
// loopback services, so the same table drops every 127/8 packet crossing a non-lo
// interface except the replies of our own NATed flows (the CVE-2020-8558 trap).
// Everything is done with one spawn: nsenter + sh + nft, ruleset on stdin.
import { existsSync } from 'node:fs';
import { badParameter, systemError } from '../util/errors.ts';
import { runTool } from './netns.ts';

export const NETWORK_DNS_TABLE = 'berth-dns';
export const DNS_ADDRESS = '127.0.0.11';
const COMMENT_PREFIX = 'berth-net:';

export interface RedirectTarget {
  networkId: string;
  gateway: string;
  port: number;
  containerIp: string;
  ifname: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function checkIPv4(what: string, s: string): void {
  if (!IPV4.test(s)) throw badParameter(`${what}: not an IPv4 address: ${s}`);
}

/** Names reach a shell script and a /proc path: allow only what cannot escape either. */
export function checkToken(what: string, s: string, max: number): void {
  if (s.length === 0 || s.length > max || !/^[A-Za-z0-9_.-]+$/.test(s) || s === '.' || s === '..') {
    throw badParameter(`invalid ${what}: ${JSON.stringify(s)}`);
  }
}

function checkTarget(t: RedirectTarget): void {
  checkToken('network id', t.networkId, 100);
  checkToken('interface name', t.ifname, 15);
  checkIPv4('gateway', t.gateway);
  checkIPv4('container address', t.containerIp);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw badParameter(`invalid port ${t.port}`);
}

/** The nft batch: replaces the table atomically (the empty declaration makes the delete safe). */
export function redirectRuleset(t: RedirectTarget): string {
  const to = `${t.gateway}:${t.port}`;
  return [
    `table ip ${NETWORK_DNS_TABLE} {}`,
    `delete table ip ${NETWORK_DNS_TABLE}`,
    `table ip ${NETWORK_DNS_TABLE} {`,
    `  comment "${COMMENT_PREFIX}${t.networkId}"`,
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${DNS_ADDRESS} udp dport 53 dnat to ${to}`,
    `    ip daddr ${DNS_ADDRESS} tcp dport 53 dnat to ${to}`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    ip saddr 127.0.0.0/8 ip daddr ${t.gateway} udp dport ${t.port} snat to ${t.containerIp}`,
    `    ip saddr 127.0.0.0/8 ip daddr ${t.gateway} tcp dport ${t.port} snat to ${t.containerIp}`,
    '  }',
    '  chain guard_in {',
    '    type filter hook prerouting priority 0; policy accept;',
    '    iifname "lo" accept',
    '    ip daddr 127.0.0.0/8 ct direction reply ct status dnat accept',
    '    ip daddr 127.0.0.0/8 drop',
    '  }',
    '  chain guard_out {',
    '    type filter hook postrouting priority 300; policy accept;',
    '    oifname "lo" accept',
    '    ip saddr 127.0.0.0/8 drop',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The shell run inside the netns. A table already pointing at another network is kept
 * (127.0.0.11 goes to the first network attached); one for this network, or none, is
 * (re)written. Prints "kept" or "installed".
 */
function redirectScript(t: RedirectTarget): string {
  return [
    `cur=$(nft list table ip ${NETWORK_DNS_TABLE} 2>/dev/null)`,
    'case "$cur" in',
    `  *'"${COMMENT_PREFIX}${t.networkId}"'*) ;;`,
    `  *'"${COMMENT_PREFIX}'*) echo kept; exit 0 ;;`,
    'esac',
    `echo 1 > /proc/sys/net/ipv4/conf/${t.ifname}/route_localnet || exit 1`,
    'echo installed',
    'exec nft -f -',
  ].join('\n');
}

export function netnsPath(netns: string): string {
  checkToken('network namespace name', netns, 200);
  return `/run/netns/${netns}`;
}

/** Installs (or keeps) the redirect in named netns `netns`; resolves with what it did. */
export async function installNetworkDnsRedirect(netns: string, t: RedirectTarget): Promise<'installed' | 'kept'> {
  checkTarget(t);
  const r = await runTool('nsenter', [`--net=${netnsPath(netns)}`, '/bin/sh', '-c', redirectScript(t)], redirectRuleset(t));
  if (r.code !== 0) throw systemError(`installing the DNS redirect in ${netns}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.includes('kept') ? 'kept' : 'installed';
}

/**
 * Removes the table if it points at `networkId` (the container left that network), so a
 * later attach for its other network takes over. Returns whether it removed it; a
 * missing table or netns is fine.
 */
export async function removeNetworkDnsRedirect(netns: string, networkId: string): Promise<boolean> {
  checkToken('network id', networkId, 100);
  const path = netnsPath(netns);
  if (!existsSync(path)) return false;
  const script = [
    `cur=$(nft list table ip ${NETWORK_DNS_TABLE} 2>/dev/null)`,
    'case "$cur" in',
    `  *'"${COMMENT_PREFIX}${networkId}"'*) exec nft delete table ip ${NETWORK_DNS_TABLE} ;;`,
    'esac',
    'exit 3',
  ].join('\n');
  const r = await runTool('nsenter', [`--net=${path}`, '/bin/sh', '-c', script]);
  if (r.code === 3) return false;
  if (r.code !== 0) throw systemError(`removing the DNS redirect in ${netns}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return true;
}
