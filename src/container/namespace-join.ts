// Namespace sharing between containers and with the host, as dockerd does it: the modes
// are checked and completed at create (container:<name> becomes container:<full id>, so a
// rename of the other container keeps the link), and at each start "container:<id>" is
// resolved to that container's /proc/<pid>/ns/<type> (it must be running then).
import { statfsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { JoinableNamespace } from '../runtime/namespaces.ts';
import type { ContainerConfig, HostConfig } from '../runtime/types.ts';
import { EngineError, badParameter, conflict, systemError } from '../util/errors.ts';
import type { ContainerRecord } from './record.ts';
import { isActive } from './record.ts';

export interface ContainerLookup {
  find(ref: string): ContainerRecord | undefined;
}

const PREFIX = 'container:';

function containerOf(mode: string | undefined): string | undefined {
  return mode?.startsWith(PREFIX) ? mode.slice(PREFIX.length) : undefined;
}

let cgroupV2: boolean | undefined;
/** cgroup2fs at /sys/fs/cgroup: the unified layout (hybrid and v1 hosts mount a tmpfs there). */
function unifiedCgroups(): boolean {
  if (cgroupV2 === undefined) {
    try {
      cgroupV2 = statfsSync('/sys/fs/cgroup').type === 0x63677270;
    } catch {
      cgroupV2 = false;
    }
  }
  return cgroupV2;
}

/**
 * Docker's checks of the network mode against the rest of the request (runconfig's
 * validateNetContainerMode and the UTS one); `config` is the request's own, before the
 * image's defaults are merged (an image's EXPOSE does not conflict). Returns dockerd's
 * warnings.
 */
export function checkNamespaceConflicts(config: ContainerConfig, hc: HostConfig): string[] {
  // The modes' own validity (HostConfig's Valid() methods), checked before anything else.
  const joinable = (mode: string) => mode.startsWith(PREFIX) && mode.length > PREFIX.length;
  const ipcMode = hc.IpcMode ?? '';
  if (!['', 'none', 'private', 'shareable', 'host'].includes(ipcMode) && !joinable(ipcMode)) throw badParameter(`invalid IPC mode: ${ipcMode}`);
  const pidMode = hc.PidMode ?? '';
  if (pidMode !== '' && pidMode !== 'host' && !joinable(pidMode)) throw badParameter(`invalid PID mode: ${pidMode}`);
  if (hc.UTSMode && hc.UTSMode !== 'host') throw badParameter(`invalid UTS mode: ${hc.UTSMode}`);
  const cgroupns: string = hc.CgroupnsMode ?? '';
  if (!['', 'private', 'host'].includes(cgroupns)) throw badParameter(`invalid cgroup namespace mode: ${cgroupns}`);
  const net = hc.NetworkMode ?? '';
  const joinsNet = net.startsWith(PREFIX);
  if (joinsNet && net.length === PREFIX.length) throw badParameter('Invalid network mode: invalid container format container:<name|id>');
  if (hc.UTSMode === 'host' && config.Hostname) throw badParameter('conflicting options: hostname and the UTS mode');
  const c = config as ContainerConfig & { MacAddress?: string; ExposedPorts?: Record<string, object> | null };
  const h = hc as HostConfig & { PortBindings?: Record<string, unknown> | null };
  const publishes = !!h.PortBindings && Object.keys(h.PortBindings).length > 0;
  if (!joinsNet && net !== 'host') return [];
  if (joinsNet) {
    if (config.Hostname) throw badParameter('conflicting options: hostname and the network mode');
    if (hc.Links?.length) throw badParameter("conflicting options: container type network can't be used with links. This would result in undefined behavior");
    if (hc.Dns?.length) throw badParameter('conflicting options: dns and the network mode');
    if (hc.ExtraHosts?.length) throw badParameter('conflicting options: custom host-to-IP mapping and the network mode');
  } else if (hc.Links?.length) {
    throw badParameter("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  }
  if (c.MacAddress) throw badParameter('conflicting options: mac-address and the network mode');
  if (!joinsNet) return publishes ? ['Published ports are discarded when using host network mode'] : [];
  if (publishes || hc.PublishAllPorts) throw badParameter('conflicting options: port publishing and the container type network mode');
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) throw badParameter('conflicting options: port exposing and the container type network mode');
  return [];
}

/** The daemon's defaults (dockerd's --default-ipc-mode and --default-cgroupns-mode). */
export interface NamespaceDefaults {
  ipcMode?: 'private' | 'shareable';
  cgroupnsMode?: 'private' | 'host';
}

/**
 * Completes the modes at create as dockerd (adaptContainerSettings): the daemon's default
 * IPC mode ("private") and cgroup namespace mode (the host's on cgroup v1, private on v2),
 * and "container:<name>" rewritten to the full id. An unknown container is a 400.
 */
export function adaptNamespaceModes(hc: HostConfig, lookup: ContainerLookup, defaults: NamespaceDefaults = {}): void {
  if (!hc.IpcMode) hc.IpcMode = defaults.ipcMode || 'private';
  if (!hc.CgroupnsMode) hc.CgroupnsMode = defaults.cgroupnsMode || (unifiedCgroups() ? 'private' : 'host');
  const resolve = (ref: string): string => {
    let rec: ContainerRecord | undefined;
    try {
      rec = lookup.find(ref);
    } catch (err) {
      throw err instanceof EngineError ? badParameter(err.message) : err;
    }
    if (!rec) throw badParameter(`No such container: ${ref}`);
    return `${PREFIX}${rec.Id}`;
  };
  const pid = containerOf(hc.PidMode);
  if (pid) hc.PidMode = resolve(pid);
  const ipc = containerOf(hc.IpcMode);
  if (ipc) hc.IpcMode = resolve(ipc);
  const net = containerOf(hc.NetworkMode);
  if (net) hc.NetworkMode = resolve(net);
}

/** The hostname a new container gets when the request names none. */
export function defaultHostname(hc: HostConfig, id: string): string {
  // dockerd: the host's name under --network host (the container still has its own UTS namespace).
  return hc.NetworkMode === 'host' ? osHostname() : id.slice(0, 12);
}

/** What a start needs from the containers whose namespaces it joins. */
export interface NamespaceJoins {
  /** e.g. { pid: "/proc/123/ns/pid" }, for the spec generator. */
  namespacePaths: Partial<Record<JoinableNamespace, string>>;
  /** --network container:X: X's hostname and its /etc files are the container's too. */
  network?: { hostname: string; domainname?: string; hostnamePath: string; hostsPath: string; resolvConfPath: string };
  /** --ipc container:X: whose /dev/shm the container shares (X's, or the one X shares). */
  shm?: { host: true } | { container: string };
}

/** Whether other containers may join this container's IPC namespace (its /dev/shm is not private). */
function ipcShareable(rec: ContainerRecord): boolean {
  const mode = rec.HostConfig.IpcMode ?? '';
  return mode === 'shareable' || mode === 'host' || mode.startsWith(PREFIX);
}

/**
 * The namespaces `rec` joins at this start, with dockerd's errors when a container it
 * names is gone, stopped or restarting (the texts of getPIDContainer, getIPCContainer and
 * getNetworkedContainer).
 */
export function resolveNamespaceJoins(rec: ContainerRecord, lookup: ContainerLookup): NamespaceJoins {
  const out: NamespaceJoins = { namespacePaths: {} };
  const running = (id: string, wrap: string, notRunning: () => EngineError, status?: number): ContainerRecord => {
    const other = lookup.find(id);
    if (!other) throw new EngineError(status ?? 400, `${wrap}No such container: ${id}`);
    if (other.State.Status === 'restarting') throw new EngineError(status ?? 409, `${wrap}Container ${id} is restarting, wait until the container is running`);
    if (!isActive(other) || !other.State.Pid) throw notRunning();
    return other;
  };
  const hc = rec.HostConfig;

  const net = containerOf(hc.NetworkMode);
  if (net) {
    const other = lookup.find(net);
    if (!other) throw notFoundAtStart(net);
    if (other.Id === rec.Id) throw systemError('cannot join own network');
    const nc = running(net, '', () => conflict(`cannot join network of a non running container: ${net}`));
    out.namespacePaths.network = `/proc/${nc.State.Pid}/ns/net`;
    out.network = {
      hostname: nc.Config.Hostname ?? '',
      domainname: nc.Config.Domainname,
      hostnamePath: nc.HostnamePath,
      hostsPath: nc.HostsPath,
      resolvConfPath: nc.ResolvConfPath,
    };
  }

  const ipc = containerOf(hc.IpcMode);
  if (ipc) {
    const wrap = 'failed to join IPC namespace: ';
    if (ipc === rec.Id) throw badParameter(`${wrap}cannot join own IPC namespace`);
    const ic = running(ipc, wrap, () => conflict(`${wrap}container ${ipc} is not running`));
    if (!ipcShareable(ic)) throw badParameter(`${wrap}container ${ipc}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    out.namespacePaths.ipc = `/proc/${ic.State.Pid}/ns/ipc`;
    out.shm = shmOwner(ic, lookup);
  }

  const pid = containerOf(hc.PidMode);
  if (pid) {
    // dockerd wraps these in a System error: the start fails with a 500.
    const wrap = 'failed to join PID namespace: ';
    if (pid === rec.Id) throw systemError(`${wrap}cannot join own PID namespace`);
    const pc = running(pid, wrap, () => systemError(`${wrap}container ${pid} is not running`), 500);
    out.namespacePaths.pid = `/proc/${pc.State.Pid}/ns/pid`;
  }
  return out;
}

/** The /dev/shm a joiner of `donor`'s IPC namespace shares, following container:Y chains. */
function shmOwner(donor: ContainerRecord, lookup: ContainerLookup): NamespaceJoins['shm'] {
  let rec: ContainerRecord | undefined = donor;
  for (let hops = 0; rec && hops < 16; hops++) {
    const mode = rec.HostConfig.IpcMode ?? '';
    if (mode === 'host') return { host: true };
    if (mode === 'shareable') return { container: rec.Id };
    const next = containerOf(mode);
    rec = next ? lookup.find(next) : undefined;
  }
  return undefined;
}

function notFoundAtStart(ref: string): EngineError {
  return new EngineError(404, `No such container: ${ref}`);
}
