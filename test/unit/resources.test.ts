// What the host's cgroups support (probed from v1 and v2 layouts built in temp
// directories), cpuset lists, the OCI mapping, and Docker's checks and warnings that
// depend on that support.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { cgroupInfo, containerCgroupPath, cpuResources, cpusetAvailable, memoryResources, parseUintRanges, pidsResources, probeCgroupSupport, type CgroupSupport } from '../../src/runtime/resources.ts';
import { checkResources } from '../../src/container/create-config.ts';
import type { Resources } from '../../src/runtime/types.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-resources-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function touch(path: string, text = ''): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

const V1_FULL: CgroupSupport = {
  version: 1, swappiness: true, oomKillDisable: true, pids: true, cpuShares: true, cfs: true, cpuset: true,
  cpus: '0-3', mems: '0', blkioWeight: true, blkioWeightDevice: true, readBps: true, writeBps: true, readIOps: true, writeIOps: true,
};
const V2_FULL: CgroupSupport = { ...V1_FULL, version: 2, swappiness: false, oomKillDisable: false };
const check = (r: Resources, support: CgroupSupport, update = false) => checkResources(r, { update, swapLimit: true, cpus: 4, support });

test('a v1 layout: support follows the files each hierarchy has', () => {
  withDir((root) => {
    touch(join(root, 'memory', 'memory.swappiness'), '60');
    touch(join(root, 'memory', 'memory.oom_control'));
    touch(join(root, 'pids', 'pids.max'));
    touch(join(root, 'cpu', 'cpu.shares'));
    touch(join(root, 'cpu', 'cpu.cfs_quota_us'));
    touch(join(root, 'cpuset', 'cpuset.cpus'), '0-7\n');
    touch(join(root, 'cpuset', 'cpuset.mems'), '0-1\n');
    // A BFQ-only blkio hierarchy: throttling but no blkio.weight, as on this kind of host.
    touch(join(root, 'blkio', 'blkio.throttle.read_bps_device'));
    touch(join(root, 'blkio', 'blkio.throttle.write_iops_device'));
    const s = probeCgroupSupport(root, 1);
    assert.deepEqual(s, {
      version: 1, swappiness: true, oomKillDisable: true, pids: true, cpuShares: true, cfs: true, cpuset: true,
      cpus: '0-7', mems: '0-1', blkioWeight: false, blkioWeightDevice: false, readBps: true, writeBps: false, readIOps: false, writeIOps: true,
    });
  });
});

test('a v2 layout: controllers come from cgroup.controllers; no swappiness, no OOM-killer switch', () => {
  withDir((root) => {
    touch(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    touch(join(root, 'cpuset.cpus.effective'), '0-5\n');
    touch(join(root, 'cpuset.mems.effective'), '0\n');
    const s = probeCgroupSupport(root, 2);
    assert.deepEqual(s, { ...V2_FULL, cpus: '0-5', mems: '0' });
    writeFileSync(join(root, 'cgroup.controllers'), 'memory\n');
    const bare = probeCgroupSupport(root, 2);
    assert.equal(bare.pids, false);
    assert.equal(bare.cfs, false);
    assert.equal(bare.readBps, false);
  });
});

test('cpuset lists: ranges parse, bad ones do not, availability compares ranges', () => {
  assert.deepEqual(parseUintRanges('0-2,4'), [[0, 2], [4, 4]]);
  assert.equal(parseUintRanges('2-1'), undefined);
  assert.equal(parseUintRanges('a'), undefined);
  assert.equal(parseUintRanges('1,'), undefined);
  assert.equal(cpusetAvailable('0-3', '0-3'), true);
  assert.equal(cpusetAvailable('1,3', '0-1,3'), true);
  assert.equal(cpusetAvailable('2', '0-1,3'), false);
  assert.equal(cpusetAvailable('0-4000000000', '0-3'), false);
  assert.equal(cpusetAvailable('x', '0-3'), undefined);
});

test('checks: Docker texts for cpuset cpus and mems against what the host has', () => {
  assert.throws(() => check({ CpusetCpus: '4' }, V1_FULL), { message: 'Requested CPUs are not available - requested 4, available: 0-3' });
  assert.throws(() => check({ CpusetMems: '1' }, V1_FULL), { message: 'Requested memory nodes are not available - requested 1, available: 0' });
  assert.throws(() => check({ CpusetMems: '1-' }, V1_FULL), { message: 'Invalid value 1- for cpuset mems: invalid format: 1-' });
  assert.deepEqual(check({ CpusetCpus: '0-3', CpusetMems: '0' }, V1_FULL), []);
});

test('checks: limits the kernel cannot apply are discarded with warnings, as dockerd does', () => {
  const r: Resources = { Memory: 64 << 20, MemorySwappiness: 10, OomKillDisable: true };
  assert.deepEqual(check(r, V2_FULL), [
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
  ]);
  assert.equal(r.MemorySwappiness, null);
  assert.equal(r.OomKillDisable, null);
  // Asking to keep the killer needs no warning where it cannot be switched off anyway.
  assert.deepEqual(check({ OomKillDisable: false }, V2_FULL), []);
  // On v1 the range is checked; an OOM-killer switch without a limit is a warning.
  assert.throws(() => check({ MemorySwappiness: 101 }, V1_FULL), { message: 'Invalid value: 101, valid memory swappiness range is 0-100' });
  assert.deepEqual(check({ OomKillDisable: true }, V1_FULL), [
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
  ]);
  const noBlkio = { ...V1_FULL, blkioWeight: false, readBps: false };
  const b: Resources = { BlkioWeight: 5, BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1 }] };
  assert.deepEqual(check(b, noBlkio), [
    'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
  ]);
  assert.equal(b.BlkioWeight, 0);
  assert.deepEqual(b.BlkioDeviceReadBps, []);
  assert.throws(() => check({ BlkioWeight: 5 }, V1_FULL), { message: 'Range of blkio weight is from 10 to 1000' });
  assert.deepEqual(check({ PidsLimit: 10 }, { ...V1_FULL, pids: false }), [
    'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
  ]);
  assert.throws(() => check({ NanoCpus: 1e9 }, { ...V1_FULL, cfs: false }), {
    message: 'NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted',
  });
});

test('checks: --oom-score-adj range at create', () => {
  assert.throws(() => check({ OomScoreAdj: 1001 } as Resources, V1_FULL), { message: 'Invalid value 1001, range for oom score adj is [-1000, 1000]' });
  assert.throws(() => check({ OomScoreAdj: -1001 } as Resources, V1_FULL), { message: 'Invalid value -1001, range for oom score adj is [-1000, 1000]' });
  assert.deepEqual(check({ OomScoreAdj: -1000 } as Resources, V1_FULL), []);
});

test('OCI mapping: NanoCpus over a 100ms period, pids 0 unlimited, swap only where enforceable', () => {
  assert.deepEqual(cpuResources({ NanoCpus: 5e8 }), { period: 100_000, quota: 50_000 });
  assert.deepEqual(cpuResources({ CpuShares: 512, CpusetCpus: '0', CpusetMems: '0' }), { shares: 512, cpus: '0', mems: '0' });
  assert.deepEqual(pidsResources({ PidsLimit: 0 }), { limit: -1 });
  assert.deepEqual(pidsResources({ PidsLimit: 20 }), { limit: 20 });
  assert.equal(pidsResources({}), undefined);
  assert.deepEqual(memoryResources({ Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20 }, true), {
    limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20,
  });
  assert.deepEqual(memoryResources({ Memory: 64 << 20, MemorySwap: 128 << 20 }, false), { limit: 64 << 20 });
  assert.deepEqual(memoryResources({ Memory: 64 << 20, MemorySwap: -1 }, true), { limit: 64 << 20, swap: -1 });
  assert.deepEqual(memoryResources({ OomKillDisable: true, MemorySwappiness: 0 }, true), { swappiness: 0, disableOOMKiller: true });
});

test('a real cgroup2 hierarchy probes as v2 (the hybrid layout mounts one without the v1 controllers)', (t) => {
  const unified = '/sys/fs/cgroup/unified';
  let isV2 = false;
  try {
    isV2 = statfsSync(unified).type === 0x63677270;
  } catch {
    // not mounted
  }
  const root = isV2 ? unified : statfsSync('/sys/fs/cgroup').type === 0x63677270 ? '/sys/fs/cgroup' : undefined;
  if (!root) return t.skip('no cgroup2 hierarchy mounted here');
  const controllers = new Set(readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
  const s = probeCgroupSupport(root, 2);
  assert.equal(s.version, 2);
  assert.equal(s.swappiness, false);
  assert.equal(s.oomKillDisable, false);
  assert.equal(s.pids, controllers.has('pids'));
  assert.equal(s.cfs, controllers.has('cpu'));
  assert.equal(s.readBps, controllers.has('io'));
  assert.match(s.cpus, /^\d+(-\d+)?(,\d+(-\d+)?)*$/);
});

test("a container's cgroup: its own parent, else the daemon's, always from the hierarchy's root", () => {
  assert.equal(containerCgroupPath('/berth', {}, 'abc'), '/berth/abc');
  assert.equal(containerCgroupPath('/berth', { CgroupParent: '/custom/sub' }, 'abc'), '/custom/sub/abc');
  assert.equal(containerCgroupPath('/berth', { CgroupParent: 'relative' }, 'abc'), '/relative/abc');
  assert.equal(containerCgroupPath('/berth', { CgroupParent: '../../escape' }, 'abc'), '/escape/abc');
});

test("GET /info's cgroup facts and dockerd's warnings for what a host lacks", () => {
  withDir((root) => {
    const full = cgroupInfo(V1_FULL, true, root);
    assert.deepEqual(full.Warnings, ['WARNING: No kernel memory TCP limit support']);
    touch(join(root, 'memory', 'memory.kmem.tcp.limit_in_bytes'));
    assert.deepEqual(cgroupInfo(V1_FULL, true, root).Warnings, []);
    const bare = cgroupInfo({ ...V1_FULL, cfs: false, oomKillDisable: false, readBps: false, blkioWeight: false }, false, root);
    assert.equal(bare.CpuCfsQuota, false);
    assert.deepEqual(bare.Warnings, [
      'WARNING: No swap limit support',
      'WARNING: No oom kill disable support',
      'WARNING: No cpu cfs quota support',
      'WARNING: No cpu cfs period support',
      'WARNING: No blkio throttle.read_bps_device support',
    ]);
    const v2 = cgroupInfo({ ...V2_FULL, blkioWeight: false, writeIOps: false }, true, root);
    assert.equal(v2.OomKillDisable, false);
    assert.deepEqual(v2.Warnings, ['WARNING: No io.weight support', 'WARNING: No io.max (wiops) support']);
  });
});
