// Outbound NAT and isolation for one bridge network, in berth's own firewall
// objects only: an nftables table "ip berth-<bridge>" per network, created and
// deleted whole (the host's tables and rules are never touched). Without `nft`,
// iptables chains BERTH-<bridge> in the nat/filter tables, reached by one jump
// rule each from POSTROUTING/FORWARD, are used instead.

import { readFile, writeFile } from 'node:fs/promises';
import { systemError } from '../util/errors.ts';
import { BRIDGE_GROUP } from './bridge.ts';
import { mustRun, runTool } from './netns.ts';
import { formatCidr, parseCidr } from './subnets.ts';

export interface NatOptions {
  bridge: string;
  /** e.g. "172.18.0.0/16" */
  subnet: string;
  /** --internal: no masquerade, and traffic between the bridge and elsewhere is dropped */
  internal?: boolean;
  /** com.docker.network.bridge.enable_ip_masquerade (default true) */
  masquerade?: boolean;
}

export function natTableName(bridge: string): string {
  return `berth-${bridge}`;
}

let nftAvailable: boolean | undefined;
/** nft when the host has it; BERTH_FIREWALL=iptables asks for the fallback (and tests it). */
async function haveNft(): Promise<boolean> {
  if (process.env.BERTH_FIREWALL === 'iptables') return false;
  if (nftAvailable === undefined) {
    try { nftAvailable = (await runTool('nft', ['--version'])).code === 0; } catch { nftAvailable = false; }
  }
  return nftAvailable;
}

/** Creates or replaces (atomically, in one nft transaction) the network's rules. */
export async function applyNat(opts: NatOptions): Promise<void> {
  const subnet = formatCidr(parseCidr(opts.subnet));
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(opts.bridge)) throw systemError(`invalid bridge name ${opts.bridge}`);
  if (!(await haveNft())) { await applyIptables(opts.bridge, subnet, !!opts.internal, opts.masquerade !== false); return; }
  const table = natTableName(opts.bridge);
  const br = JSON.stringify(opts.bridge);
  const body = opts.internal
    ? [
        // Internal: nothing enters or leaves the bridge except bridge-to-bridge.
        '  chain forward {',
        '    type filter hook forward priority filter; policy accept;',
        `    iifname ${br} oifname != ${br} drop`,
        `    oifname ${br} iifname != ${br} drop`,
        '  }',
      ]
    : [
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        ...(opts.masquerade === false ? [] : [`    ip saddr ${subnet} oifname != ${br} masquerade`]),
        '  }',
        '  chain forward {',
        '    type filter hook forward priority filter; policy accept;',
        // Networks are isolated from each other: nothing from this bridge to another of berth's,
        // except through a published port (its DNAT is what the host offers everyone).
        `    iifname ${br} oifgroup ${BRIDGE_GROUP} oifname != ${br} ct status dnat accept`,
        `    iifname ${br} oifgroup ${BRIDGE_GROUP} oifname != ${br} drop`,
        `    iifname ${br} accept`,
        `    oifname ${br} ct state established,related accept`,
        '  }',
      ];
  // "add table" then "delete table" makes the delete safe when the table is new;
  // the whole script is one transaction, so the rules are never half-there.
  const script = [`add table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`, ...body, '}', ''].join('\n');
  await mustRun('nft', ['-f', '-'], script);
}

/** Removes the network's firewall objects; absent ones are fine. */
export async function removeNat(bridge: string): Promise<void> {
  if (!(await haveNft())) { await removeIptables(bridge); return; }
  const r = await runTool('nft', ['delete', 'table', 'ip', natTableName(bridge)]);
  if (r.code !== 0 && !/No such file|does not exist/i.test(r.stderr)) throw systemError(`nft delete table: ${r.stderr.trim()}`);
}

/** Names of berth's nftables tables currently present. */
export async function listBerthTables(): Promise<string[]> {
  if (!(await haveNft())) return [];
  const out = await mustRun('nft', ['list', 'tables']);
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[0] === 'table' && w[2]?.startsWith('berth-')).map((w) => w[2]!);
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** Turns IPv4 forwarding on as Docker does; returns true if it was off. */
export async function ensureIpForward(): Promise<boolean> {
  if ((await readFile(IP_FORWARD, 'utf8')).trim() === '1') return false;
  await writeFile(IP_FORWARD, '1');
  return true;
}

// --- iptables fallback: only berth's own chains, plus one jump each -------------

function chainName(bridge: string): string {
  return `BERTH-${bridge}`.slice(0, 28);
}

async function iptables(args: string[]): Promise<void> { await mustRun('iptables', ['-w', ...args]); }
async function iptablesOk(args: string[]): Promise<boolean> { return (await runTool('iptables', ['-w', ...args])).code === 0; }

async function ensureChainWithJump(table: string, parent: string, chain: string): Promise<void> {
  if (!(await iptablesOk(['-t', table, '-n', '-L', chain]))) await iptables(['-t', table, '-N', chain]);
  await iptables(['-t', table, '-F', chain]);
  if (!(await iptablesOk(['-t', table, '-C', parent, '-j', chain]))) await iptables(['-t', table, '-A', parent, '-j', chain]);
}

async function applyIptables(bridge: string, subnet: string, internal: boolean, masquerade: boolean): Promise<void> {
  const chain = chainName(bridge);
  await ensureChainWithJump('filter', 'FORWARD', chain);
  if (internal) {
    await removeChainWithJump('nat', 'POSTROUTING', chain);
    await iptables(['-t', 'filter', '-A', chain, '-i', bridge, '!', '-o', bridge, '-j', 'DROP']);
    await iptables(['-t', 'filter', '-A', chain, '-o', bridge, '!', '-i', bridge, '-j', 'DROP']);
    return;
  }
  // Networks are isolated from each other, as in the nft table.
  await iptables(['-t', 'filter', '-A', chain, '-i', bridge, '!', '-o', bridge, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT']);
  await iptables(['-t', 'filter', '-A', chain, '-i', bridge, '!', '-o', bridge, '-m', 'devgroup', '--dst-group', String(BRIDGE_GROUP), '-j', 'DROP']);
  await iptables(['-t', 'filter', '-A', chain, '-i', bridge, '-j', 'ACCEPT']);
  await iptables(['-t', 'filter', '-A', chain, '-o', bridge, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']);
  if (!masquerade) {
    await removeChainWithJump('nat', 'POSTROUTING', chain);
    return;
  }
  await ensureChainWithJump('nat', 'POSTROUTING', chain);
  await iptables(['-t', 'nat', '-A', chain, '-s', subnet, '!', '-o', bridge, '-j', 'MASQUERADE']);
}

/** berth's own iptables chains present (the fallback's), by table. */
export async function listBerthChains(): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['filter', 'nat']) {
    // Listing with iptables-nft would make the table where there is none: look first.
    const nft = await runTool('nft', ['list', 'table', 'ip', table]).catch(() => undefined);
    if (nft && nft.code !== 0) continue;
    const r = await runTool('iptables', ['-w', '-t', table, '-S']);
    for (const l of r.stdout.split('\n')) {
      const m = /^-N (BERTH-\S+)$/.exec(l.trim());
      if (m) out.push(`${table}/${m[1]}`);
    }
  }
  return out;
}

async function removeChainWithJump(table: string, parent: string, chain: string): Promise<void> {
  while (await iptablesOk(['-t', table, '-D', parent, '-j', chain])) { /* drop every copy of the jump */ }
  await runTool('iptables', ['-w', '-t', table, '-F', chain]);
  await runTool('iptables', ['-w', '-t', table, '-X', chain]);
}

async function removeIptables(bridge: string): Promise<void> {
  const chain = chainName(bridge);
  await removeChainWithJump('nat', 'POSTROUTING', chain);
  await removeChainWithJump('filter', 'FORWARD', chain);
}
