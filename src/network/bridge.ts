// The Linux bridge behind a berth network. Bridges berth made carry the link
// alias "berth-bridge:<network>" so they can be found again after a restart
// without guessing from names (docker0-style names may be the user's own).

import { systemError } from '../util/errors.ts';
import { getLink, ip, listLinks, runTool } from './netns.ts';

export const BRIDGE_ALIAS_PREFIX = 'berth-bridge:';
/** Every berth bridge is in this interface group, so one firewall rule can keep the
 * networks apart whatever their bridges are named. */
export const BRIDGE_GROUP = 0x62657274;

export interface BridgeOptions {
  /** interface name, at most 15 characters */
  name: string;
  /** gateway address with prefix, e.g. "172.18.0.1/16" */
  address: string;
  /** network id or name, recorded in the link alias */
  network: string;
  mtu?: number;
}

/**
 * Creates the bridge, or adopts an existing bridge of that name (daemon restart,
 * or a user-made bridge): adds the address if missing and brings it up.
 * Returns whether the bridge was created now.
 */
export async function ensureBridge(opts: BridgeOptions): Promise<boolean> {
  if (opts.name.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(opts.name)) throw systemError(`invalid bridge name ${opts.name}`);
  let created = false;
  const existing = await getLink(opts.name);
  if (existing) {
    if (existing.linkinfo?.info_kind !== 'bridge') throw systemError(`interface ${opts.name} exists and is not a bridge`);
  } else {
    const args = ['link', 'add', 'name', opts.name];
    if (opts.mtu) args.push('mtu', String(opts.mtu));
    args.push('type', 'bridge');
    await ip(args);
    created = true;
    await ip(['link', 'set', 'dev', opts.name, 'alias', BRIDGE_ALIAS_PREFIX + opts.network]);
  }
  await ip(['link', 'set', 'dev', opts.name, 'group', String(BRIDGE_GROUP)]);
  // `ip addr replace` is idempotent where `add` fails with "exists".
  await ip(['addr', 'replace', opts.address, 'dev', opts.name]);
  await ip(['link', 'set', 'dev', opts.name, 'up']);
  return created;
}

/** Deletes the bridge (its attached veths are detached, not deleted). Missing is fine. */
export async function deleteBridge(name: string): Promise<void> {
  const r = await runTool('ip', ['link', 'del', 'dev', name, 'type', 'bridge']);
  if (r.code !== 0 && !/cannot find|does not exist/i.test(r.stderr)) throw systemError(`ip link del ${name}: ${r.stderr.trim()}`);
}

export async function bridgeExists(name: string): Promise<boolean> {
  return (await getLink(name))?.linkinfo?.info_kind === 'bridge';
}

/** Bridges berth created: name -> network recorded in the alias. */
export async function listBerthBridges(): Promise<Array<{ name: string; network: string }>> {
  return (await listLinks())
    .filter((l) => l.linkinfo?.info_kind === 'bridge' && l.ifalias?.startsWith(BRIDGE_ALIAS_PREFIX))
    .map((l) => ({ name: l.ifname, network: l.ifalias!.slice(BRIDGE_ALIAS_PREFIX.length) }));
}
