// /_ping, /version, /info.
import { hostname, totalmem, cpus, release } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Router } from '../router.ts';
import type { CgroupInfo } from '../../runtime/resources.ts';
import { API_VERSION, MIN_API_VERSION } from '../version.ts';
import { rfc3339Nano } from '../../util/time.ts';

export const BERTH_VERSION = '0.1.0';

export interface SystemInfoSource {
  id: string;
  dataRoot: string;
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  runtimes: Record<string, { path: string }>;
  defaultRuntime: string;
  cgroupVersion: '1' | '2';
  liveRestore: boolean;
  /** --userns-remap is on (Info lists name=userns). */
  userns?: boolean;
  runtimeVersion: () => string;
  /** What the host's cgroups can limit, with dockerd's warnings for what they cannot. */
  cgroup: CgroupInfo;
  /** The daemon's default log driver. */
  loggingDriver: string;
  /** Insecure registries and mirrors, as dockerd's RegistryConfig. */
  registryConfig?: object;
}

function osPrettyName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m ? m[1] : 'Linux';
  } catch {
    return 'Linux';
  }
}

export function systemRoutes(r: Router, s: SystemInfoSource): void {
  const ping = (ctx: Parameters<Parameters<Router['add']>[2]>[0]) => {
    ctx.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    ctx.res.setHeader('Pragma', 'no-cache');
    ctx.res.setHeader('Builder-Version', '1');
    ctx.res.setHeader('Swarm', 'inactive');
    if (ctx.req.method === 'HEAD') {
      ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
      ctx.res.end();
      return;
    }
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' });
    ctx.res.end('OK');
  };
  r.add('GET', '/_ping', ping);
  r.add('HEAD', '/_ping', ping);

  r.add('GET', '/version', (ctx) => {
    const details = {
      ApiVersion: API_VERSION,
      Arch: 'amd64',
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      KernelVersion: release(),
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    };
    ctx.send(200, {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: BERTH_VERSION, Details: details },
        { Name: 'runc', Version: s.runtimeVersion(), Details: { GitCommit: '' } },
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: details.GoVersion,
      Os: 'linux',
      Arch: 'amd64',
      KernelVersion: details.KernelVersion,
      BuildTime: '',
    });
  });

  r.add('GET', '/info', (ctx) => {
    const c = s.counts();
    ctx.send(200, {
      ID: s.id,
      Containers: c.containers,
      ContainersRunning: c.running,
      ContainersPaused: c.paused,
      ContainersStopped: c.stopped,
      Images: c.images,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none', 'null'], Authorization: null, Log: ['json-file', 'local', 'none'] },
      MemoryLimit: s.cgroup.MemoryLimit,
      SwapLimit: s.cgroup.SwapLimit,
      KernelMemoryTCP: s.cgroup.KernelMemoryTCP,
      CpuCfsPeriod: s.cgroup.CpuCfsPeriod,
      CpuCfsQuota: s.cgroup.CpuCfsQuota,
      CPUShares: s.cgroup.CPUShares,
      CPUSet: s.cgroup.CPUSet,
      PidsLimit: s.cgroup.PidsLimit,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      OomKillDisable: s.cgroup.OomKillDisable,
      NGoroutines: 0,
      SystemTime: rfc3339Nano(),
      LoggingDriver: s.loggingDriver,
      CgroupDriver: 'cgroupfs',
      CgroupVersion: s.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osPrettyName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: 'x86_64',
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: s.registryConfig ?? { IndexConfigs: {}, InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8'], Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: s.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(Object.entries(s.runtimes).map(([k, v]) => [k, { path: v.path }])),
      DefaultRuntime: s.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: s.liveRestore,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin', ...(s.userns ? ['name=userns'] : []), ...(s.cgroupVersion === '2' ? ['name=cgroupns'] : [])],
      CDISpecDirs: [],
      Containerd: null,
      Warnings: s.cgroup.Warnings,
    });
  });
}
