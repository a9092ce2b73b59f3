// A container's cgroup on cgroup v1: one directory per controller. Reads what containerd's
// cgroup1 metrics hold and dockerd reports: cpuacct + cpu throttling, memory, blkio, pids.
import { CgroupNotFound, type BlkioEntry, type BlkioField, type CgroupStats, type CgroupV1Stats } from './types.ts';
import { dirExists, parseBlkio, parseKeyValues, parseU64, parseU64List, readOptional } from './files.ts';

/** The container's directory under each controller's mount (absent: not mounted). */
export interface V1Dirs {
  cpu?: string;
  cpuacct?: string;
  memory?: string;
  blkio?: string;
  pids?: string;
}

/** USER_HZ: cpuacct.stat counts clock ticks. Linux fixes it at 100 for user space. */
const CLOCK_TICKS = 100n;
const NS_PER_SEC = 1_000_000_000n;

/** CFQ/BFQ tables (kernels with a proportional scheduler), file name -> Docker key. */
const CFQ_FILES: [string, BlkioField][] = [
  ['blkio.sectors_recursive', 'sectors_recursive'],
  ['blkio.io_service_bytes_recursive', 'io_service_bytes_recursive'],
  ['blkio.io_serviced_recursive', 'io_serviced_recursive'],
  ['blkio.io_queued_recursive', 'io_queue_recursive'],
  ['blkio.io_service_time_recursive', 'io_service_time_recursive'],
  ['blkio.io_wait_time_recursive', 'io_wait_time_recursive'],
  ['blkio.io_merged_recursive', 'io_merged_recursive'],
  ['blkio.time_recursive', 'io_time_recursive'],
];

export class CgroupV1Reader implements CgroupStats {
  private readonly dirs: V1Dirs;

  constructor(dirs: V1Dirs) {
    this.dirs = dirs;
  }

  async read(): Promise<CgroupV1Stats> {
    // runc makes the container's directory in every controller: one missing means the
    // container is gone (or never ran), not that a controller is absent.
    const probe = this.dirs.memory ?? this.dirs.pids ?? this.dirs.cpuacct ?? this.dirs.cpu ?? this.dirs.blkio;
    if (!probe || !(await dirExists(probe))) throw new CgroupNotFound(probe ?? '(no controllers)');
    const [cpu, memory, blkio, pids] = await Promise.all([this.cpu(), this.memory(), this.blkio(), this.pids()]);
    const out: CgroupV1Stats = { version: 1 };
    if (cpu) out.cpu = cpu;
    if (memory) out.memory = memory;
    if (blkio) out.blkio = blkio;
    if (pids) out.pids = pids;
    return out;
  }

  private async cpu(): Promise<CgroupV1Stats['cpu']> {
    const acct = this.dirs.cpuacct;
    const [usage, stat, percpu, throttle] = await Promise.all([
      acct ? readOptional(acct, 'cpuacct.usage') : undefined,
      acct ? readOptional(acct, 'cpuacct.stat') : undefined,
      acct ? readOptional(acct, 'cpuacct.usage_percpu') : undefined,
      this.dirs.cpu ? readOptional(this.dirs.cpu, 'cpu.stat') : undefined,
    ]);
    if (usage === undefined && throttle === undefined) return undefined;
    const ticks = parseKeyValues(stat ?? '');
    const t = parseKeyValues(throttle ?? '');
    return {
      usage: {
        total: parseU64(usage ?? '0', 0n),
        user: ((ticks.get('user') ?? 0n) * NS_PER_SEC) / CLOCK_TICKS,
        system: ((ticks.get('system') ?? 0n) * NS_PER_SEC) / CLOCK_TICKS,
        percpu: percpu === undefined ? undefined : parseU64List(percpu),
      },
      throttling: {
        periods: t.get('nr_periods') ?? 0n,
        throttledPeriods: t.get('nr_throttled') ?? 0n,
        throttledTime: t.get('throttled_time') ?? 0n,
      },
    };
  }

  private async memory(): Promise<CgroupV1Stats['memory']> {
    const dir = this.dirs.memory;
    if (!dir) return undefined;
    const [stat, usage, max, failcnt, limit] = await Promise.all(
      ['memory.stat', 'memory.usage_in_bytes', 'memory.max_usage_in_bytes', 'memory.failcnt', 'memory.limit_in_bytes'].map((f) => readOptional(dir, f)),
    );
    if (stat === undefined) return undefined;
    return {
      stat: parseKeyValues(stat),
      usage: parseU64(usage ?? '0', 0n),
      maxUsage: parseU64(max ?? '0', 0n),
      failcnt: parseU64(failcnt ?? '0', 0n),
      limit: parseU64(limit ?? '0', 0n),
    };
  }

  private async blkio(): Promise<CgroupV1Stats['blkio']> {
    const dir = this.dirs.blkio;
    if (!dir) return undefined;
    // As containerd: the CFQ tables when the scheduler keeps them and they have rows,
    // else the throttle layer's two tables, which count I/O under any scheduler.
    if ((await readOptional(dir, 'blkio.io_serviced_recursive')) !== undefined) {
      const tables = await Promise.all(CFQ_FILES.map(async ([file]) => parseBlkio((await readOptional(dir, file)) ?? '')));
      if (tables.some((t) => t.length > 0)) {
        const out: Partial<Record<BlkioField, BlkioEntry[]>> = {};
        CFQ_FILES.forEach(([, key], i) => (out[key] = tables[i]!));
        return out;
      }
    }
    const [serviced, bytes] = await Promise.all([throttleTable(dir, 'io_serviced'), throttleTable(dir, 'io_service_bytes')]);
    if (serviced === undefined && bytes === undefined) return undefined;
    return { io_serviced_recursive: serviced ?? [], io_service_bytes_recursive: bytes ?? [] };
  }

  private async pids(): Promise<CgroupV1Stats['pids']> {
    const dir = this.dirs.pids;
    if (!dir) return undefined;
    const [current, max] = await Promise.all([readOptional(dir, 'pids.current'), readOptional(dir, 'pids.max')]);
    if (current === undefined) return undefined;
    return { current: parseU64(current, 0n), limit: parseU64(max ?? 'max', 0n) };
  }
}

/** The throttle table of the whole subtree when the kernel has it (containers may nest cgroups). */
async function throttleTable(dir: string, name: string): Promise<BlkioEntry[] | undefined> {
  const text = (await readOptional(dir, `blkio.throttle.${name}_recursive`)) ?? (await readOptional(dir, `blkio.throttle.${name}`));
  return text === undefined ? undefined : parseBlkio(text);
}

