// What a container's cgroup says about its resource use, as read from the cgroup files.
// Two shapes because v1 and v2 expose different facts (v1: per-cpu usage, max usage, the
// CFQ block I/O tables; v2: io.stat, memory.events); the stats view maps each as dockerd does.
// Counters are bigint: they are uint64 in the kernel and some ("max" limits) exceed 2^53.

export interface CpuUsage {
  /** Nanoseconds of CPU time, all, in user mode and in kernel mode. */
  total: bigint;
  user: bigint;
  system: bigint;
  /** Nanoseconds per CPU (v1 only). */
  percpu?: bigint[];
}

export interface CpuThrottling {
  periods: bigint;
  throttledPeriods: bigint;
  /** Nanoseconds. */
  throttledTime: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

/** Docker's blkio_stats keys, each a table of one cgroup v1 blkio file. */
export const BLKIO_FIELDS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
] as const;
export type BlkioField = (typeof BLKIO_FIELDS)[number];

export interface CgroupV1Stats {
  version: 1;
  cpu?: { usage: CpuUsage; throttling: CpuThrottling };
  memory?: { usage: bigint; maxUsage: bigint; limit: bigint; failcnt: bigint; stat: Map<string, bigint> };
  /** Missing tables were not read (the throttle fallback fills only two). */
  blkio?: Partial<Record<BlkioField, BlkioEntry[]>>;
  pids?: { current: bigint; limit: bigint };
}

export interface IoStatEntry {
  major: bigint;
  minor: bigint;
  rbytes: bigint;
  wbytes: bigint;
  rios: bigint;
  wios: bigint;
}

export interface CgroupV2Stats {
  version: 2;
  cpu: { usage: CpuUsage; throttling: CpuThrottling };
  memory: { usage: bigint; limit: bigint; peak: bigint; stat: Map<string, bigint>; events?: Map<string, bigint> };
  io: IoStatEntry[];
  pids: { current: bigint; limit: bigint };
}

export type RawCgroupStats = CgroupV1Stats | CgroupV2Stats;

/** One container's cgroup, readable on demand. */
export interface CgroupStats {
  /** Rejects with CgroupNotFound when the cgroup is gone (the container stopped). */
  read(): Promise<RawCgroupStats>;
}

export class CgroupNotFound extends Error {
  constructor(path: string) {
    super(`cgroup not found: ${path}`);
  }
}
