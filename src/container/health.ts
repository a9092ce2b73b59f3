// Container health checks (Docker's HEALTHCHECK): while a container runs, its probe is
// exec'd at intervals and the results kept in State.Health, by dockerd's rules
// (daemon/health.go): failures inside the start period do not count until a probe has
// passed, Retries consecutive failures make the container unhealthy, one success makes it
// healthy, the last five results are kept, and a status change is an event.
import type { ContainerEventSink, ContainerRecord } from './record.ts';
import type { HealthConfig } from '../runtime/types.ts';
import { rfc3339Nano } from '../util/time.ts';
import { log } from '../util/log.ts';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  /** "starting" | "healthy" | "unhealthy" */
  Status: string;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** What runs a probe: ExecService.run fits. */
export interface HealthRunner {
  run(containerId: string, cmd: string[], opts: { timeoutMs: number }): Promise<{ exitCode: number; output: string; timedOut?: boolean }>;
}

export interface HealthMonitorDeps {
  exec: HealthRunner;
  /** Persists the record after a probe changed its State.Health. */
  save(rec: ContainerRecord): Promise<void>;
  events?: ContainerEventSink;
  /** Milliseconds since the epoch (tests pass a fake clock). */
  now?: () => number;
}

const NS_PER_MS = 1_000_000;
export const DEFAULT_INTERVAL_NS = 30_000 * NS_PER_MS;
export const DEFAULT_TIMEOUT_NS = 30_000 * NS_PER_MS;
export const DEFAULT_START_INTERVAL_NS = 5_000 * NS_PER_MS;
export const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;

/** The command a healthcheck runs, or undefined when there is no probe (none, NONE, unknown type). */
export function probeCommand(check: HealthConfig | null | undefined, shell?: string[] | null): string[] | undefined {
  const test = check?.Test;
  if (!test || test.length === 0) return undefined;
  switch (test[0]) {
    case 'CMD':
      return test.slice(1);
    case 'CMD-SHELL':
      return [...(shell && shell.length ? shell : ['/bin/sh', '-c']), ...test.slice(1)];
    case 'NONE':
      return undefined;
    default:
      log.warn(`Unknown healthcheck type '${test[0]}' (expected 'CMD')`);
      return undefined;
  }
}

/** Go's time.Duration.String() for the timeout message ("30s", "1.5s", "500ms", "1m0s"). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.trunc(ns));
  let out: string;
  if (u < 1e9) {
    // Below a second: one unit, with a fraction.
    const [unit, scale] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = fraction(u, scale) + unit;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    out = `${fraction(u, 1e9)}s`;
    if (h > 0 || m > 0) out = `${m}m${out}`;
    if (h > 0) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

function fraction(v: number, scale: number): string {
  const whole = Math.floor(v / scale);
  const rest = v - whole * scale;
  if (rest === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}

/** The Health a container with a probe starts with. */
function startingHealth(prev: HealthState | undefined): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] };
}

interface Watch {
  rec: ContainerRecord;
  cmd: string[];
  timer?: NodeJS.Timeout;
  stopped: boolean;
  /** When the run being watched started (ms); the start period counts from it. */
  startedAt: number;
}

export class HealthMonitor {
  private readonly d: HealthMonitorDeps;
  private readonly watches = new Map<string, Watch>();

  constructor(deps: HealthMonitorDeps) {
    this.d = deps;
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** A run of the container began (start, restart, or a daemon restart found it running):
   * the health resets to "starting" and probing begins. Nothing for a container without a probe. */
  start(rec: ContainerRecord): void {
    const cmd = probeCommand(rec.Config.Healthcheck, rec.Config.Shell);
    if (!cmd) return;
    this.stop(rec.Id);
    const state = rec.State;
    state.Health = startingHealth(state.Health);
    this.watch(rec, cmd);
  }

  /** Probing resumes without a reset (after unpause). */
  resume(rec: ContainerRecord): void {
    const cmd = probeCommand(rec.Config.Healthcheck, rec.Config.Shell);
    if (!cmd || this.watches.has(rec.Id)) return;
    const state = rec.State;
    state.Health ??= startingHealth(undefined);
    this.watch(rec, cmd);
  }

  /** The container stopped (or paused): probing ends, and as in dockerd the status reads
   * "unhealthy" from then on. The caller's next save of the record persists it. */
  stop(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    w.stopped = true;
    clearTimeout(w.timer);
    this.watches.delete(id);
    const state = w.rec.State;
    if (state.Health) state.Health = { ...state.Health, Status: 'unhealthy' };
  }

  /** Whether a container is being probed (tests, diagnostics). */
  watching(id: string): boolean {
    return this.watches.has(id);
  }

  private watch(rec: ContainerRecord, cmd: string[]): void {
    const started = Date.parse(rec.State.StartedAt);
    const w: Watch = { rec, cmd, stopped: false, startedAt: Number.isFinite(started) ? started : this.now() };
    this.watches.set(rec.Id, w);
    this.schedule(w);
  }

  private schedule(w: Watch): void {
    if (w.stopped) return;
    w.timer = setTimeout(() => void this.probe(w), this.intervalMs(w));
    w.timer.unref?.();
  }

  private intervalMs(w: Watch): number {
    const hc = w.rec.Config.Healthcheck ?? {};
    const interval = (hc.Interval || DEFAULT_INTERVAL_NS) / NS_PER_MS;
    const startPeriod = (hc.StartPeriod || 0) / NS_PER_MS;
    if (this.now() - w.startedAt >= startPeriod) return interval;
    if (w.rec.State.Health?.Status === 'starting') return (hc.StartInterval || DEFAULT_START_INTERVAL_NS) / NS_PER_MS;
    return interval;
  }

  private async probe(w: Watch): Promise<void> {
    const hc = w.rec.Config.Healthcheck ?? {};
    const timeoutNs = hc.Timeout || DEFAULT_TIMEOUT_NS;
    const startMs = this.now();
    const start = rfc3339Nano();
    let exitCode: number;
    let output: string;
    try {
      const r = await this.d.exec.run(w.rec.Id, w.cmd, { timeoutMs: timeoutNs / NS_PER_MS });
      exitCode = r.exitCode;
      output = r.output;
      if (r.timedOut) {
        exitCode = -1;
        output = `Health check exceeded timeout (${goDuration(timeoutNs)})${r.output ? `: ${r.output}` : ''}`;
      }
    } catch (err) {
      exitCode = -1;
      output = err instanceof Error ? err.message : String(err);
      log.warn(`Health check for container ${w.rec.Id} error: ${output}`);
    }
    if (w.stopped) return; // stopped while probing: the result no longer applies
    this.record(w, { Start: start, End: rfc3339Nano(), ExitCode: exitCode, Output: output }, startMs);
    await this.d.save(w.rec).catch((err) => log.warn('saving health state failed', { id: w.rec.Id, error: err }));
    this.schedule(w);
  }

  private record(w: Watch, entry: HealthLogEntry, startMs: number): void {
    const hc = w.rec.Config.Healthcheck ?? {};
    const retries = hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES;
    const state = w.rec.State;
    const prev = state.Health ?? startingHealth(undefined);
    const next: HealthState = { Status: prev.Status, FailingStreak: prev.FailingStreak, Log: [...prev.Log, entry].slice(-MAX_LOG_ENTRIES) };
    if (entry.ExitCode === 0) {
      next.FailingStreak = 0;
      next.Status = 'healthy';
    } else {
      const inStartPeriod = prev.Status === 'starting' && startMs - w.startedAt < (hc.StartPeriod || 0) / NS_PER_MS;
      if (!inStartPeriod) {
        next.FailingStreak++;
        if (next.FailingStreak >= retries) next.Status = 'unhealthy';
      }
    }
    state.Health = next;
    if (next.Status !== prev.Status) this.d.events?.(`health_status: ${next.Status}`, w.rec);
  }
}
