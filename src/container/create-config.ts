// Turns a create (or update) request into the stored configuration: the image's defaults
// merged in the way dockerd merges them, Docker's defaults filled in, bad values refused
// with Docker's messages.
import type { ContainerConfig, HealthConfig, HostConfig, Resources, RestartPolicy } from '../runtime/types.ts';
import { badParameter, conflict } from '../util/errors.ts';
import { cpusetAvailable, hostCgroupSupport, type CgroupSupport } from '../runtime/resources.ts';
import { isNonePolicy, validateRestartPolicy } from './restart-policy.ts';

/** The parts of an image config a container inherits. */
export interface ImageDefaults {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: HealthConfig | null;
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
}

const envKey = (e: string) => e.split('=', 1)[0];

/** The API accepts a bare string where a list of strings is expected (strslice). */
function strSlice(v: string[] | string | null | undefined): string[] | null | undefined {
  return typeof v === 'string' ? [v] : v;
}

export function mergeImageDefaults(user: ContainerConfig, image: ImageDefaults): ContainerConfig & { Cmd?: string[] | null; Entrypoint?: string[] | null } {
  const c = { ...user, Cmd: strSlice(user.Cmd), Entrypoint: strSlice(user.Entrypoint) };
  if (!c.User) c.User = image.User ?? '';
  if (!c.WorkingDir) c.WorkingDir = image.WorkingDir ?? '';
  if (!c.StopSignal && image.StopSignal) c.StopSignal = image.StopSignal;
  c.Healthcheck = mergeHealthcheck(c.Healthcheck, image.Healthcheck);
  const env = [...(c.Env ?? [])];
  const userKeys = new Set(env.map(envKey));
  for (const e of image.Env ?? []) if (!userKeys.has(envKey(e))) env.push(e);
  c.Env = env;
  c.Labels = { ...(image.Labels ?? {}), ...(c.Labels ?? {}) };
  if (image.ExposedPorts || c.ExposedPorts) c.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...(c.ExposedPorts ?? {}) };
  if (image.Volumes || c.Volumes) c.Volumes = { ...(image.Volumes ?? {}), ...(c.Volumes ?? {}) };
  if (!c.Entrypoint || c.Entrypoint.length === 0) {
    if (!c.Cmd || c.Cmd.length === 0) c.Cmd = image.Cmd ?? null;
    if (!c.Entrypoint) c.Entrypoint = image.Entrypoint ?? null;
  }
  // `--entrypoint ""` arrives as [""]: it clears the image's entrypoint.
  if (c.Entrypoint && c.Entrypoint.length === 1 && c.Entrypoint[0] === '') c.Entrypoint = null;
  if (c.OnBuild === undefined) c.OnBuild = null;
  return c;
}

/** dockerd's merge: the image's check when none is given, else the given one with its unset
 * fields (test, intervals, retries) taken from the image's. */
function mergeHealthcheck(mine: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | null | undefined {
  if (!mine) return image ?? mine;
  if (!image) return mine;
  const hc: HealthConfig = { ...mine };
  if (!hc.Test || hc.Test.length === 0) hc.Test = image.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!hc[k] && image[k] !== undefined) hc[k] = image[k];
  return hc;
}

export function commandOf(c: { Cmd?: string[] | null; Entrypoint?: string[] | null }): { path: string; args: string[] } {
  const all = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (all.length === 0) throw badParameter('no command specified');
  return { path: all[0], args: all.slice(1) };
}

const DEFAULT_SHM = 64 * 1024 * 1024;

export function normalizeHostConfig(h: HostConfig | undefined): HostConfig {
  const hc: HostConfig = { ...(h ?? {}) } as HostConfig;
  if (!hc.NetworkMode || hc.NetworkMode === 'default') hc.NetworkMode = 'bridge';
  if (!hc.ShmSize) hc.ShmSize = DEFAULT_SHM;
  else if (hc.ShmSize < 0) throw badParameter('SHM size can not be less than 0');
  // Docker checks AutoRemove before the policy itself.
  if (hc.AutoRemove && !isNonePolicy(hc.RestartPolicy)) {
    throw badParameter("can't create 'AutoRemove' container with restart policy");
  }
  validateRestartPolicy(hc.RestartPolicy);
  if (!hc.RestartPolicy) hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
  else if (!hc.RestartPolicy.Name) hc.RestartPolicy = { ...hc.RestartPolicy, Name: 'no' };
  return hc;
}

/** Docker's smallest memory limit and reservation. */
const MIN_MEMORY = 6 * 1024 * 1024;

export interface ResourceCheckOptions {
  /** An update validates a partial set: a swap limit may come without a memory limit. */
  update: boolean;
  /** Whether the kernel can limit swap; when not, a swap limit is dropped with a warning. */
  swapLimit: boolean;
  /** CPUs the daemon may use (the NanoCpus bound). */
  cpus: number;
  /** What the cgroups can limit; this host's when not given. */
  support?: CgroupSupport;
}

/**
 * Docker's checks of resource fields at create and update (verifyPlatformContainerResources):
 * its messages for refused values, and its warnings. May adjust `r` as Docker does.
 */
export function checkResources(r: Resources, o: ResourceCheckOptions): string[] {
  const sup = o.support ?? hostCgroupSupport();
  const warnings: string[] = [];
  if (r.MemorySwappiness === -1) r.MemorySwappiness = null;
  const memory = r.Memory ?? 0;
  const swap = r.MemorySwap ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw badParameter('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap !== -1 && !o.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    r.MemorySwap = -1;
  }
  if (memory > 0 && (r.MemorySwap ?? 0) > 0 && r.MemorySwap! < memory) {
    throw badParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0 && !o.update) {
    throw badParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.MemorySwappiness != null && !sup.swappiness) {
    warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    r.MemorySwappiness = null;
  }
  if (r.MemorySwappiness != null && (r.MemorySwappiness < 0 || r.MemorySwappiness > 100)) {
    throw badParameter(`Invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
  }
  const reservation = r.MemoryReservation ?? 0;
  if (reservation > 0 && reservation < MIN_MEMORY) throw badParameter('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    throw badParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.OomKillDisable != null && !sup.oomKillDisable) {
    // Docker warns only when the killer was to be disabled: "off" is what it gets anyway.
    if (r.OomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = null;
  }
  if (r.OomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (r.PidsLimit != null && !sup.pids) {
    if (r.PidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    r.PidsLimit = null;
  }
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw badParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw badParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && !sup.cfs) throw badParameter('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  if (nano !== 0 && (nano < 0 || nano > o.cpus * 1e9)) {
    throw badParameter(`range of CPUs is from 0.01 to ${o.cpus}.00, as there are only ${o.cpus} CPUs available`);
  }
  if ((r.CpuShares ?? 0) > 0 && !sup.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    r.CpuShares = 0;
  }
  if (((r.CpuPeriod ?? 0) !== 0 || (r.CpuQuota ?? 0) !== 0) && !sup.cfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    r.CpuPeriod = 0;
    r.CpuQuota = 0;
  }
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    throw badParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw badParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if ((r.CpusetCpus || r.CpusetMems) && !sup.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    r.CpusetCpus = '';
    r.CpusetMems = '';
  }
  checkCpuset(r.CpusetCpus, 'cpus', sup.cpus);
  checkCpuset(r.CpusetMems, 'mems', sup.mems);
  if ((r.BlkioWeight ?? 0) > 0 && !sup.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw badParameter('Range of blkio weight is from 10 to 1000');
  const devices = [
    ['BlkioWeightDevice', sup.blkioWeightDevice, 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.'],
    ['BlkioDeviceReadBps', sup.readBps, 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', sup.writeBps, 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', sup.readIOps, 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', sup.writeIOps, 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ] as const;
  for (const [key, supported, text] of devices) {
    if ((r[key]?.length ?? 0) > 0 && !supported) {
      warnings.push(text);
      r[key] = [];
    }
  }
  // Checked with the resources at create, as dockerd does (an update cannot change it).
  const oomScoreAdj = (r as HostConfig).OomScoreAdj ?? 0;
  if (oomScoreAdj < -1000 || oomScoreAdj > 1000) throw badParameter(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  return warnings;
}

/** A cpuset list ("0-2,4") must parse and name only CPUs (memory nodes) the host has. */
function checkCpuset(list: string | undefined, what: 'cpus' | 'mems', available: string): void {
  if (!list) return;
  const ok = cpusetAvailable(list, available);
  if (ok === undefined) throw badParameter(`Invalid value ${list} for cpuset ${what}: invalid format: ${list}`);
  if (!ok) {
    const noun = what === 'cpus' ? 'CPUs' : 'memory nodes';
    throw badParameter(`Requested ${noun} are not available - requested ${list}, available: ${available}`);
  }
}

/** Docker's create-time defaults for resources: swap is twice the memory limit. */
export function adaptResources(r: Resources): void {
  if ((r.Memory ?? 0) > 0 && (r.MemorySwap ?? 0) === 0) r.MemorySwap = r.Memory! * 2;
}

/** The body of POST /containers/{id}/update: resources and a restart policy. */
export interface UpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy | null;
}

/**
 * The container's resources after an update, as dockerd merges them (UpdateContainer):
 * only fields given (non-zero) change; NanoCpus and a CFS period/quota exclude each other
 * across updates. Throws Docker's 409 texts, without the "Cannot update container" prefix.
 */
export function mergeResourceUpdate(current: HostConfig, u: Resources): HostConfig {
  const next: HostConfig = { ...current };
  if ((u.NanoCpus ?? 0) > 0 && (current.CpuPeriod ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if ((u.NanoCpus ?? 0) > 0 && (current.CpuQuota ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((u.CpuPeriod ?? 0) > 0 && (current.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if ((u.CpuQuota ?? 0) > 0 && (current.NanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const numeric = ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'MemoryReservation', 'CpuRealtimePeriod', 'CpuRealtimeRuntime'] as const;
  for (const k of numeric) if ((u[k] ?? 0) !== 0) next[k] = u[k];
  if (u.CpusetCpus) next.CpusetCpus = u.CpusetCpus;
  if (u.CpusetMems) next.CpusetMems = u.CpusetMems;
  if ((u.Memory ?? 0) !== 0) {
    // A memory limit above the swap limit already set needs a new swap limit too.
    if (u.Memory! > (current.MemorySwap ?? 0) && (u.MemorySwap ?? 0) === 0) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = u.Memory;
  }
  if ((u.MemorySwap ?? 0) !== 0) next.MemorySwap = u.MemorySwap;
  if (u.PidsLimit != null) next.PidsLimit = u.PidsLimit;
  return next;
}
