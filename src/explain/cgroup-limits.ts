// Every limit in effect on a container's cgroup, read back from cgroupfs: the kernel's
// values after clamping and defaults, which is what the processes are actually held to.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../cgroup/layout.ts';
import type { CgroupFacts, CgroupLimit } from './types.ts';

/** v1 files per controller (hierarchy); a file the kernel lacks (blkio.weight without CFQ/BFQ) is skipped. */
const V1_FILES: Array<[string, string[]]> = [
  ['memory', ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness', 'memory.oom_control']],
  ['cpu', ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.shares']],
  ['cpuset', ['cpuset.cpus', 'cpuset.mems']],
  ['pids', ['pids.max']],
  ['blkio', ['blkio.weight', 'blkio.bfq.weight', 'blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device']],
  ['devices', ['devices.list']],
];

const V2_FILES = ['memory.max', 'memory.swap.max', 'memory.low', 'memory.high', 'memory.oom.group', 'cpu.max', 'cpu.weight', 'cpuset.cpus.effective', 'cpuset.mems.effective', 'pids.max', 'io.max', 'io.weight'];

/** v1 memory limits at or above this mean "no limit" (the page-rounded int64 max). */
const V1_UNLIMITED = 0x7fff_ffff_ffff_f000n;

function bytes(n: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let whole = n;
  while (i < units.length - 1 && whole >= 1024n && whole % 1024n === 0n) {
    whole /= 1024n;
    i++;
  }
  if (whole >= 1024n) return `${(Number(n) / 1024 ** (units.length - 1)).toFixed(1)}${units.at(-1)}`;
  return `${whole}${units[i]}`;
}

function memoryMeaning(v: string): string {
  if (v === 'max' || !/^\d+$/.test(v)) return v === 'max' ? 'unlimited' : '';
  const n = BigInt(v);
  return n >= V1_UNLIMITED ? 'unlimited' : bytes(n);
}

/** Readings for the files whose raw value needs decoding; `all` holds the group's other values. */
function meaning(file: string, value: string, all: Map<string, string>): string {
  switch (file) {
    case 'memory.limit_in_bytes':
    case 'memory.memsw.limit_in_bytes':
    case 'memory.soft_limit_in_bytes':
    case 'memory.max':
    case 'memory.swap.max':
    case 'memory.high':
      return memoryMeaning(value);
    case 'memory.low':
      return value === '0' ? 'none' : memoryMeaning(value);
    case 'memory.oom_control':
      return /oom_kill_disable 1/.test(value) ? 'OOM killer disabled' : 'OOM killer enabled';
    case 'cpu.cfs_quota_us': {
      const period = Number(all.get('cpu.cfs_period_us'));
      if (value === '-1') return 'unlimited';
      return period > 0 ? `${+(Number(value) / period).toFixed(3)} CPUs` : '';
    }
    case 'cpu.max': {
      const [quota, period] = value.split(' ');
      if (quota === 'max') return 'unlimited';
      return Number(period) > 0 ? `${+(Number(quota) / Number(period)).toFixed(3)} CPUs` : '';
    }
    case 'pids.max':
      return value === 'max' ? 'unlimited' : `${value} processes`;
    default:
      return '';
  }
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await fsp.readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Controller -> path from /proc/<pid>/cgroup ("4:memory:/berth/x", "3:cpu,cpuacct:/...", "0::/..."). */
export function parseProcCgroup(text: string): { v1: Map<string, string>; unified?: string } {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') unified = m[3];
    else for (const c of m[2]!.split(',')) v1.set(c, m[3]!);
  }
  return { v1, unified };
}

/** The limits of the cgroup the process is in; `fallbackPath` (<cgroupParent>/<id>) when /proc says nothing. */
export async function readCgroupFacts(layout: CgroupLayout, procCgroup: string, fallbackPath: string): Promise<CgroupFacts> {
  const parsed = parseProcCgroup(procCgroup);
  const limits: CgroupLimit[] = [];
  const dirs: Record<string, string> = {};
  if (layout.version === 2) {
    const path = parsed.unified ?? fallbackPath;
    const dir = join(layout.root, path);
    dirs.unified = dir;
    const values = new Map<string, string>();
    for (const f of V2_FILES) {
      const v = await readTrimmed(join(dir, f));
      if (v !== undefined) values.set(f, v);
    }
    for (const [f, v] of values) limits.push({ Controller: f.split('.')[0]!, File: f, Value: v, Meaning: meaning(f, v, values) });
    return { Version: 2, Path: path, Dirs: dirs, Limits: limits };
  }
  const path = parsed.v1.get('memory') ?? parsed.v1.get('pids') ?? fallbackPath;
  for (const [controller, files] of V1_FILES) {
    const mount = layout.mounts[controller];
    if (!mount) continue;
    const dir = join(mount, parsed.v1.get(controller) ?? fallbackPath);
    dirs[controller] = dir;
    const values = new Map<string, string>();
    for (const f of files) {
      const v = await readTrimmed(join(dir, f));
      if (v !== undefined) values.set(f, v);
    }
    for (const [f, v] of values) limits.push({ Controller: controller, File: f, Value: v, Meaning: meaning(f, v, values) });
  }
  return { Version: 1, Path: path, Dirs: dirs, Limits: limits };
}
