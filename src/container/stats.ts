// GET /containers/{id}/stats: Docker's StatsJSON from the container's cgroup, /proc/stat
// (the host's CPU time, against which clients compute CPU %) and the container's network
// namespace. The sampling follows dockerd: a sample per second; stream=false waits for a
// second sample so that precpu_stats is filled; one-shot takes one sample; a container
// that is not running has zeroed stats (name and id only).
import { promises as fsp } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRecord } from './record.ts';
import { detectCgroupLayout, openCgroupStats, type CgroupLayout } from '../cgroup/layout.ts';
import { BLKIO_FIELDS, CgroupNotFound, type BlkioEntry, type BlkioField, type CgroupV1Stats, type CgroupV2Stats, type RawCgroupStats } from '../cgroup/types.ts';
import { goJson } from '../events/json.ts';
import { badParameter } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { rfc3339Nano, ZERO_TIME } from '../util/time.ts';
import { containerCgroupPath } from '../runtime/resources.ts';

export interface CpuStatsJson {
  cpu_usage: { total_usage: bigint; percpu_usage?: bigint[]; usage_in_kernelmode: bigint; usage_in_usermode: bigint };
  system_cpu_usage?: bigint;
  online_cpus?: number;
  throttling_data: { periods: bigint; throttled_periods: bigint; throttled_time: bigint };
}

export interface MemoryStatsJson {
  usage?: bigint;
  max_usage?: bigint;
  stats?: Record<string, bigint>;
  failcnt?: bigint;
  limit?: bigint;
}

export interface BlkioEntryJson {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export interface NetworkStatsJson {
  rx_bytes: bigint;
  rx_packets: bigint;
  rx_errors: bigint;
  rx_dropped: bigint;
  tx_bytes: bigint;
  tx_packets: bigint;
  tx_errors: bigint;
  tx_dropped: bigint;
}

/** Docker's StatsResponse; keys in the order dockerd writes them, Go's omitempty applied. */
export interface StatsJson {
  name?: string;
  id?: string;
  read: string;
  preread: string;
  pids_stats: { current?: bigint; limit?: bigint };
  blkio_stats: Record<BlkioField, BlkioEntryJson[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsJson;
  precpu_stats: CpuStatsJson;
  memory_stats: MemoryStatsJson;
  networks?: Record<string, NetworkStatsJson>;
}

function zeroCpu(): CpuStatsJson {
  return {
    cpu_usage: { total_usage: 0n, usage_in_kernelmode: 0n, usage_in_usermode: 0n },
    throttling_data: { periods: 0n, throttled_periods: 0n, throttled_time: 0n },
  };
}

function blkioTables(fill: (f: BlkioField) => BlkioEntryJson[] | null): Record<BlkioField, BlkioEntryJson[] | null> {
  const out = {} as Record<BlkioField, BlkioEntryJson[] | null>;
  for (const f of BLKIO_FIELDS) out[f] = fill(f);
  return out;
}

/** What dockerd sends for a container it has no stats of: zero values, name and id. */
export function emptyStats(name: string, id: string): StatsJson {
  return {
    ...(name ? { name } : {}),
    ...(id ? { id } : {}),
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: blkioTables(() => null),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
  };
}

// memory.stat keys dockerd reports (each present, 0 when the kernel lacks it).
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit',
  'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty',
  'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault', 'total_inactive_anon',
  'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

/** Go's encoding of a map: keys sorted. */
function statMap(keys: string[], stat: Map<string, bigint>): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const k of [...keys].sort()) out[k] = stat.get(k) ?? 0n;
  return out;
}

function memoryJson(m: { usage: bigint; maxUsage?: bigint; stats: Record<string, bigint>; failcnt: bigint; limit: bigint }, machineMemory: bigint): MemoryStatsJson {
  // Without a limit the cgroup reports a huge number: dockerd shows the host's memory.
  const limit = machineMemory > 0n && m.limit > machineMemory ? machineMemory : m.limit;
  const out: MemoryStatsJson = {};
  if (m.usage) out.usage = m.usage;
  if (m.maxUsage) out.max_usage = m.maxUsage;
  out.stats = m.stats;
  if (m.failcnt) out.failcnt = m.failcnt;
  if (limit) out.limit = limit;
  return out;
}

function pidsJson(p: { current: bigint; limit: bigint } | undefined): StatsJson['pids_stats'] {
  const out: StatsJson['pids_stats'] = {};
  if (p?.current) out.current = p.current;
  if (p?.limit) out.limit = p.limit;
  return out;
}

function cpuJson(c: { usage: { total: bigint; user: bigint; system: bigint; percpu?: bigint[] }; throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint } }): CpuStatsJson {
  return {
    cpu_usage: {
      total_usage: c.usage.total,
      ...(c.usage.percpu?.length ? { percpu_usage: c.usage.percpu } : {}),
      usage_in_kernelmode: c.usage.system,
      usage_in_usermode: c.usage.user,
    },
    throttling_data: { periods: c.throttling.periods, throttled_periods: c.throttling.throttledPeriods, throttled_time: c.throttling.throttledTime },
  };
}

type CgroupPart = Pick<StatsJson, 'pids_stats' | 'blkio_stats' | 'cpu_stats' | 'memory_stats'>;

function fromV1(s: CgroupV1Stats, machineMemory: bigint): CgroupPart {
  const copy = (rows: BlkioEntry[] | undefined): BlkioEntryJson[] => (rows ?? []).map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }));
  return {
    pids_stats: pidsJson(s.pids),
    // dockerd copies every table of a read blkio controller: the unread ones are [] too.
    blkio_stats: blkioTables((f) => (s.blkio ? copy(s.blkio[f]) : null)),
    cpu_stats: s.cpu ? cpuJson(s.cpu) : zeroCpu(),
    memory_stats: s.memory
      ? memoryJson({ usage: s.memory.usage, maxUsage: s.memory.maxUsage, stats: statMap(V1_MEMORY_KEYS, s.memory.stat), failcnt: s.memory.failcnt, limit: s.memory.limit }, machineMemory)
      : {},
  };
}

function fromV2(s: CgroupV2Stats, machineMemory: bigint): CgroupPart {
  const bytes: BlkioEntryJson[] = [];
  for (const e of s.io) {
    bytes.push({ major: e.major, minor: e.minor, op: 'read', value: e.rbytes }, { major: e.major, minor: e.minor, op: 'write', value: e.wbytes });
  }
  return {
    pids_stats: pidsJson(s.pids),
    blkio_stats: blkioTables((f) => (f === 'io_service_bytes_recursive' && bytes.length ? bytes : null)),
    cpu_stats: cpuJson(s.cpu),
    // v2 has no max usage in dockerd's view; failcnt is the oom count of memory.events.
    memory_stats: memoryJson({ usage: s.memory.usage, stats: statMap(V2_MEMORY_KEYS, s.memory.stat), failcnt: s.memory.events?.get('oom') ?? 0n, limit: s.memory.limit }, machineMemory),
  };
}

/** The cgroup part of the stats, as dockerd maps containerd's v1 or v2 metrics. */
export function statsFromCgroup(raw: RawCgroupStats, machineMemory: bigint): CgroupPart {
  return raw.version === 1 ? fromV1(raw, machineMemory) : fromV2(raw, machineMemory);
}

/** USER_HZ, in which /proc/stat counts. */
const CLOCK_TICKS = 100n;

/** The host's CPU time in ns (user..softirq of the "cpu" line) and its CPU count, as dockerd reads /proc/stat. */
export function parseProcStat(text: string): { systemUsage: bigint; onlineCpus: number } {
  let systemUsage = 0n;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (line.length < 4 || !line.startsWith('cpu')) break;
    if (line[3] === ' ') {
      const parts = line.trim().split(/\s+/);
      if (parts.length < 8) throw new Error('invalid number of cpu fields');
      let ticks = 0n;
      for (const p of parts.slice(1, 8)) ticks += BigInt(p);
      systemUsage = (ticks * 1_000_000_000n) / CLOCK_TICKS;
    }
    if (line[3]! >= '0' && line[3]! <= '9') onlineCpus++;
  }
  return { systemUsage, onlineCpus };
}

/** /proc/<pid>/net/dev -> interface counters, loopback left out (dockerd reports the
 * interfaces networking gave the container, never lo). */
export function parseNetDev(text: string): Record<string, NetworkStatsJson> {
  const rows: [string, NetworkStatsJson][] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map((s) => (/^\d+$/.test(s) ? BigInt(s) : 0n));
    if (name === 'lo' || f.length < 16) continue;
    rows.push([name, {
      rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!,
      tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]!,
    }]);
  }
  rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(rows);
}

/** One stats object as the JSON line dockerd writes. */
export function encodeStats(s: StatsJson): string {
  return goJson(s) + '\n';
}

export interface StatsOptions {
  /** One object per second until the client goes or the container is removed (default true). */
  stream: boolean;
  /** With stream=false: one sample, without waiting for a second one (precpu_stats empty). */
  oneShot: boolean;
}

export interface StatsServiceDeps {
  store: { get(ref: string): ContainerRecord; find(ref: string): ContainerRecord | undefined };
  /** The cgroup parent of every container ("/berth"): containers live at <parent>/<id>. */
  cgroupParent: string;
  /** Where the controllers are mounted; detected from /proc/self/mountinfo when absent. */
  layout?: CgroupLayout;
  /** For tests: another /proc. */
  procRoot?: string;
  /** The host's memory, the limit shown for containers without one (default: os.totalmem()). */
  machineMemory?: number;
  /** The sampling interval (dockerd: 1 s). */
  intervalMs?: number;
}

/** Whether dockerd collects stats for a container: running or paused, not restarting. */
function hasStats(rec: ContainerRecord): boolean {
  return rec.State.Status === 'running' || rec.State.Status === 'paused';
}

export class ContainerStatsService {
  private readonly d: StatsServiceDeps;
  private layout: Promise<CgroupLayout> | undefined;

  constructor(d: StatsServiceDeps) {
    this.d = d;
    if (d.layout) this.layout = Promise.resolve(d.layout);
  }

  private cgroupLayout(): Promise<CgroupLayout> {
    this.layout ??= detectCgroupLayout().catch((err) => {
      this.layout = undefined;
      throw err;
    });
    return this.layout;
  }

  private get procRoot(): string {
    return this.d.procRoot ?? '/proc';
  }

  /** One sample of a container's stats (precpu_stats and preread not yet set). */
  async sample(rec: ContainerRecord): Promise<StatsJson> {
    if (!hasStats(rec)) return emptyStats(rec.Name, rec.Id);
    try {
      const cgroup = openCgroupStats(await this.cgroupLayout(), containerCgroupPath(this.d.cgroupParent, rec.HostConfig, rec.Id));
      const read = rfc3339Nano();
      // The host's CPU time is read along with the container's: clients divide their deltas.
      const [raw, procStat, networks] = await Promise.all([
        cgroup.read(),
        fsp.readFile(join(this.procRoot, 'stat'), 'utf8'),
        this.networks(rec),
      ]);
      const part = statsFromCgroup(raw, BigInt(this.d.machineMemory ?? totalmem()));
      const { systemUsage, onlineCpus } = parseProcStat(procStat);
      const cpu = part.cpu_stats;
      const cpuStats: CpuStatsJson = {
        cpu_usage: cpu.cpu_usage,
        ...(systemUsage ? { system_cpu_usage: systemUsage } : {}),
        ...(onlineCpus ? { online_cpus: onlineCpus } : {}),
        throttling_data: cpu.throttling_data,
      };
      const out: StatsJson = {
        name: rec.Name,
        id: rec.Id,
        read,
        preread: ZERO_TIME,
        pids_stats: part.pids_stats,
        blkio_stats: part.blkio_stats,
        num_procs: 0, // Windows only
        storage_stats: {},
        cpu_stats: cpuStats,
        precpu_stats: zeroCpu(),
        memory_stats: part.memory_stats,
      };
      if (networks && Object.keys(networks).length) out.networks = networks;
      return out;
    } catch (err) {
      // The container stopped under the reader, or a file was unreadable: dockerd's
      // collector then publishes the zeroed stats.
      if (!(err instanceof CgroupNotFound)) log.warn('collecting stats failed', { id: rec.Id, error: err });
      return emptyStats(rec.Name, rec.Id);
    }
  }

  /** Counters of the container's interfaces; none with the host's network or networking disabled. */
  private async networks(rec: ContainerRecord): Promise<Record<string, NetworkStatsJson> | undefined> {
    if (rec.Config.NetworkDisabled || rec.HostConfig.NetworkMode === 'host' || !rec.State.Pid) return undefined;
    const text = await fsp.readFile(join(this.procRoot, String(rec.State.Pid), 'net', 'dev'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseNetDev(text);
  }

  /** Looks the container up and checks the options: errors here are the request's status. */
  open(ref: string, opts: StatsOptions): ContainerRecord {
    const rec = this.d.store.get(ref);
    if (opts.stream && opts.oneShot) throw badParameter('cannot have stream=true and one-shot=true');
    return rec;
  }

  /** Writes the stats lines for `rec` as dockerd does for these options. */
  async run(rec: ContainerRecord, opts: StatsOptions, write: (line: string) => void, signal: AbortSignal): Promise<void> {
    if (!opts.stream && !hasStats(rec)) return write(encodeStats(emptyStats(rec.Name, rec.Id)));
    if (opts.oneShot) return write(encodeStats(await this.sample(rec)));
    let pre: { cpu: CpuStatsJson; read: string } | undefined;
    let primed = opts.stream;
    const interval = this.d.intervalMs ?? 1000;
    while (!signal.aborted) {
      // A removed container ends the stream; a stopped one streams zeroed stats.
      const current = this.d.store.find(rec.Id);
      if (!current) return;
      const s = await this.sample(current);
      if (pre) {
        s.precpu_stats = pre.cpu;
        s.preread = pre.read;
      }
      pre = { cpu: s.cpu_stats, read: s.read };
      if (primed) {
        if (signal.aborted) return;
        write(encodeStats(s));
        if (!opts.stream) return;
      }
      primed = true;
      try {
        await sleep(interval, undefined, { signal });
      } catch {
        return;
      }
    }
  }
}
