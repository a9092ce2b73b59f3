// linux.resources from HostConfig's resource fields, with Docker's conversions: NanoCpus
// becomes a CFS quota over a 100ms period, PidsLimit <= 0 means unlimited (-1 for runc),
// and block-device limits name devices by host path, resolved here to major:minor.
import { existsSync, promises as fsp, readFileSync, statfsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import { splitDev } from './devices.ts';
import type { OciResources, OciThrottleDevice, OciWeightDevice, Resources, ThrottleDevice } from './types.ts';

type Memory = NonNullable<OciResources['memory']>;
type Cpu = NonNullable<OciResources['cpu']>;
type BlockIO = NonNullable<OciResources['blockIO']>;

export const CFS_PERIOD_US = 100_000;

export function memoryResources(r: Resources, swapLimit: boolean): Memory | undefined {
  const m: Memory = {};
  if ((r.Memory ?? 0) > 0) m.limit = r.Memory!;
  if ((r.MemoryReservation ?? 0) > 0) m.reservation = r.MemoryReservation!;
  // Docker drops a swap limit the kernel cannot enforce (it warns at create instead).
  // -1 (unlimited swap) is passed on as Docker does: an update may lift a limit set before.
  if (((r.MemorySwap ?? 0) > 0 || r.MemorySwap === -1) && swapLimit) m.swap = r.MemorySwap!;
  if (r.MemorySwappiness != null && r.MemorySwappiness >= 0) {
    if (r.MemorySwappiness > 100) throw badParameter(`invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
    m.swappiness = r.MemorySwappiness;
  }
  if (r.OomKillDisable != null) m.disableOOMKiller = r.OomKillDisable;
  if ((r.KernelMemoryTCP ?? 0) !== 0) m.kernelTCP = r.KernelMemoryTCP!;
  return Object.keys(m).length > 0 ? m : undefined;
}

export function cpuResources(r: Resources): Cpu | undefined {
  const c: Cpu = {};
  const shares = r.CpuShares ?? 0;
  if (shares < 0) throw badParameter(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares > 0) c.shares = shares;
  if (r.CpusetCpus) c.cpus = r.CpusetCpus;
  if (r.CpusetMems) c.mems = r.CpusetMems;
  if ((r.NanoCpus ?? 0) > 0) {
    if ((r.CpuPeriod ?? 0) > 0) throw badParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if ((r.CpuQuota ?? 0) > 0) throw badParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    c.period = CFS_PERIOD_US;
    c.quota = Math.floor((r.NanoCpus! * CFS_PERIOD_US) / 1e9);
  }
  if ((r.CpuPeriod ?? 0) !== 0) c.period = r.CpuPeriod!;
  if ((r.CpuQuota ?? 0) !== 0) c.quota = r.CpuQuota!;
  if ((r.CpuRealtimePeriod ?? 0) !== 0) c.realtimePeriod = r.CpuRealtimePeriod!;
  if ((r.CpuRealtimeRuntime ?? 0) !== 0) c.realtimeRuntime = r.CpuRealtimeRuntime!;
  return Object.keys(c).length > 0 ? c : undefined;
}

export function pidsResources(r: Resources): { limit: number } | undefined {
  if (r.PidsLimit == null) return undefined;
  return { limit: r.PidsLimit <= 0 ? -1 : r.PidsLimit };
}

async function deviceNumbers(path: string): Promise<{ major: number; minor: number }> {
  let st;
  try {
    st = await fsp.stat(path, { bigint: true });
  } catch (err) {
    throw badParameter(`stat ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!st.isBlockDevice()) throw badParameter(`${path} is not a block device`);
  return splitDev(st.rdev);
}

async function throttle(list: ThrottleDevice[] | null | undefined): Promise<OciThrottleDevice[]> {
  const out: OciThrottleDevice[] = [];
  for (const d of list ?? []) out.push({ ...(await deviceNumbers(d.Path)), rate: d.Rate });
  return out;
}

export async function blockIOResources(r: Resources): Promise<BlockIO | undefined> {
  const b: BlockIO = {};
  if ((r.BlkioWeight ?? 0) !== 0) {
    if (r.BlkioWeight! < 10 || r.BlkioWeight! > 1000) throw badParameter('Range of blkio weight is from 10 to 1000');
    b.weight = r.BlkioWeight!;
  }
  const weights: OciWeightDevice[] = [];
  for (const d of r.BlkioWeightDevice ?? []) weights.push({ ...(await deviceNumbers(d.Path)), weight: d.Weight });
  if (weights.length) b.weightDevice = weights;
  const lists = {
    throttleReadBpsDevice: await throttle(r.BlkioDeviceReadBps),
    throttleWriteBpsDevice: await throttle(r.BlkioDeviceWriteBps),
    throttleReadIOPSDevice: await throttle(r.BlkioDeviceReadIOps),
    throttleWriteIOPSDevice: await throttle(r.BlkioDeviceWriteIOps),
  };
  for (const [k, v] of Object.entries(lists)) if (v.length) b[k as keyof typeof lists] = v;
  return Object.keys(b).length > 0 ? b : undefined;
}

/**
 * What the host's cgroups can limit, as dockerd's sysinfo probes it: a limit the kernel
 * cannot enforce is dropped at create with a warning instead of failing the start.
 */
export interface CgroupSupport {
  version: 1 | 2;
  swappiness: boolean;
  oomKillDisable: boolean;
  pids: boolean;
  cpuShares: boolean;
  cfs: boolean;
  cpuset: boolean;
  /** The CPUs and memory nodes containers may use, as the root cpuset lists them ("0-3"). */
  cpus: string;
  mems: string;
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  readBps: boolean;
  writeBps: boolean;
  readIOps: boolean;
  writeIOps: boolean;
}

const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Probes a cgroup v1 layout (one hierarchy per controller) or a v2 one under `root`. */
export function probeCgroupSupport(root: string, version: 1 | 2): CgroupSupport {
  if (version === 2) {
    const controllers = new Set((readTrimmed(join(root, 'cgroup.controllers')) ?? '').split(/\s+/));
    const io = controllers.has('io');
    const cpuset = controllers.has('cpuset');
    return {
      version,
      swappiness: false,
      oomKillDisable: false,
      pids: controllers.has('pids'),
      cpuShares: controllers.has('cpu'),
      cfs: controllers.has('cpu'),
      cpuset,
      cpus: (cpuset && readTrimmed(join(root, 'cpuset.cpus.effective'))) || readTrimmed('/sys/devices/system/cpu/online') || '',
      mems: (cpuset && readTrimmed(join(root, 'cpuset.mems.effective'))) || readTrimmed('/sys/devices/system/node/online') || '0',
      blkioWeight: io,
      blkioWeightDevice: io,
      readBps: io,
      writeBps: io,
      readIOps: io,
      writeIOps: io,
    };
  }
  const has = (controller: string, file: string) => existsSync(join(root, controller, file));
  return {
    version,
    swappiness: has('memory', 'memory.swappiness'),
    oomKillDisable: has('memory', 'memory.oom_control'),
    pids: has('pids', 'pids.max') || existsSync(join(root, 'pids')),
    cpuShares: has('cpu', 'cpu.shares'),
    cfs: has('cpu', 'cpu.cfs_quota_us'),
    cpuset: existsSync(join(root, 'cpuset')),
    cpus: readTrimmed(join(root, 'cpuset', 'cpuset.cpus')) ?? readTrimmed('/sys/devices/system/cpu/online') ?? '',
    mems: readTrimmed(join(root, 'cpuset', 'cpuset.mems')) ?? '0',
    blkioWeight: has('blkio', 'blkio.weight'),
    blkioWeightDevice: has('blkio', 'blkio.weight_device'),
    readBps: has('blkio', 'blkio.throttle.read_bps_device'),
    writeBps: has('blkio', 'blkio.throttle.write_bps_device'),
    readIOps: has('blkio', 'blkio.throttle.read_iops_device'),
    writeIOps: has('blkio', 'blkio.throttle.write_iops_device'),
  };
}

let hostSupport: CgroupSupport | undefined;

/** This host's support, probed once (the layout does not change while the daemon runs). */
export function hostCgroupSupport(): CgroupSupport {
  if (!hostSupport) {
    let version: 1 | 2 = 1;
    try {
      version = statfsSync(CGROUP_ROOT).type === CGROUP2_SUPER_MAGIC ? 2 : 1;
    } catch {
      // no cgroupfs at all: probing finds nothing either way
    }
    hostSupport = probeCgroupSupport(CGROUP_ROOT, version);
  }
  return hostSupport;
}

/** The ranges of a cpuset list ("0-2,4"); undefined when it does not parse (Docker's ParseUintList). */
export function parseUintRanges(list: string): Array<[number, number]> | undefined {
  const out: Array<[number, number]> = [];
  if (list === '') return out;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = Number(m[2] ?? m[1]);
    if (hi < lo) return undefined;
    out.push([lo, hi]);
  }
  return out;
}

/** Whether every CPU (or node) of `requested` is in `available`; undefined when it does not parse. */
export function cpusetAvailable(requested: string, available: string): boolean | undefined {
  const want = parseUintRanges(requested);
  if (!want) return undefined;
  const have = parseUintRanges(available) ?? [];
  // Ranges are compared, not expanded: a request such as "0-4000000000" stays cheap.
  return want.every(([lo, hi]) => {
    let next = lo;
    for (const [a, b] of [...have].sort((x, y) => x[0] - y[0])) {
      if (a <= next && next <= b) next = b + 1;
      if (next > hi) return true;
    }
    return next > hi;
  });
}

/**
 * The container's cgroup under the cgroupfs driver: its own --cgroup-parent, else the
 * daemon's, joined with its id as dockerd joins them. A relative parent is taken from the
 * root of the hierarchy (runc would place it under its own cgroup, which for berth is
 * whatever cgroup berthd was started in: not a place anyone can name in advance).
 */
export function containerCgroupPath(daemonParent: string, hc: { CgroupParent?: string } | undefined, id: string): string {
  const parent = hc?.CgroupParent || daemonParent;
  return posix.join('/', parent, id);
}

/** The cgroup facts of GET /info, and dockerd's warnings for what is missing (fillPlatformInfo). */
export interface CgroupInfo {
  MemoryLimit: boolean;
  SwapLimit: boolean;
  KernelMemoryTCP: boolean;
  CpuCfsPeriod: boolean;
  CpuCfsQuota: boolean;
  CPUShares: boolean;
  CPUSet: boolean;
  PidsLimit: boolean;
  OomKillDisable: boolean;
  Warnings: string[];
}

export function cgroupInfo(s: CgroupSupport, swapLimit: boolean, root = CGROUP_ROOT): CgroupInfo {
  const v1 = s.version === 1;
  const info: CgroupInfo = {
    MemoryLimit: true,
    SwapLimit: swapLimit,
    KernelMemoryTCP: v1 && existsSync(join(root, 'memory', 'memory.kmem.tcp.limit_in_bytes')),
    CpuCfsPeriod: s.cfs,
    CpuCfsQuota: s.cfs,
    CPUShares: s.cpuShares,
    CPUSet: s.cpuset,
    PidsLimit: s.pids,
    OomKillDisable: s.oomKillDisable,
    Warnings: [],
  };
  const w = info.Warnings;
  if (!info.SwapLimit) w.push('WARNING: No swap limit support');
  // v2 has neither: nothing a user could do about it, so dockerd says nothing there.
  if (v1 && !info.KernelMemoryTCP) w.push('WARNING: No kernel memory TCP limit support');
  if (v1 && !info.OomKillDisable) w.push('WARNING: No oom kill disable support');
  if (!s.cfs) w.push('WARNING: No cpu cfs quota support', 'WARNING: No cpu cfs period support');
  if (!s.cpuShares) w.push('WARNING: No cpu shares support');
  if (!s.cpuset) w.push('WARNING: No cpuset support');
  // v1 lost blkio.weight with CFQ (kernel 5.0): dockerd stays quiet about it there too.
  if (!v1 && !s.blkioWeight) w.push('WARNING: No io.weight support');
  if (!v1 && !s.blkioWeightDevice) w.push('WARNING: No io.weight (per device) support');
  if (!s.readBps) w.push(v1 ? 'WARNING: No blkio throttle.read_bps_device support' : 'WARNING: No io.max (rbps) support');
  if (!s.writeBps) w.push(v1 ? 'WARNING: No blkio throttle.write_bps_device support' : 'WARNING: No io.max (wbps) support');
  if (!s.readIOps) w.push(v1 ? 'WARNING: No blkio throttle.read_iops_device support' : 'WARNING: No io.max (riops) support');
  if (!s.writeIOps) w.push(v1 ? 'WARNING: No blkio throttle.write_iops_device support' : 'WARNING: No io.max (wiops) support');
  return info;
}
