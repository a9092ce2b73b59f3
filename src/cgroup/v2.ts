// A container's cgroup on cgroup v2: one directory with every controller's files. Reads
// what containerd's cgroup2 metrics hold and dockerd reports. Missing files read as 0, as
// containerd's do (a controller not enabled for the group has none).
import { CgroupNotFound, type CgroupStats, type CgroupV2Stats } from './types.ts';
import { dirExists, MAX_UINT64, parseIoStat, parseKeyValues, parseU64, readOptional } from './files.ts';

export class CgroupV2Reader implements CgroupStats {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async read(): Promise<CgroupV2Stats> {
    if (!(await dirExists(this.dir))) throw new CgroupNotFound(this.dir);
    const names = ['cpu.stat', 'memory.stat', 'memory.events', 'memory.current', 'memory.max', 'memory.peak', 'pids.current', 'pids.max', 'io.stat'];
    const [cpuStat, memStat, memEvents, current, max, peak, pidsCurrent, pidsMax, io] = await Promise.all(names.map((n) => readOptional(this.dir, n)));
    const cpu = parseKeyValues(cpuStat ?? '');
    const usec = (k: string) => (cpu.get(k) ?? 0n) * 1000n;
    // "max" means no limit: containerd reports it as the largest uint64.
    const u64 = (text: string | undefined) => (text === undefined ? 0n : parseU64(text, MAX_UINT64));
    return {
      version: 2,
      cpu: {
        usage: { total: usec('usage_usec'), user: usec('user_usec'), system: usec('system_usec') },
        throttling: { periods: cpu.get('nr_periods') ?? 0n, throttledPeriods: cpu.get('nr_throttled') ?? 0n, throttledTime: usec('throttled_usec') },
      },
      memory: {
        usage: u64(current),
        limit: u64(max),
        peak: u64(peak),
        stat: parseKeyValues(memStat ?? ''),
        events: memEvents === undefined ? undefined : parseKeyValues(memEvents),
      },
      io: parseIoStat(io ?? ''),
      pids: { current: u64(pidsCurrent), limit: u64(pidsMax) },
    };
  }
}
