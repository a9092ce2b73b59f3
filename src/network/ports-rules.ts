// The DNAT rules behind published ports, in one nftables table per daemon
// ("ip <table>"), always rewritten whole in a single `nft -f -` transaction so
// the rules are never half-there. The host's own tables are never touched.
//
// Like dockerd with the userland proxy off:
// - prerouting: traffic from elsewhere (and from containers) to a local address;
// - output: the host's own connections, 127.0.0.1 included. A 127.x source may
//   only leave through the bridge with route_localnet=1 there, and is masqueraded
//   so the container can answer;
// - hairpin: a container reaching its own published port is masqueraded too
//   (the bridge port also needs hairpin mode for the packet to come back).

import { writeFile } from 'node:fs/promises';
import { systemError } from '../util/errors.ts';
import { mustRun, runTool } from './netns.ts';
import type { PublishedPort } from './ports-spec.ts';

export interface RuleEntry { containerIp: string; bridge: string; ports: PublishedPort[] }

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function checkTableName(table: string): void {
  if (!NAME.test(table)) throw systemError(`invalid nft table name ${table}`);
}

/** The whole table for these entries; an empty list yields a script that removes it. */
export function portRulesScript(table: string, entries: RuleEntry[]): string {
  checkTableName(table);
  // "add" then "delete" makes the delete valid when the table does not exist yet.
  const head = [`add table ip ${table}`, `delete table ip ${table}`];
  const live = entries.filter((e) => e.ports.some((p) => IPV4.test(p.hostIp)));
  if (live.length === 0) return [...head, ''].join('\n');
  const dnat: string[] = [];
  const masq: string[] = [];
  for (const bridge of [...new Set(live.map((e) => e.bridge))].sort()) {
    if (!NAME.test(bridge)) throw systemError(`invalid bridge name ${bridge}`);
    masq.push(`    oifname ${JSON.stringify(bridge)} ip saddr 127.0.0.0/8 masquerade`);
  }
  for (const e of live) {
    if (!IPV4.test(e.containerIp)) throw systemError(`invalid container address ${e.containerIp}`);
    for (const p of e.ports) {
      if (!IPV4.test(p.hostIp)) continue;
      const daddr = p.hostIp === '0.0.0.0' ? '' : `ip daddr ${p.hostIp} `;
      dnat.push(`    ${daddr}${p.proto} dport ${p.hostPort} dnat to ${e.containerIp}:${p.containerPort}`);
      masq.push(`    ip saddr ${e.containerIp} ip daddr ${e.containerIp} ${p.proto} dport ${p.containerPort} masquerade`);
    }
  }
  return [
    ...head,
    `table ip ${table} {`,
    '  chain published {',
    ...dnat,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    '    fib daddr type local jump published',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;', // nft 1.0 names dstnat only for prerouting
    '    fib daddr type local jump published',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...[...new Set(masq)],
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Replaces the table with exactly these entries' rules (none: the table is removed). */
export async function writePortRules(table: string, entries: RuleEntry[]): Promise<void> {
  try {
    await mustRun('nft', ['-f', '-'], portRulesScript(table, entries));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw systemError('published ports need nftables: nft not found');
    throw err;
  }
}

export async function deletePortRules(table: string): Promise<void> {
  checkTableName(table);
  const r = await runTool('nft', ['delete', 'table', 'ip', table]).catch(() => ({ code: 0, stderr: '' }));
  if (r.code !== 0 && !/No such file|does not exist/i.test(r.stderr)) throw systemError(`nft delete table ${table}: ${r.stderr.trim()}`);
}

/** Lets 127.x-sourced packets (the host's loopback connections, DNATed) leave through the bridge. Left on, as dockerd does. */
export async function enableRouteLocalnet(bridge: string): Promise<void> {
  if (!NAME.test(bridge) || bridge.length > 15) throw systemError(`invalid bridge name ${bridge}`);
  await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
}
