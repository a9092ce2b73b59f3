// linux.resources from HostConfig's resource fields, with Docker's conversions: NanoCpus
// becomes a CFS quota over a 100ms period, PidsLimit <= 0 means unlimited (-1 for runc),
// and block-device limits name devices by host path, resolved here to major:minor.
import { promises as fsp } from 'node:fs';
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
  if ((r.MemorySwap ?? 0) > 0 && swapLimit) m.swap = r.MemorySwap!;
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
