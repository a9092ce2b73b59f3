// Turns the run/create flags into the POST /containers/create body (Config + HostConfig +
// NetworkingConfig) exactly as docker's CLI builds it (cli/command/container/opts.go
// parse), field for field and with the same nulls, empty lists and omitted fields.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { FlagSet } from '../flags.ts';
import type { ContainerFlags } from './container-flags.ts';
import { parseKeyValueFile } from './kvfile.ts';
import { addExposed, convertToStandardNotation, parsePortSpecs } from './ports.ts';
import { parseVolume } from './volumes.ts';
import { parseDevice, parseRestartPolicy, type DeviceMapping } from './misc.ts';
import { mountJson } from './mounts.ts';
import { newAttachment, type NetworkAttachment } from './network.ts';
import { validateMAC } from './validators.ts';
import type { DeviceRequest } from './gpus.ts';

export interface ContainerConfig {
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  NetworkingConfig: { EndpointsConfig: Record<string, Record<string, unknown>> };
}

/** The error docker wraps in "invalidParameter" (same text; the distinction is internal). */
export class ParseError extends Error {}

/** Go marshals map keys in sorted order. */
function sorted<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

function uniq(values: string[]): string[] {
  return [...new Set(values)];
}

function kvToMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    out[eq < 0 ? v : v.slice(0, eq)] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

function containerId(mode: string): string | undefined {
  const c = mode.indexOf(':');
  if (c < 0 || mode.slice(0, c) !== 'container') return undefined;
  return mode.slice(c + 1);
}

function isUserDefined(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

function networkName(mode: string): string {
  if (mode === 'default' || mode === 'bridge' || mode === 'host' || mode === 'none') return mode;
  if (mode.startsWith('container:')) return '';
  return mode;
}

/** The environment after docker's de-duplication by key (last value wins). */
export function dedupEnv(values: string[]): string[] {
  const m = new Map<string, string | undefined>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const k = eq < 0 ? v : v.slice(0, eq);
    m.delete(k);
    m.set(k, eq < 0 ? undefined : v.slice(eq + 1));
  }
  return [...m].map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

function parseSecurityOpts(opts: string[]): string[] {
  return opts.map((opt) => {
    let sep = opt.indexOf('=');
    if (sep < 0 && opt !== 'no-new-privileges') sep = opt.indexOf(':');
    const k = sep < 0 ? opt : opt.slice(0, sep);
    const v = sep < 0 ? '' : opt.slice(sep + 1);
    if ((sep < 0 || v === '') && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let text: string;
      try {
        text = readFileSync(v, 'utf8');
      } catch (e) {
        throw new Error(`opening seccomp profile (${v}) failed: open ${v}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(text))}`;
      } catch (e) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
    }
    return opt;
  });
}

function isCdiName(device: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*=[a-zA-Z0-9_.:-]+$/.test(device) && device.split('/')[0].includes('.');
}

function endpointJson(n: NetworkAttachment): Record<string, unknown> {
  if (n.target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefined(n.target)) {
    if (n.aliases.length > 0) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (n.links.length > 0) throw new Error('links are only supported for user-defined networks');
  }
  let mac = '';
  if (n.macAddress !== '') {
    try {
      validateMAC(n.macAddress);
    } catch {
      throw new Error(`${n.macAddress} is not a valid mac address`);
    }
    mac = n.macAddress;
  }
  const ipam = n.ipv4 !== '' || n.ipv6 !== '' || n.linkLocalIPs.length > 0
    ? { ...(n.ipv4 ? { IPv4Address: n.ipv4 } : {}), ...(n.ipv6 ? { IPv6Address: n.ipv6 } : {}), ...(n.linkLocalIPs.length ? { LinkLocalIPs: n.linkLocalIPs } : {}) }
    : null;
  return {
    IPAMConfig: ipam,
    Links: n.links.length ? n.links : null,
    Aliases: n.aliases.length ? n.aliases : null,
    MacAddress: mac,
    DriverOpts: n.driverOpts && Object.keys(n.driverOpts).length ? sorted(n.driverOpts) : null,
    GwPriority: n.gwPriority,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

function isEmptyEndpoint(n: NetworkAttachment): boolean {
  return n.aliases.length === 0 && n.links.length === 0 && !n.ipv4 && !n.ipv6 && n.linkLocalIPs.length === 0 && !n.macAddress && !n.driverOpts && n.gwPriority === 0;
}

function applyContainerOptions(n: NetworkAttachment, f: ContainerFlags): void {
  if (n.aliases.length > 0 && f.aliases.values.length > 0) throw new ParseError('conflicting options: cannot specify both --network-alias and per-network alias');
  if (n.links.length > 0 && f.links.values.length > 0) throw new ParseError('conflicting options: cannot specify both --link and per-network links');
  if (n.ipv4 !== '' && f.ipv4Address.value !== '') throw new ParseError('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (n.ipv6 !== '' && f.ipv6Address.value !== '') throw new ParseError('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
  if (n.macAddress !== '' && f.macAddress.value !== '') throw new ParseError('conflicting options: cannot specify both --mac-address and per-network MAC address');
  if (n.linkLocalIPs.length > 0 && f.linkLocalIPs.values.length > 0) throw new ParseError('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
  if (f.aliases.values.length > 0) n.aliases = [...f.aliases.values];
  if (isUserDefined(n.target) && f.links.values.length > 0) n.links = [...f.links.values];
  if (f.ipv4Address.value !== '') n.ipv4 = f.ipv4Address.value;
  if (f.ipv6Address.value !== '') n.ipv6 = f.ipv6Address.value;
  if (f.macAddress.value !== '') n.macAddress = f.macAddress.value;
  if (f.linkLocalIPs.values.length > 0) n.linkLocalIPs = [...f.linkLocalIPs.values];
}

function parseNetworkOpts(f: ContainerFlags): Record<string, Record<string, unknown>> {
  const endpoints: Record<string, Record<string, unknown>> = {};
  const nets = f.netMode.value.map((n) => ({ ...n, aliases: [...n.aliases], links: [...n.links], linkLocalIPs: [...n.linkLocalIPs] }));
  if (nets.length === 0) {
    const n = newAttachment('default');
    applyContainerOptions(n, f);
    endpoints.default = endpointJson(n);
  }
  let hasUserDefined = false;
  let hasNonUserDefined = false;
  nets.forEach((n, i) => {
    if (isUserDefined(n.target)) hasUserDefined = true;
    else hasNonUserDefined = true;
    if (i === 0) applyContainerOptions(n, f);
    const ep = endpointJson(n);
    if (n.target in endpoints) throw new ParseError(`network ${JSON.stringify(n.target)} is specified multiple times`);
    // A lone network without per-endpoint settings sends no endpoint (as docker does).
    if (i === 0 && nets.length === 1 && isEmptyEndpoint(n)) return;
    endpoints[n.target] = ep;
  });
  if (hasUserDefined && hasNonUserDefined) throw new ParseError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return endpoints;
}

export interface ParseInput {
  image: string;
  args: string[];
  /** The -e values after run/create's proxy-config step (deduplicated). */
  env: string[];
  serverOS: string;
}

export function buildContainerConfig(fs: FlagSet, f: ContainerFlags, input: ParseInput): ContainerConfig {
  const attach = f.attach.values;
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (f.macAddress.value !== '') {
    try {
      validateMAC(f.macAddress.value);
    } catch {
      throw new Error(`${f.macAddress.value} is not a valid mac address`);
    }
  }
  if (f.stdin.value) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  const swappiness = f.swappiness.value;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  // -v: host paths become binds, the rest anonymous or named volumes.
  let binds: string[] | null = null;
  const volumes: Record<string, Record<string, never>> = {};
  for (const bind of uniq(f.volumes.values)) {
    const parsed = parseVolume(bind);
    if (parsed.source !== '') {
      let toBind = bind;
      if (parsed.type === 'bind') {
        const c = bind.indexOf(':');
        if (c >= 0) {
          let hostPart = bind.slice(0, c);
          if (!isAbsolute(hostPart) && hostPart.startsWith('.')) hostPart = resolve(hostPart);
          toBind = hostPart + ':' + bind.slice(c + 1);
        }
      }
      (binds ??= []).push(toBind);
    } else volumes[bind] = {};
  }

  const tmpfs: Record<string, string> = {};
  for (const t of f.tmpfs.values) {
    const c = t.indexOf(':');
    tmpfs[c < 0 ? t : t.slice(0, c)] = c < 0 ? '' : t.slice(c + 1);
  }

  const cmd = input.args.length > 0 ? input.args : null;
  let entrypoint: string[] | null = null;
  if (f.entrypoint.value !== '') entrypoint = [f.entrypoint.value];
  else if (f.entrypoint.changed) entrypoint = [''];

  const { exposed, bindings } = parsePortSpecs(convertToStandardNotation(f.publish.values));
  addExposed(exposed, f.expose.values);

  const devices: DeviceMapping[] = [];
  const cdiNames: string[] = [];
  for (const d of f.devices.values) {
    if (isCdiName(d)) {
      cdiNames.push(d);
      continue;
    }
    if (input.serverOS === 'windows') devices.push({ PathOnHost: d, PathInContainer: '', CgroupPermissions: '' });
    else if (input.serverOS === 'linux' || input.serverOS === '') devices.push(parseDevice(d));
    else throw new Error(`unknown server OS: ${input.serverOS}`);
  }

  const envFromFiles = f.envFile.values.flatMap((file) => parseKeyValueFile(file, (k) => process.env[k]));
  const envAll = [...envFromFiles, ...input.env];
  const labelsAll = [...f.labelsFile.values.flatMap((file) => parseKeyValueFile(file)), ...f.labels.values];

  const pid = f.pidMode.value;
  if (!(pid === '' || pid === 'host' || !!containerId(pid))) throw new Error('--pid: invalid PID mode');
  if (!(f.utsMode.value === '' || f.utsMode.value === 'host')) throw new Error('--uts: invalid UTS mode');
  if (!(f.usernsMode.value === '' || f.usernsMode.value === 'host')) throw new Error('--userns: invalid USER mode');
  if (!['', 'host', 'private'].includes(f.cgroupnsMode.value)) throw new Error('--cgroupns: invalid CGROUP mode');

  const restartPolicy = parseRestartPolicy(f.restartPolicy.value);
  const logOpts = kvToMap(f.loggingOpts.values);
  if (f.loggingDriver.value === 'none' && f.loggingOpts.values.length > 0) throw new Error(`invalid logging opts for driver ${f.loggingDriver.value}`);

  let securityOpts: string[] | null = f.securityOpt.values.length ? parseSecurityOpts(f.securityOpt.values) : null;
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  if (securityOpts) {
    const filtered = securityOpts.filter((o) => o !== 'systempaths=unconfined');
    if (filtered.length !== securityOpts.length) {
      maskedPaths = [];
      readonlyPaths = [];
    }
    securityOpts = filtered;
  }

  const storageOpt: Record<string, string> = {};
  for (const o of f.storageOpt.values) {
    const eq = o.indexOf('=');
    if (eq < 0) throw new Error('invalid storage option');
    storageOpt[o.slice(0, eq)] = o.slice(eq + 1);
  }

  let healthcheck: Record<string, unknown> | undefined;
  const haveHealth = f.healthCmd.value !== '' || f.healthInterval.value !== 0 || f.healthTimeout.value !== 0 || f.healthStartPeriod.value !== 0 || f.healthRetries.value !== 0 || f.healthStartInterval.value !== 0;
  if (f.noHealthcheck.value) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (f.healthInterval.value < 0) throw new Error('--health-interval cannot be negative');
    if (f.healthTimeout.value < 0) throw new Error('--health-timeout cannot be negative');
    if (f.healthRetries.value < 0) throw new Error('--health-retries cannot be negative');
    if (f.healthStartPeriod.value < 0) throw new Error('--health-start-period cannot be negative');
    if (f.healthStartInterval.value < 0) throw new Error('--health-start-interval cannot be negative');
    healthcheck = {};
    if (f.healthCmd.value !== '') healthcheck.Test = ['CMD-SHELL', f.healthCmd.value];
    if (f.healthInterval.value) healthcheck.Interval = f.healthInterval.value;
    if (f.healthTimeout.value) healthcheck.Timeout = f.healthTimeout.value;
    if (f.healthStartPeriod.value) healthcheck.StartPeriod = f.healthStartPeriod.value;
    if (f.healthStartInterval.value) healthcheck.StartInterval = f.healthStartInterval.value;
    if (f.healthRetries.value) healthcheck.Retries = f.healthRetries.value;
  }

  let deviceRequests: DeviceRequest[] | null = f.gpus.value.length ? [...f.gpus.value] : null;
  if (cdiNames.length) (deviceRequests ??= []).push({ Driver: 'cdi', Count: 0, DeviceIDs: cdiNames, Capabilities: null, Options: null });

  const ulimits = Object.values(f.ulimits.value).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  const netMode = f.netMode.value.length ? f.netMode.value[0].target : 'default';

  const config: Record<string, unknown> = {
    Hostname: f.hostname.value,
    Domainname: f.domainname.value,
    User: f.user.value,
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
  };
  if (Object.keys(exposed).length) config.ExposedPorts = sorted(exposed);
  Object.assign(config, {
    Tty: f.tty.value,
    OpenStdin: f.stdin.value,
    StdinOnce: false,
    Env: envAll.length ? envAll : null,
    Cmd: cmd,
  });
  if (healthcheck) config.Healthcheck = healthcheck;
  Object.assign(config, {
    Image: input.image,
    Volumes: sorted(volumes),
    WorkingDir: f.workingDir.value,
    Entrypoint: entrypoint,
  });
  if (f.macAddress.value) config.MacAddress = f.macAddress.value;
  config.OnBuild = null;
  config.Labels = sorted(kvToMap(labelsAll));
  if (f.stopSignal.value) config.StopSignal = f.stopSignal.value;
  if (f.stopTimeout.changed) config.StopTimeout = f.stopTimeout.value;

  const hostConfig: Record<string, unknown> = {
    Binds: binds,
    ContainerIDFile: f.containerIDFile.value,
    LogConfig: { Type: f.loggingDriver.value, Config: sorted(logOpts) },
    NetworkMode: netMode,
    PortBindings: sorted(bindings),
    RestartPolicy: restartPolicy,
    AutoRemove: f.autoRemove.value,
    VolumeDriver: f.volumeDriver.value,
    VolumesFrom: f.volumesFrom.values.length ? f.volumesFrom.values : null,
    ConsoleSize: [0, 0],
  };
  if (Object.keys(f.annotations.value).length) hostConfig.Annotations = sorted(f.annotations.value);
  Object.assign(hostConfig, {
    CapAdd: f.capAdd.values.length ? f.capAdd.values : null,
    CapDrop: f.capDrop.values.length ? f.capDrop.values : null,
    CgroupnsMode: f.cgroupnsMode.value,
    Dns: f.dns.values,
    DnsOptions: f.dnsOptions.values,
    DnsSearch: f.dnsSearch.values,
    ExtraHosts: f.extraHosts.values.length ? f.extraHosts.values : null,
    GroupAdd: f.groupAdd.values.length ? f.groupAdd.values : null,
    IpcMode: f.ipcMode.value,
    Cgroup: '',
    Links: f.links.values.length ? f.links.values : null,
    OomScoreAdj: f.oomScoreAdj.value,
    PidMode: pid,
    Privileged: f.privileged.value,
    PublishAllPorts: f.publishAll.value,
    ReadonlyRootfs: f.readonlyRootfs.value,
    SecurityOpt: securityOpts,
  });
  if (Object.keys(storageOpt).length) hostConfig.StorageOpt = sorted(storageOpt);
  if (Object.keys(tmpfs).length) hostConfig.Tmpfs = sorted(tmpfs);
  Object.assign(hostConfig, {
    UTSMode: f.utsMode.value,
    UsernsMode: f.usernsMode.value,
    ShmSize: f.shmSize.value,
  });
  if (Object.keys(f.sysctls.value).length) hostConfig.Sysctls = sorted(f.sysctls.value);
  if (f.runtime.value) hostConfig.Runtime = f.runtime.value;
  Object.assign(hostConfig, {
    Isolation: f.isolation.value,
    CpuShares: f.cpuShares.value,
    Memory: f.memory.value,
    NanoCpus: f.cpus.value,
    CgroupParent: f.cgroupParent.value,
    BlkioWeight: f.blkioWeight.value,
    BlkioWeightDevice: f.blkioWeightDevice.value,
    BlkioDeviceReadBps: f.deviceReadBps.value,
    BlkioDeviceWriteBps: f.deviceWriteBps.value,
    BlkioDeviceReadIOps: f.deviceReadIOps.value,
    BlkioDeviceWriteIOps: f.deviceWriteIOps.value,
    CpuPeriod: f.cpuPeriod.value,
    CpuQuota: f.cpuQuota.value,
    CpuRealtimePeriod: f.cpuRealtimePeriod.value,
    CpuRealtimeRuntime: f.cpuRealtimeRuntime.value,
    CpusetCpus: f.cpusetCpus.value,
    CpusetMems: f.cpusetMems.value,
    Devices: devices,
    DeviceCgroupRules: f.deviceCgroupRules.values.length ? f.deviceCgroupRules.values : null,
    DeviceRequests: deviceRequests,
  });
  if (f.kernelMemory.value) hostConfig.KernelMemory = f.kernelMemory.value;
  Object.assign(hostConfig, {
    MemoryReservation: f.memoryReservation.value,
    MemorySwap: f.memorySwap.value,
    MemorySwappiness: swappiness,
    OomKillDisable: f.oomKillDisable.value,
    PidsLimit: f.pidsLimit.value,
    Ulimits: ulimits,
    CpuCount: f.cpuCount.value,
    CpuPercent: f.cpuPercent.value,
    IOMaximumIOps: f.ioMaxIOps.value,
    IOMaximumBandwidth: f.ioMaxBandwidth.value,
  });
  if (f.mounts.value.length) hostConfig.Mounts = f.mounts.value.map(mountJson);
  hostConfig.MaskedPaths = maskedPaths;
  hostConfig.ReadonlyPaths = readonlyPaths;

  if (f.autoRemove.value && !(restartPolicy.Name === 'no' || restartPolicy.Name === '')) {
    throw new Error('conflicting options: cannot specify both --restart and --rm');
  }
  if (fs.changed('init')) hostConfig.Init = f.init.value;
  if (config.OpenStdin && config.AttachStdin) config.StdinOnce = true;

  const endpoints = parseNetworkOpts(f);
  const main = endpoints[networkName(netMode)];
  if (main) {
    // The deprecated Config.MacAddress mirrors the main network's (API < 1.44 reads it).
    const mac = main.MacAddress as string;
    if (mac) {
      const ordered: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(config)) {
        if (k === 'OnBuild' && !('MacAddress' in config)) ordered.MacAddress = mac;
        ordered[k] = k === 'MacAddress' ? mac : v;
      }
      for (const k of Object.keys(config)) delete config[k];
      Object.assign(config, ordered);
    }
  }
  return { Config: config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: sorted(endpoints) } };
}

/** The create request body: Config fields with HostConfig and NetworkingConfig appended. */
export function createBody(c: ContainerConfig): Record<string, unknown> {
  return { ...c.Config, HostConfig: c.HostConfig, NetworkingConfig: c.NetworkingConfig };
}
