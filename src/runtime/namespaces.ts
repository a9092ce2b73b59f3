// linux.namespaces from the HostConfig modes (NetworkMode, IpcMode, PidMode, UTSMode,
// CgroupnsMode): a new namespace by default, none for "host" (the host's is inherited),
// and a path to join for "container:<id>" (the caller resolves the other container's pid).
import { badParameter, systemError } from '../util/errors.ts';
import type { HostConfig, OciNamespace } from './types.ts';

export type JoinableNamespace = 'network' | 'ipc' | 'pid' | 'uts';

export interface NamespaceInput {
  hostConfig: HostConfig;
  cgroupVersion: 1 | 2;
  /** The network namespace to join (networking prepared it); else a new one. */
  netnsPath?: string;
  /** Paths for "container:<id>" modes, e.g. { ipc: "/proc/1234/ns/ipc" }. */
  namespacePaths?: Partial<Record<JoinableNamespace, string>>;
}

export interface NamespacePlan {
  namespaces: OciNamespace[];
  hostNetwork: boolean;
  /** The container gets a network namespace created for it (not host, not another container's). */
  privateNetwork: boolean;
  hostIpc: boolean;
  hostUts: boolean;
  hostPid: boolean;
}

function isContainerMode(mode: string): boolean {
  return mode.startsWith('container:') && mode.length > 'container:'.length;
}

function joined(type: JoinableNamespace, mode: string, paths: NamespaceInput['namespacePaths']): OciNamespace {
  const path = paths?.[type];
  if (!path) throw systemError(`cannot join the ${type} namespace of ${mode.slice('container:'.length)}: its path was not given`);
  return { type, path };
}

export function planNamespaces(input: NamespaceInput): NamespacePlan {
  const hc = input.hostConfig;
  const ns: OciNamespace[] = [{ type: 'mount' }];

  const net = hc.NetworkMode ?? '';
  const hostNetwork = net === 'host';
  const netContainer = isContainerMode(net);
  if (netContainer) ns.push(input.netnsPath ? { type: 'network', path: input.netnsPath } : joined('network', net, input.namespacePaths));
  else if (!hostNetwork) ns.push(input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' });

  const uts = hc.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw badParameter(`invalid UTS mode: ${uts}`);
  if (uts !== 'host') ns.push({ type: 'uts' });

  const pid = hc.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !isContainerMode(pid)) throw badParameter(`invalid PID mode: ${pid}`);
  if (isContainerMode(pid)) ns.push(joined('pid', pid, input.namespacePaths));
  else if (pid !== 'host') ns.push({ type: 'pid' });

  const ipc = hc.IpcMode ?? '';
  if (!['', 'private', 'shareable', 'none', 'host'].includes(ipc) && !isContainerMode(ipc)) throw badParameter(`invalid IPC mode: ${ipc}`);
  if (isContainerMode(ipc)) ns.push(joined('ipc', ipc, input.namespacePaths));
  else if (ipc !== 'host') ns.push({ type: 'ipc' });

  // Docker's default: a private cgroup namespace on cgroup v2, the host's on v1.
  const cgroupns = hc.CgroupnsMode ?? '';
  if (!['', 'private', 'host'].includes(cgroupns)) throw badParameter(`invalid cgroup namespace mode: ${cgroupns}`);
  if (cgroupns === 'private' || (cgroupns === '' && input.cgroupVersion === 2)) ns.push({ type: 'cgroup' });

  return {
    namespaces: ns,
    hostNetwork,
    privateNetwork: !hostNetwork && !netContainer,
    hostIpc: ipc === 'host',
    hostUts: uts === 'host',
    hostPid: pid === 'host',
  };
}
