// The host ends of containers' veths (made by sandbox.ts) carry the alias
// "berth-veth:<container>:<network>" to mark them as berth's (Docker names its own veths
// the same way, so the name alone proves nothing): a restarted daemon finds them by it.

import { listLinks } from './netns.ts';

export const VETH_ALIAS_PREFIX = 'berth-veth:';

/** Host ends berth created, with the container and network from their alias. */
export async function listBerthVeths(): Promise<Array<{ hostIfname: string; containerId: string; network: string; master?: string }>> {
  const out = [];
  for (const l of await listLinks()) {
    if (!l.ifalias?.startsWith(VETH_ALIAS_PREFIX)) continue;
    const rest = l.ifalias.slice(VETH_ALIAS_PREFIX.length);
    const i = rest.indexOf(':');
    out.push({ hostIfname: l.ifname, containerId: rest.slice(0, i), network: rest.slice(i + 1), master: l.master });
  }
  return out;
}
