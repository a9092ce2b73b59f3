// The flags of `run` and `create` that describe the container (docker's containerOptions),
// with docker's names, shorthands, types, defaults and help texts.
import { CustomFlag, DurationFlag, FlagSet, IntFlag, ListFlag, StringFlag, type BoolFlag } from '../flags.ts';
import { ramInBytes } from '../format/units.ts';
import { parseNetworkOpt, type NetworkAttachment } from './network.ts';
import { parseMount, type Mount } from './mounts.ts';
import { parseCPUs, parseMemSwap, parseThrottleBps, parseThrottleIOps, parseUlimit, parseWeightDevice, type ThrottleDevice, type Ulimit } from './misc.ts';
import {
  validateAttach, validateDeviceCgroupRule, validateDNSSearch, validateEnv, validateExtraHost, validateIPAddress, validateLabel, validateLink, validateSysctl,
} from './validators.ts';
import { parseGpus, type DeviceRequest } from './gpus.ts';

export interface ContainerFlags {
  attach: ListFlag;
  deviceCgroupRules: ListFlag;
  devices: ListFlag;
  gpus: CustomFlag<DeviceRequest[]>;
  env: ListFlag;
  envFile: ListFlag;
  entrypoint: StringFlag;
  groupAdd: ListFlag;
  hostname: StringFlag;
  domainname: StringFlag;
  stdin: BoolFlag;
  labels: ListFlag;
  labelsFile: ListFlag;
  readonlyRootfs: BoolFlag;
  restartPolicy: StringFlag;
  stopSignal: StringFlag;
  stopTimeout: IntFlag;
  sysctls: CustomFlag<Record<string, string>>;
  tty: BoolFlag;
  ulimits: CustomFlag<Record<string, Ulimit>>;
  user: StringFlag;
  workingDir: StringFlag;
  autoRemove: BoolFlag;
  capAdd: ListFlag;
  capDrop: ListFlag;
  privileged: BoolFlag;
  securityOpt: ListFlag;
  usernsMode: StringFlag;
  cgroupnsMode: StringFlag;
  extraHosts: ListFlag;
  dns: ListFlag;
  dnsOptions: ListFlag;
  dnsSearch: ListFlag;
  expose: ListFlag;
  ipv4Address: StringFlag;
  ipv6Address: StringFlag;
  links: ListFlag;
  linkLocalIPs: ListFlag;
  macAddress: StringFlag;
  publish: ListFlag;
  publishAll: BoolFlag;
  netMode: CustomFlag<NetworkAttachment[]>;
  aliases: ListFlag;
  loggingDriver: StringFlag;
  volumeDriver: StringFlag;
  loggingOpts: ListFlag;
  storageOpt: ListFlag;
  tmpfs: ListFlag;
  volumesFrom: ListFlag;
  volumes: ListFlag;
  mounts: CustomFlag<Mount[]>;
  healthCmd: StringFlag;
  healthInterval: DurationFlag;
  healthRetries: IntFlag;
  healthTimeout: DurationFlag;
  healthStartPeriod: DurationFlag;
  healthStartInterval: DurationFlag;
  noHealthcheck: BoolFlag;
  blkioWeight: IntFlag;
  blkioWeightDevice: CustomFlag<Array<{ Path: string; Weight: number }>>;
  containerIDFile: StringFlag;
  cpusetCpus: StringFlag;
  cpusetMems: StringFlag;
  cpuCount: IntFlag;
  cpuPercent: IntFlag;
  cpuPeriod: IntFlag;
  cpuQuota: IntFlag;
  cpuRealtimePeriod: IntFlag;
  cpuRealtimeRuntime: IntFlag;
  cpuShares: IntFlag;
  cpus: CustomFlag<number>;
  deviceReadBps: CustomFlag<ThrottleDevice[]>;
  deviceReadIOps: CustomFlag<ThrottleDevice[]>;
  deviceWriteBps: CustomFlag<ThrottleDevice[]>;
  deviceWriteIOps: CustomFlag<ThrottleDevice[]>;
  ioMaxBandwidth: CustomFlag<number>;
  ioMaxIOps: IntFlag;
  kernelMemory: CustomFlag<number>;
  memory: CustomFlag<number>;
  memoryReservation: CustomFlag<number>;
  memorySwap: CustomFlag<number>;
  swappiness: IntFlag;
  oomKillDisable: BoolFlag;
  oomScoreAdj: IntFlag;
  pidsLimit: IntFlag;
  cgroupParent: StringFlag;
  ipcMode: StringFlag;
  isolation: StringFlag;
  pidMode: StringFlag;
  shmSize: CustomFlag<number>;
  utsMode: StringFlag;
  runtime: StringFlag;
  init: BoolFlag;
  annotations: CustomFlag<Record<string, string>>;
}

function bytesFlag(fs: FlagSet, name: string, short: string | undefined, usage: string): CustomFlag<number> {
  return fs.add(new CustomFlag<number>(name, short, usage, 'bytes', 0, (v) => ramInBytes(v), '0'));
}

function listOf<T>(fs: FlagSet, name: string, usage: string, parse: (v: string) => T): CustomFlag<T[]> {
  return fs.add(new CustomFlag<T[]>(name, undefined, usage, 'list', [], (v, cur) => [...cur, parse(v)], '[]'));
}

function mapFlag(fs: FlagSet, name: string, usage: string, validate?: (v: string) => string): CustomFlag<Record<string, string>> {
  return fs.add(
    new CustomFlag<Record<string, string>>(name, undefined, usage, 'map', {}, (v, cur) => {
      const val = validate ? validate(v) : v;
      const eq = val.indexOf('=');
      return { ...cur, [eq < 0 ? val : val.slice(0, eq)]: eq < 0 ? '' : val.slice(eq + 1) };
    }, 'map[]'),
  );
}

export function addContainerFlags(fs: FlagSet): ContainerFlags {
  const list = (name: string, short: string | undefined, usage: string, validate?: (v: string) => string) => fs.add(new ListFlag(name, short, usage, validate));
  const str = (name: string, short: string | undefined, usage: string, def = '') => fs.add(new StringFlag(name, short, def, usage));
  const int = (name: string, short: string | undefined, usage: string, def = 0, typeName = 'int') => fs.add(new IntFlag(name, short, def, usage, typeName));
  const dur = (name: string, usage: string) => fs.add(new DurationFlag(name, undefined, usage));

  const f: Partial<ContainerFlags> = {};
  // General purpose
  f.attach = list('attach', 'a', 'Attach to STDIN, STDOUT or STDERR', validateAttach);
  f.deviceCgroupRules = list('device-cgroup-rule', undefined, 'Add a rule to the cgroup allowed devices list', validateDeviceCgroupRule);
  f.devices = list('device', undefined, 'Add a host device to the container');
  f.gpus = fs.add(new CustomFlag<DeviceRequest[]>('gpus', undefined, "GPU devices to add to the container ('all' to pass all GPUs)", 'gpu-request', [], (v, cur) => [...cur, parseGpus(v)]));
  f.env = list('env', 'e', 'Set environment variables', validateEnv);
  f.envFile = list('env-file', undefined, 'Read in a file of environment variables');
  f.entrypoint = str('entrypoint', undefined, 'Overwrite the default ENTRYPOINT of the image');
  f.groupAdd = list('group-add', undefined, 'Add additional groups to join');
  f.hostname = str('hostname', 'h', 'Container host name');
  f.domainname = str('domainname', undefined, 'Container NIS domain name');
  f.stdin = fs.bool('interactive', 'i', false, 'Keep STDIN open even if not attached');
  f.labels = list('label', 'l', 'Set meta data on a container', validateLabel);
  f.labelsFile = list('label-file', undefined, 'Read in a line delimited file of labels');
  f.readonlyRootfs = fs.bool('read-only', undefined, false, "Mount the container's root filesystem as read only");
  f.restartPolicy = str('restart', undefined, 'Restart policy to apply when a container exits', 'no');
  f.stopSignal = str('stop-signal', undefined, 'Signal to stop the container');
  f.stopTimeout = int('stop-timeout', undefined, 'Timeout (in seconds) to stop a container');
  f.sysctls = mapFlag(fs, 'sysctl', 'Sysctl options', validateSysctl);
  f.tty = fs.bool('tty', 't', false, 'Allocate a pseudo-TTY');
  f.ulimits = fs.add(new CustomFlag<Record<string, Ulimit>>('ulimit', undefined, 'Ulimit options', 'ulimit', {}, (v, cur) => {
    const u = parseUlimit(v);
    return { ...cur, [u.Name]: u };
  }, '[]'));
  f.user = str('user', 'u', 'Username or UID (format: <name|uid>[:<group|gid>])');
  f.workingDir = str('workdir', 'w', 'Working directory inside the container');
  f.autoRemove = fs.bool('rm', undefined, false, 'Automatically remove the container and its associated anonymous volumes when it exits');

  // Security
  f.capAdd = list('cap-add', undefined, 'Add Linux capabilities');
  f.capDrop = list('cap-drop', undefined, 'Drop Linux capabilities');
  f.privileged = fs.bool('privileged', undefined, false, 'Give extended privileges to this container');
  f.securityOpt = list('security-opt', undefined, 'Security Options');
  f.usernsMode = str('userns', undefined, 'User namespace to use');
  f.cgroupnsMode = str('cgroupns', undefined, `Cgroup namespace to use (host|private)
'host':    Run the container in the Berth host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`);

  // Network and port publishing
  f.extraHosts = list('add-host', undefined, 'Add a custom host-to-IP mapping (host:ip)', validateExtraHost);
  f.dns = list('dns', undefined, 'Set custom DNS servers', validateIPAddress);
  f.dnsOptions = list('dns-option', undefined, 'Set DNS options');
  fs.alias('dns-opt', f.dnsOptions);
  f.dnsSearch = list('dns-search', undefined, 'Set custom DNS search domains', validateDNSSearch);
  f.expose = list('expose', undefined, 'Expose a port or a range of ports');
  f.ipv4Address = str('ip', undefined, 'IPv4 address (e.g., 172.30.100.104)');
  f.ipv6Address = str('ip6', undefined, 'IPv6 address (e.g., 2001:db8::33)');
  f.links = list('link', undefined, 'Add link to another container', validateLink);
  f.linkLocalIPs = list('link-local-ip', undefined, 'Container IPv4/IPv6 link-local addresses');
  f.macAddress = str('mac-address', undefined, 'Container MAC address (e.g., 92:d0:c6:0a:29:33)');
  f.publish = list('publish', 'p', "Publish a container's port(s) to the host");
  f.publishAll = fs.bool('publish-all', 'P', false, 'Publish all exposed ports to random ports');
  f.netMode = fs.add(new CustomFlag<NetworkAttachment[]>('network', undefined, 'Connect a container to a network', 'network', [], (v, cur) => [...cur, parseNetworkOpt(v)]));
  fs.alias('net', f.netMode);
  f.aliases = list('network-alias', undefined, 'Add network-scoped alias for the container');
  fs.alias('net-alias', f.aliases);

  // Logging and storage
  f.loggingDriver = str('log-driver', undefined, 'Logging driver for the container');
  f.volumeDriver = str('volume-driver', undefined, 'Optional volume driver for the container');
  f.loggingOpts = list('log-opt', undefined, 'Log driver options');
  f.storageOpt = list('storage-opt', undefined, 'Storage driver options for the container');
  f.tmpfs = list('tmpfs', undefined, 'Mount a tmpfs directory');
  f.volumesFrom = list('volumes-from', undefined, 'Mount volumes from the specified container(s)');
  f.volumes = list('volume', 'v', 'Bind mount a volume');
  f.mounts = fs.add(new CustomFlag<Mount[]>('mount', undefined, 'Attach a filesystem mount to the container', 'mount', [], (v, cur) => [...cur, parseMount(v, (m) => process.stderr.write(`WARN[0000] ${m}\n`))]));

  // Health-checking
  f.healthCmd = str('health-cmd', undefined, 'Command to run to check health');
  f.healthInterval = dur('health-interval', 'Time between running the check (ms|s|m|h) (default 0s)');
  f.healthRetries = int('health-retries', undefined, 'Consecutive failures needed to report unhealthy');
  f.healthTimeout = dur('health-timeout', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)');
  f.healthStartPeriod = dur('health-start-period', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)');
  f.healthStartInterval = dur('health-start-interval', 'Time between running the check during the start period (ms|s|m|h) (default 0s)');
  f.noHealthcheck = fs.bool('no-healthcheck', undefined, false, 'Disable any container-specified HEALTHCHECK');

  // Resource management
  f.blkioWeight = fs.add(new IntFlag('blkio-weight', undefined, 0, 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', 'uint16', 16, true));
  f.blkioWeightDevice = listOf(fs, 'blkio-weight-device', 'Block IO weight (relative device weight)', parseWeightDevice);
  f.containerIDFile = str('cidfile', undefined, 'Write the container ID to the file');
  f.cpusetCpus = str('cpuset-cpus', undefined, 'CPUs in which to allow execution (0-3, 0,1)');
  f.cpusetMems = str('cpuset-mems', undefined, 'MEMs in which to allow execution (0-3, 0,1)');
  f.cpuCount = int('cpu-count', undefined, 'CPU count (Windows only)');
  f.cpuPercent = int('cpu-percent', undefined, 'CPU percent (Windows only)');
  f.cpuPeriod = int('cpu-period', undefined, 'Limit CPU CFS (Completely Fair Scheduler) period');
  f.cpuQuota = int('cpu-quota', undefined, 'Limit CPU CFS (Completely Fair Scheduler) quota');
  f.cpuRealtimePeriod = int('cpu-rt-period', undefined, 'Limit CPU real-time period in microseconds');
  f.cpuRealtimeRuntime = int('cpu-rt-runtime', undefined, 'Limit CPU real-time runtime in microseconds');
  f.cpuShares = int('cpu-shares', 'c', 'CPU shares (relative weight)');
  f.cpus = fs.add(new CustomFlag<number>('cpus', undefined, 'Number of CPUs', 'decimal', 0, (v) => parseCPUs(v)));
  f.deviceReadBps = listOf(fs, 'device-read-bps', 'Limit read rate (bytes per second) from a device', parseThrottleBps);
  f.deviceReadIOps = listOf(fs, 'device-read-iops', 'Limit read rate (IO per second) from a device', parseThrottleIOps);
  f.deviceWriteBps = listOf(fs, 'device-write-bps', 'Limit write rate (bytes per second) to a device', parseThrottleBps);
  f.deviceWriteIOps = listOf(fs, 'device-write-iops', 'Limit write rate (IO per second) to a device', parseThrottleIOps);
  f.ioMaxBandwidth = bytesFlag(fs, 'io-maxbandwidth', undefined, 'Maximum IO bandwidth limit for the system drive (Windows only)');
  f.ioMaxIOps = fs.add(new IntFlag('io-maxiops', undefined, 0, 'Maximum IOps limit for the system drive (Windows only)', 'uint', 64, true));
  f.kernelMemory = bytesFlag(fs, 'kernel-memory', undefined, 'Kernel memory limit');
  f.memory = bytesFlag(fs, 'memory', 'm', 'Memory limit');
  f.memoryReservation = bytesFlag(fs, 'memory-reservation', undefined, 'Memory soft limit');
  f.memorySwap = fs.add(new CustomFlag<number>('memory-swap', undefined, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", 'bytes', 0, (v) => parseMemSwap(v)));
  f.swappiness = int('memory-swappiness', undefined, 'Tune container memory swappiness (0 to 100)', -1);
  f.oomKillDisable = fs.bool('oom-kill-disable', undefined, false, 'Disable OOM Killer');
  f.oomScoreAdj = int('oom-score-adj', undefined, "Tune host's OOM preferences (-1000 to 1000)");
  f.pidsLimit = int('pids-limit', undefined, 'Tune container pids limit (set -1 for unlimited)');

  // Low-level execution
  f.cgroupParent = str('cgroup-parent', undefined, 'Optional parent cgroup for the container');
  f.ipcMode = str('ipc', undefined, 'IPC mode to use');
  f.isolation = str('isolation', undefined, 'Container isolation technology');
  f.pidMode = str('pid', undefined, 'PID namespace to use');
  f.shmSize = bytesFlag(fs, 'shm-size', undefined, 'Size of /dev/shm');
  f.utsMode = str('uts', undefined, 'UTS namespace to use');
  f.runtime = str('runtime', undefined, 'Runtime to use for this container');
  f.init = fs.bool('init', undefined, false, 'Run an init inside the container that forwards signals and reaps processes');
  f.annotations = mapFlag(fs, 'annotation', 'Add an annotation to the container (passed through to the OCI runtime)');
  for (const windowsOnly of [f.cpuCount, f.cpuPercent, f.ioMaxBandwidth, f.ioMaxIOps]) windowsOnly.osType = 'windows';
  return f as ContainerFlags;
}
