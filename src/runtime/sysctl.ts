// Which sysctls a container may set: only those the kernel namespaces, so a value set
// for one container cannot change the host. IPC keys need a private IPC namespace,
// net.* a network namespace of the container's own, kernel.domainname a private UTS.
// The texts are runc's (what a Docker user sees), but berth refuses at create, not start.
import { badParameter } from '../util/errors.ts';

// The IPC namespace's keys as runc's validator lists them, plus every fs.mqueue.* key.
const IPC_KEYS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem',
  'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

export interface SysctlNamespaces {
  hostIpc: boolean;
  hostNetwork: boolean;
  hostUts: boolean;
}

export function checkSysctl(key: string, ns: SysctlNamespaces): void {
  const q = JSON.stringify(key);
  if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) {
    if (ns.hostIpc) throw badParameter(`sysctl ${q} is not allowed in the hosts ipc namespace`);
    return;
  }
  if (key.startsWith('net.')) {
    if (ns.hostNetwork) throw badParameter(`sysctl ${q} is not allowed in the hosts network namespace`);
    return;
  }
  if (!ns.hostUts) {
    if (key === 'kernel.domainname') return;
    if (key === 'kernel.hostname') throw badParameter(`sysctl ${q} is not allowed as it conflicts with the OCI "hostname" field`);
  }
  throw badParameter(`sysctl ${q} is not in a separate kernel namespace`);
}

/** HostConfig.Sysctls validated, merged over the defaults (the user's value wins, as in Docker). */
export function containerSysctls(
  user: Record<string, string> | null | undefined,
  defaults: Record<string, string>,
  ns: SysctlNamespaces,
): Record<string, string> {
  const out: Record<string, string> = { ...defaults };
  for (const [k, v] of Object.entries(user ?? {})) {
    checkSysctl(k, ns);
    out[k] = String(v);
  }
  return out;
}
