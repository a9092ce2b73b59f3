// The OCI config.json for a container, equal to what Docker 28 would generate for the
// same ContainerConfig/HostConfig on this host (daemon/oci_linux.go's createSpec). The
// pieces live in the neighbouring files; this one decides the order they combine in.
import { badParameter, systemError } from '../util/errors.ts';
import { shortId } from '../util/ids.ts';
import { containerCapabilities } from './capabilities.ts';
import { defaultDeviceRules, devicesFromMapping, hostDevices, parseCgroupRule } from './devices.ts';
import { DEFAULT_SHM_SIZE, buildMounts, etcFileMount, tmpfsMount } from './mounts.ts';
import { planNamespaces, type JoinableNamespace } from './namespaces.ts';
import { processArgs, processCwd, processEnv } from './process.ts';
import { blockIOResources, cpuResources, memoryResources, pidsResources } from './resources.ts';
import { containerRlimits } from './rlimits.ts';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default-profile.ts';
import { convertProfile, parseProfile } from './seccomp.ts';
import { parseSecurityOpts } from './security-opts.ts';
import { containerSysctls } from './sysctl.ts';
import type { ContainerConfig, HostConfig, HostFacts, OciDevice, OciIdMapping, OciMount, OciSeccomp, OciSpec } from './types.ts';
import { resolveUser } from './user.ts';

export { hostFacts } from './host.ts';
export type { HostFacts, OciSpec } from './types.ts';

export const OCI_VERSION = '1.0.2';
/** Where Docker places the init binary (--init) inside the container. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

export interface SpecInput {
  id: string;
  /** ContainerConfig already merged with the image's defaults by the caller. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Absolute path of the mounted root filesystem. */
  rootfs: string;
  /** e.g. "/berth/<id>" */
  cgroupsPath: string;
  /** Join this network namespace instead of creating one. */
  netnsPath?: string;
  /** Namespaces to join for "container:<id>" modes (the caller knows the other container's pid). */
  namespacePaths?: Partial<Record<JoinableNamespace, string>>;
  /** Host files bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles?: { hostname?: string; hosts?: string; resolvConf?: string };
  /** Volumes and binds, already in OCI form. */
  extraMounts?: OciMount[];
  /** Host path of the init binary for HostConfig.Init (Docker's docker-init). */
  initPath?: string;
  /** --userns-remap: a user namespace with these mappings (absent for --userns host). */
  userns?: { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] };
}

const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function defaultMaskedPaths(host: HostFacts): string[] {
  return [...MASKED_PATHS, ...host.extraMaskedPaths];
}

export function defaultReadonlyPaths(): string[] {
  return [...READONLY_PATHS];
}

function userMounts(input: SpecInput, readonlyRootfs: boolean): OciMount[] {
  const out: OciMount[] = [];
  const etc = input.etcFiles ?? {};
  if (etc.resolvConf) out.push(etcFileMount('/etc/resolv.conf', etc.resolvConf, readonlyRootfs));
  if (etc.hostname) out.push(etcFileMount('/etc/hostname', etc.hostname, readonlyRootfs));
  if (etc.hosts) out.push(etcFileMount('/etc/hosts', etc.hosts, readonlyRootfs));
  for (const [dest, data] of Object.entries(input.hostConfig.Tmpfs ?? {})) out.push(tmpfsMount(dest, data ?? ''));
  for (const m of input.extraMounts ?? []) out.push({ ...m, options: [...m.options] });
  return out;
}

/** Docker raises the root's propagation when a bind asks for shared or slave propagation. */
function rootfsPropagation(mounts: readonly OciMount[]): string | undefined {
  const opts = new Set(mounts.filter((m) => m.type === 'bind').flatMap((m) => m.options));
  if (opts.has('shared') || opts.has('rshared')) return 'shared';
  if (opts.has('slave') || opts.has('rslave')) return 'rslave';
  return undefined;
}

function seccompSection(
  choice: ReturnType<typeof parseSecurityOpts>['seccomp'],
  privileged: boolean,
  capabilities: string[],
  host: HostFacts,
): OciSeccomp | undefined {
  if (choice === 'unconfined') return undefined;
  const ctx = { capabilities, arch: host.arch, kernel: host.kernel };
  if (typeof choice === 'object') return convertProfile(parseProfile(choice.profile), ctx);
  // Privileged containers run without the default profile (a custom one still applies).
  if (privileged) return undefined;
  return convertProfile(DEFAULT_SECCOMP_PROFILE, ctx);
}

export async function generateSpec(input: SpecInput, host: HostFacts): Promise<OciSpec> {
  const { config, hostConfig: hc } = input;
  const privileged = hc.Privileged === true;
  const readonlyRootfs = hc.ReadonlyRootfs === true;
  const sec = parseSecurityOpts(hc.SecurityOpt);
  const ns = planNamespaces({
    hostConfig: hc,
    cgroupVersion: host.cgroupVersion,
    netnsPath: input.netnsPath,
    namespacePaths: input.namespacePaths,
  });

  // process
  let args = processArgs(config);
  const hostname = ns.hostUts ? '' : config.Hostname || shortId(input.id);
  const extra: OciMount[] = [];
  if (hc.Init === true && !ns.hostPid && !hc.PidMode?.startsWith('container:')) {
    if (!input.initPath) throw systemError('init requested (--init) but no init binary is configured');
    args = [INIT_PATH_IN_CONTAINER, '--', ...args];
    extra.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }
  const user = await resolveUser(input.rootfs, config.User ?? '', hc.GroupAdd ?? []);
  const capabilities = containerCapabilities({ capAdd: hc.CapAdd, capDrop: hc.CapDrop, privileged }, host.capBounding);
  const oomScoreAdj = hc.OomScoreAdj ?? 0;
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw badParameter(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: config.Tty === true,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env: processEnv(config, hostname || (config.Hostname ?? '')),
      cwd: processCwd(config),
      capabilities: { bounding: capabilities, effective: [...capabilities], inheritable: [], permitted: [...capabilities] },
      oomScoreAdj,
    },
    root: { path: input.rootfs, readonly: readonlyRootfs },
    mounts: [],
    linux: {
      namespaces: ns.namespaces,
      devices: [],
      resources: { devices: defaultDeviceRules() },
      cgroupsPath: input.cgroupsPath,
    },
  };
  const proc = spec.process;
  const linux = spec.linux;
  if (input.userns) {
    // Another container's namespaces belong to its user namespace: joining them means
    // joining that one too (dockerd does the same for container:<id> modes).
    const owner = linux.namespaces.map((n) => /^\/proc\/([0-9]+)\/ns\//.exec(n.path ?? '')?.[1]).find((pid) => pid !== undefined);
    linux.namespaces.push(owner ? { type: 'user', path: `/proc/${owner}/ns/user` } : { type: 'user' });
    linux.uidMappings = input.userns.uidMappings;
    linux.gidMappings = input.userns.gidMappings;
  }
  if (hostname) spec.hostname = hostname;
  const size = hc.ConsoleSize;
  if (config.Tty && size && size.length === 2 && (size[0]! > 0 || size[1]! > 0)) proc.consoleSize = { height: size[0]!, width: size[1]! };
  const rlimits = containerRlimits(hc.Ulimits, host.rlimitHard);
  if (rlimits.length) proc.rlimits = rlimits;
  if (sec.noNewPrivileges) proc.noNewPrivileges = true;
  // Without AppArmor in the kernel there is nothing to confine with; Docker ignores it too.
  if (host.apparmor && sec.apparmor && sec.apparmor !== 'unconfined') proc.apparmorProfile = sec.apparmor;

  // mounts
  const ipc = hc.IpcMode ?? '';
  const shmSize = hc.ShmSize && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  spec.mounts = buildMounts({
    userMounts: [...userMounts(input, readonlyRootfs), ...extra],
    shmSize,
    noShm: ipc === 'none',
    hostShm: ipc === 'host',
    readonlyRootfs,
    privileged,
    writableCgroups: sec.writableCgroups ?? privileged,
  });
  const propagation = rootfsPropagation(spec.mounts);
  if (propagation) linux.rootfsPropagation = propagation;

  // security
  if (hc.MaskedPaths != null) linux.maskedPaths = [...hc.MaskedPaths];
  else if (!privileged) linux.maskedPaths = defaultMaskedPaths(host);
  if (hc.ReadonlyPaths != null) linux.readonlyPaths = [...hc.ReadonlyPaths];
  else if (!privileged) linux.readonlyPaths = defaultReadonlyPaths();
  const seccomp = seccompSection(sec.seccomp, privileged, capabilities, host);
  if (seccomp) linux.seccomp = seccomp;

  // sysctls: Docker's network defaults only for a namespace made for this container.
  // In a remapped user namespace ping sockets cannot be opened to every gid: Docker leaves that one out.
  const netDefaults = ns.privateNetwork ? { ...host.defaultNetSysctls } : {};
  if (input.userns) delete netDefaults['net.ipv4.ping_group_range'];
  const sysctls = containerSysctls(hc.Sysctls, netDefaults, {
    hostIpc: ns.hostIpc,
    hostNetwork: ns.hostNetwork,
    hostUts: ns.hostUts,
  });
  if (config.Domainname && !ns.hostUts) {
    // No OCI field in runc 1.1 for the NIS domain name; this sysctl has the same effect.
    sysctls['kernel.domainname'] = config.Domainname;
  }
  if (Object.keys(sysctls).length) linux.sysctl = sysctls;

  // devices
  const devices: OciDevice[] = [];
  if (privileged) {
    devices.push(...(await hostDevices()));
    for (const m of hc.Devices ?? []) {
      if ((m.PathInContainer || m.PathOnHost) === m.PathOnHost) continue; // already there via the host's /dev
      devices.push(...(await devicesFromMapping({ ...m, CgroupPermissions: 'rwm' })).devices);
    }
    linux.resources.devices.push({ allow: true, access: 'rwm' });
  } else {
    for (const m of hc.Devices ?? []) {
      const found = await devicesFromMapping(m);
      devices.push(...found.devices);
      linux.resources.devices.push(...found.rules);
    }
    for (const rule of hc.DeviceCgroupRules ?? []) linux.resources.devices.push(parseCgroupRule(rule));
  }
  linux.devices = devices;

  // resources
  const memory = memoryResources(hc, host.swapLimit);
  if (memory) linux.resources.memory = memory;
  const cpu = cpuResources(hc);
  if (cpu) linux.resources.cpu = cpu;
  const pids = pidsResources(hc);
  if (pids) linux.resources.pids = pids;
  const blockIO = await blockIOResources(hc);
  if (blockIO) linux.resources.blockIO = blockIO;

  if (hc.Annotations && Object.keys(hc.Annotations).length) spec.annotations = { ...hc.Annotations };
  return spec;
}
