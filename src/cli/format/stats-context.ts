// docker stats' numbers and columns: the entry it derives from each stats JSON sample (CPU %
// from the sample's own precpu_stats, memory without the inactive file cache, block and
// network totals) and the row type its --format templates see.
import { MethodStruct, truncateID } from './contexts.ts';
import { HeaderContext } from './formatter.ts';
import { GO_NIL } from './gofmt.ts';
import { formatFloat } from './go-float.ts';
import { bytesSize, humanSizeWithPrecision } from './units.ts';

/** The parts of GET /containers/{id}/stats the CLI reads. */
export interface StatsJson {
  name?: string;
  id?: string;
  read?: string;
  preread?: string;
  num_procs?: number;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> | null; privateworkingset?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  pids_stats?: { current?: number };
  storage_stats?: { read_size_bytes?: number; write_size_bytes?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface StatsEntry {
  /** The name or id the user gave (or the short id when listing all). */
  Container: string;
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  IsInvalid: boolean;
}

export function emptyEntry(container: string): StatsEntry {
  return { Container: container, Name: '', ID: '', CPUPercentage: 0, Memory: 0, MemoryLimit: 0, MemoryPercentage: 0, NetworkRx: 0, NetworkTx: 0, BlockRead: 0, BlockWrite: 0, PidsCurrent: 0, IsInvalid: false };
}

export function cpuPercentUnix(v: StatsJson): number {
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0);
  let online = v.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = v.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

function cpuPercentWindows(v: StatsJson): number {
  const ns = v.read && v.preread ? (Date.parse(v.read) - Date.parse(v.preread)) * 1e6 : 0;
  const possible = Math.max(0, Math.floor(ns / 100)) * (v.num_procs ?? 0);
  const used = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  return possible > 0 ? (used / possible) * 100 : 0;
}

export function blockIO(v: StatsJson): [number, number] {
  let read = 0;
  let write = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = (e.op ?? '')[0];
    if (c === 'r' || c === 'R') read += e.value ?? 0;
    else if (c === 'w' || c === 'W') write += e.value ?? 0;
  }
  return [read, write];
}

/** Usage without the inactive page cache: total_inactive_file on cgroup v1, inactive_file on v2. */
export function memUsageNoCache(v: StatsJson): number {
  const usage = v.memory_stats?.usage ?? 0;
  const stats = v.memory_stats?.stats ?? {};
  if ('total_inactive_file' in stats && stats.total_inactive_file < usage) return usage - stats.total_inactive_file;
  const inactive = stats.inactive_file ?? 0;
  if (inactive < usage) return usage - inactive;
  return usage;
}

/** The entry docker computes from one sample (osType from the daemon's Server header). */
export function statsEntry(container: string, v: StatsJson, osType: string): StatsEntry {
  const e = emptyEntry(container);
  e.Name = v.name ?? '';
  e.ID = v.id ?? '';
  if (osType !== 'windows') {
    e.CPUPercentage = cpuPercentUnix(v);
    [e.BlockRead, e.BlockWrite] = blockIO(v);
    e.Memory = memUsageNoCache(v);
    e.MemoryLimit = v.memory_stats?.limit ?? 0;
    e.MemoryPercentage = e.MemoryLimit !== 0 ? (e.Memory / e.MemoryLimit) * 100 : 0;
    e.PidsCurrent = v.pids_stats?.current ?? 0;
  } else {
    e.CPUPercentage = cpuPercentWindows(v);
    e.BlockRead = v.storage_stats?.read_size_bytes ?? 0;
    e.BlockWrite = v.storage_stats?.write_size_bytes ?? 0;
    e.Memory = v.memory_stats?.privateworkingset ?? 0;
  }
  for (const n of Object.values(v.networks ?? {})) {
    e.NetworkRx += n.rx_bytes ?? 0;
    e.NetworkTx += n.tx_bytes ?? 0;
  }
  return e;
}

/** Zeroed numbers and "--" columns after an error (docker's SetErrorAndReset). */
export function invalidated(e: StatsEntry): StatsEntry {
  return { ...e, CPUPercentage: 0, Memory: 0, MemoryPercentage: 0, MemoryLimit: 0, NetworkRx: 0, NetworkTx: 0, BlockRead: 0, BlockWrite: 0, PidsCurrent: 0, IsInvalid: true };
}

export const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const WINDOWS_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.BlockIO}}';

export function statsFormat(source: string, osType: string): string {
  if (source === 'table') return osType === 'windows' ? WINDOWS_STATS_TABLE : DEFAULT_STATS_TABLE;
  return source;
}

export function statsHeader(osType: string): HeaderContext {
  return new HeaderContext({
    Container: 'CONTAINER',
    Name: 'NAME',
    ID: 'CONTAINER ID',
    CPUPerc: 'CPU %',
    MemUsage: osType === 'windows' ? 'PRIV WORKING SET' : 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
  });
}

function percentage(v: number): string {
  return formatFloat(v, 'f', 2) + '%';
}

const NO_VALUE = '--';

export class StatsContext extends MethodStruct {
  readonly goType = '*container.statsContext';
  private readonly s: StatsEntry;
  private readonly os: string;
  private readonly trunc: boolean;
  constructor(s: StatsEntry, os: string, trunc: boolean) {
    super();
    this.s = s;
    this.os = os;
    this.trunc = trunc;
  }
  protected override fields() {
    return { Header: GO_NIL };
  }
  protected methods() {
    const s = this.s;
    const invalid = s.IsInvalid;
    const win = this.os === 'windows';
    return {
      BlockIO: () => (invalid ? NO_VALUE : `${humanSizeWithPrecision(s.BlockRead, 3)} / ${humanSizeWithPrecision(s.BlockWrite, 3)}`),
      CPUPerc: () => (invalid ? NO_VALUE : percentage(s.CPUPercentage)),
      Container: () => s.Container,
      FullHeader: () => GO_NIL,
      ID: () => (this.trunc ? truncateID(s.ID) : s.ID),
      MemPerc: () => (invalid || win ? NO_VALUE : percentage(s.MemoryPercentage)),
      MemUsage: () => (invalid ? '-- / --' : win ? bytesSize(s.Memory) : `${bytesSize(s.Memory)} / ${bytesSize(s.MemoryLimit)}`),
      Name: () => (s.Name.length > 1 ? s.Name.slice(1) : NO_VALUE),
      NetIO: () => (invalid ? NO_VALUE : `${humanSizeWithPrecision(s.NetworkRx, 3)} / ${humanSizeWithPrecision(s.NetworkTx, 3)}`),
      PIDs: () => (invalid || win ? NO_VALUE : String(s.PidsCurrent)),
    };
  }
}
