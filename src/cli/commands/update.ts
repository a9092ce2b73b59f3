// berth update: POST /containers/{id}/update with docker's UpdateConfig (the resource fields,
// then RestartPolicy) for each container in turn; prints each name updated, then the
// daemon's warnings, and fails with the errors joined.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import { CustomFlag, IntFlag, type FlagSet, type StringFlag } from '../flags.ts';
import { parseCPUs, parseMemSwap, parseRestartPolicy } from '../opts/misc.ts';
import { ramInBytes } from '../format/units.ts';

interface UpdateFlags {
  blkioWeight: IntFlag;
  cpuPeriod: IntFlag;
  cpuQuota: IntFlag;
  cpuRtPeriod: IntFlag;
  cpuRtRuntime: IntFlag;
  cpusetCpus: StringFlag;
  cpusetMems: StringFlag;
  cpuShares: IntFlag;
  memory: CustomFlag<number>;
  memoryReservation: CustomFlag<number>;
  memorySwap: CustomFlag<number>;
  kernelMemory: CustomFlag<number>;
  restart: StringFlag;
  pidsLimit: IntFlag;
  cpus: CustomFlag<number>;
}

function bytesFlag(fs: FlagSet, name: string, short: string | undefined, usage: string): CustomFlag<number> {
  return fs.add(new CustomFlag<number>(name, short, usage, 'bytes', 0, (v) => ramInBytes(v), '0'));
}

/** The request body: every Resources field in docker's order (zero values included), then RestartPolicy. */
export function updateBody(f: UpdateFlags): Record<string, unknown> {
  const restart = f.restart.value !== '' ? parseRestartPolicy(f.restart.value) : { Name: '', MaximumRetryCount: 0 };
  const body: Record<string, unknown> = {
    CpuShares: f.cpuShares.value,
    Memory: f.memory.value,
    NanoCpus: f.cpus.value,
    CgroupParent: '',
    BlkioWeight: f.blkioWeight.value,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: f.cpuPeriod.value,
    CpuQuota: f.cpuQuota.value,
    CpuRealtimePeriod: f.cpuRtPeriod.value,
    CpuRealtimeRuntime: f.cpuRtRuntime.value,
    CpusetCpus: f.cpusetCpus.value,
    CpusetMems: f.cpusetMems.value,
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
  };
  // KernelMemory is omitted when zero (omitempty).
  if (f.kernelMemory.value) body.KernelMemory = f.kernelMemory.value;
  Object.assign(body, {
    MemoryReservation: f.memoryReservation.value,
    MemorySwap: f.memorySwap.value,
    MemorySwappiness: null,
    OomKillDisable: null,
    // null leaves the limit unchanged; docker sends a value only when one was given.
    PidsLimit: f.pidsLimit.value !== 0 ? f.pidsLimit.value : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restart,
  });
  return body;
}

export const command: CommandDef<UpdateFlags> = {
  args: minArgs(1),
  flags(fs: FlagSet) {
    const int = (name: string, short: string | undefined, usage: string) => fs.add(new IntFlag(name, short, 0, usage));
    const f: UpdateFlags = {
      blkioWeight: fs.add(new IntFlag('blkio-weight', undefined, 0, 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', 'uint16', 16, true)),
      cpuPeriod: int('cpu-period', undefined, 'Limit CPU CFS (Completely Fair Scheduler) period'),
      cpuQuota: int('cpu-quota', undefined, 'Limit CPU CFS (Completely Fair Scheduler) quota'),
      cpuRtPeriod: int('cpu-rt-period', undefined, 'Limit the CPU real-time period in microseconds'),
      cpuRtRuntime: int('cpu-rt-runtime', undefined, 'Limit the CPU real-time runtime in microseconds'),
      cpusetCpus: fs.string('cpuset-cpus', undefined, '', 'CPUs in which to allow execution (0-3, 0,1)'),
      cpusetMems: fs.string('cpuset-mems', undefined, '', 'MEMs in which to allow execution (0-3, 0,1)'),
      cpuShares: int('cpu-shares', 'c', 'CPU shares (relative weight)'),
      memory: bytesFlag(fs, 'memory', 'm', 'Memory limit'),
      memoryReservation: bytesFlag(fs, 'memory-reservation', undefined, 'Memory soft limit'),
      memorySwap: fs.add(new CustomFlag<number>('memory-swap', undefined, 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', 'bytes', 0, (v) => parseMemSwap(v), '0')),
      kernelMemory: bytesFlag(fs, 'kernel-memory', undefined, 'Kernel memory limit (deprecated)'),
      restart: fs.string('restart', undefined, '', 'Restart policy to apply when a container exits'),
      pidsLimit: int('pids-limit', undefined, 'Tune container pids limit (set -1 for unlimited)'),
      cpus: fs.add(new CustomFlag<number>('cpus', undefined, 'Number of CPUs', 'decimal', 0, (v) => parseCPUs(v))),
    };
    // No longer supported by runc: docker hides it.
    f.kernelMemory.hidden = true;
    return f;
  },
  async run(cli: Cli, f: UpdateFlags, names: string[], fs: FlagSet) {
    if (!fs.flags.some((x) => x.changed)) throw new Error('you must provide one or more flags when using this command');
    const body = updateBody(f);
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of names) {
      try {
        const r = await cli.client.json<{ Warnings?: string[] | null }>('POST', `/containers/${name}/update`, { body });
        cli.println(name);
        warnings.push(...(r?.Warnings ?? []));
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (warnings.length > 0) cli.println(warnings.join('\n'));
    if (errors.length > 0) throw new Error(errors.join('\n'));
  },
};
