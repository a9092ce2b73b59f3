// Which sysctls a container may set: only those the kernel namespaces, so a value set
// for one container cannot change the host. IPC keys need a private IPC namespace,
// net.* a network namespace of the container's own, kernel.domainname a private UTS.
import { badParameter } from '../util/errors.ts';

const IPC_KEYS = /^(kernel\.msg[a-z_]*|kernel\.sem|kernel\.shm[a-z_]*|fs\.mqueue\..+)$/;

export interface SysctlNamespaces {
  hostIpc: boolean;
  hostNetwork: boolean;
  hostUts: boolean;
}

export function checkSysctl(key: string, ns: SysctlNamespaces): void {
  const refuse = (why = '') => badParameter(`sysctl ${JSON.stringify(key)} is not allowed${why}`);
  if (IPC_KEYS.test(key)) {
    if (ns.hostIpc) throw refuse(" in the host's IPC namespace");
    return;
  }
  if (key.startsWith('net.')) {
    if (ns.hostNetwork) throw refuse(" in the host's network namespace");
    return;
  }
  if (key === 'kernel.domainname') {
    if (ns.hostUts) throw refuse(" in the host's UTS namespace");
    return;
  }
  throw refuse();
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
