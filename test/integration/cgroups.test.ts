// Resource limits as a process inside experiences them (a fork loop stops, an allocation
// is OOM-killed, a busy loop gets half a core), the values in the container's cgroup
// files at create and after `update`, and Docker's validation texts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

const V2 = statfsSync('/sys/fs/cgroup').type === 0x63677270;

// The file holding each limit, by cgroup version: [v1 controller, v1 file, v2 file].
const FILES = {
  memoryLimit: ['memory', 'memory.limit_in_bytes', 'memory.max'],
  memorySwap: ['memory', 'memory.memsw.limit_in_bytes', 'memory.swap.max'],
  memoryReservation: ['memory', 'memory.soft_limit_in_bytes', 'memory.low'],
  oomControl: ['memory', 'memory.oom_control', 'memory.events'],
  cpuQuota: ['cpu', 'cpu.cfs_quota_us', 'cpu.max'],
  cpuShares: ['cpu', 'cpu.shares', 'cpu.weight'],
  cpuUsage: ['cpuacct', 'cpuacct.usage', 'cpu.stat'],
  cpusetCpus: ['cpuset', 'cpuset.cpus', 'cpuset.cpus'],
  cpusetMems: ['cpuset', 'cpuset.mems', 'cpuset.mems'],
  pidsMax: ['pids', 'pids.max', 'pids.max'],
  readBps: ['blkio', 'blkio.throttle.read_bps_device', 'io.max'],
  writeIOps: ['blkio', 'blkio.throttle.write_iops_device', 'io.max'],
} as const;

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: true });
});
after(async () => {
  await d?.cleanup();
});

function cgroupFile(id: string, which: keyof typeof FILES): string {
  const [controller, v1, v2] = FILES[which];
  return V2 ? join('/sys/fs/cgroup', d.cgroupParent, id, v2) : join('/sys/fs/cgroup', controller, d.cgroupParent, id, v1);
}

async function cg(id: string, which: keyof typeof FILES): Promise<string> {
  return (await fsp.readFile(cgroupFile(id, which), 'utf8')).trim();
}

/** Total CPU time the container's cgroup has used, in seconds. */
async function cpuSeconds(id: string): Promise<number> {
  const text = await cg(id, 'cpuUsage');
  if (!V2) return Number(text) / 1e9;
  return Number(/^usage_usec (\d+)$/m.exec(text)![1]) / 1e6;
}

async function runDetached(args: string[]): Promise<string> {
  const r = await d.docker(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function removeForce(id: string): Promise<void> {
  await d.docker(['rm', '-f', id]);
}

/** A block device of this host and its major:minor, for the throttle flags. */
async function blockDevice(): Promise<{ path: string; dev: string } | undefined> {
  for (const path of ['/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/loop0']) {
    if (!existsSync(path)) continue;
    const st = await fsp.stat(path);
    if (st.isBlockDevice()) return { path, dev: `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` };
  }
  return undefined;
}

test('a fork loop stops at --pids-limit: spawning fails inside, the cgroup holds the limit', async () => {
  // A subshell forks sleeps until the kernel refuses (ash gives up at the first refusal);
  // the container's init then replaces itself (exec: no fork) to keep the cgroup alive.
  const script = '(i=0; while [ $i -lt 40 ]; do sleep 60 & i=$((i+1)); echo "forked $i"; done); echo done; exec sleep 60';
  const id = await runDetached(['--pids-limit', '20', 'busybox', 'sh', '-c', script]);
  try {
    assert.equal(await cg(id, 'pidsMax'), '20');
    let logs = '';
    for (let i = 0; i < 100 && !/^done$/m.test(logs); i++) {
      const l = await d.docker(['logs', id]);
      logs = l.stdout + l.stderr;
      if (!/^done$/m.test(logs)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(logs, /^done$/m);
    assert.match(logs, /can't fork|Resource temporarily unavailable/);
    const forked = Math.max(0, ...[...logs.matchAll(/^forked (\d+)$/gm)].map((m) => Number(m[1])));
    assert.ok(forked > 5 && forked < 20, `forked ${forked} sleeps before the limit`);
    const current = Number(await fsp.readFile(cgroupFile(id, 'pidsMax').replace(/pids\.max$/, 'pids.current'), 'utf8'));
    assert.ok(current <= 20, `pids.current ${current} stays within the limit`);
  } finally {
    await removeForce(id);
  }
});

test('--memory 32m: a 64 MB allocation is OOM-killed, OOMKilled true, exit 137, an oom event before die', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await d.docker(['run', '--name', 'oom-victim', '--memory', '32m', 'busybox', 'sh', '-c', 'head -c 64m /dev/zero | tail > /dev/null']);
  try {
    assert.equal(r.code, 137, r.stderr);
    const state = JSON.parse((await d.docker(['inspect', '-f', '{{json .State}}', 'oom-victim'])).stdout);
    assert.equal(state.OOMKilled, true);
    assert.equal(state.ExitCode, 137);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'container=oom-victim', '--format', '{{.Action}}']);
    const actions = ev.stdout.trim().split('\n');
    assert.ok(actions.includes('oom'), `events: ${actions.join(' ')}`);
    assert.ok(actions.indexOf('oom') < actions.indexOf('die'), `oom comes before die: ${actions.join(' ')}`);
  } finally {
    await d.docker(['rm', '-f', 'oom-victim']);
  }
  // Within its limit the same container exits normally, with OOMKilled false.
  const ok = await d.docker(['run', '--name', 'oom-spared', '--memory', '32m', 'busybox', 'sh', '-c', 'head -c 4m /dev/zero | tail > /dev/null']);
  try {
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.OOMKilled}}', 'oom-spared'])).stdout.trim(), 'false');
  } finally {
    await d.docker(['rm', '-f', 'oom-spared']);
  }
});

test('--cpus 0.5 holds a busy loop near half a core', async () => {
  const id = await runDetached(['--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']);
  try {
    assert.equal(await cg(id, 'cpuQuota'), V2 ? '50000 100000' : '50000');
    await new Promise((r) => setTimeout(r, 300)); // past the start-up
    const t0 = process.hrtime.bigint();
    const u0 = await cpuSeconds(id);
    await new Promise((r) => setTimeout(r, 2000));
    const u1 = await cpuSeconds(id);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const ratio = (u1 - u0) / wall;
    assert.ok(ratio > 0.3 && ratio < 0.7, `CPU used per second of wall time: ${ratio.toFixed(3)}`);
  } finally {
    await removeForce(id);
  }
});

test('the cgroup files hold the limits given at create, and update changes them live', async () => {
  const blk = await blockDevice();
  const args = [
    '--memory', '64m', '--memory-swap', '128m', '--memory-reservation', '32m',
    '--cpu-shares', '512', '--cpu-period', '50000', '--cpu-quota', '25000',
    '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '50', '--oom-score-adj', '300',
  ];
  if (!V2) args.push('--memory-swappiness', '10', '--oom-kill-disable');
  if (blk) args.push('--device-read-bps', `${blk.path}:1mb`, '--device-write-iops', `${blk.path}:100`);
  const id = await runDetached([...args, 'busybox', 'sleep', '300']);
  try {
    const mib = (n: number) => String(n * 1024 * 1024);
    assert.equal(await cg(id, 'memoryLimit'), mib(64));
    if (existsSync(cgroupFile(id, 'memorySwap'))) assert.equal(await cg(id, 'memorySwap'), V2 ? mib(64) : mib(128));
    assert.equal(await cg(id, 'memoryReservation'), mib(32));
    assert.equal(await cg(id, 'cpuQuota'), V2 ? '25000 50000' : '25000');
    if (!V2) assert.equal(await cg(id, 'cpuShares'), '512');
    assert.equal(await cg(id, 'cpusetCpus'), '0');
    assert.equal(await cg(id, 'cpusetMems'), '0');
    assert.equal(await cg(id, 'pidsMax'), '50');
    if (!V2) {
      assert.equal((await fsp.readFile(cgroupFile(id, 'memoryLimit').replace('memory.limit_in_bytes', 'memory.swappiness'), 'utf8')).trim(), '10');
      assert.match(await cg(id, 'oomControl'), /^oom_kill_disable 1$/m);
    }
    if (blk) {
      assert.match(await cg(id, 'readBps'), new RegExp(V2 ? `^${blk.dev} rbps=1048576` : `^${blk.dev} 1048576$`, 'm'));
      assert.match(await cg(id, 'writeIOps'), new RegExp(V2 ? `^${blk.dev} .*wiops=100` : `^${blk.dev} 100$`, 'm'));
    }
    // What the process sees of its own settings.
    assert.equal((await d.docker(['exec', id, 'cat', '/proc/1/oom_score_adj'])).stdout.trim(), '300');

    const u = await d.docker(['update', '--memory', '96m', '--memory-swap', '192m', '--cpu-quota', '40000', '--cpu-shares', '256', '--cpuset-cpus', '0-1', '--pids-limit', '60', id]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await cg(id, 'memoryLimit'), mib(96));
    assert.equal(await cg(id, 'cpuQuota'), V2 ? '40000 50000' : '40000');
    if (!V2) assert.equal(await cg(id, 'cpuShares'), '256');
    assert.equal(await cg(id, 'cpusetCpus'), '0-1');
    assert.equal(await cg(id, 'pidsMax'), '60');
    if (existsSync(cgroupFile(id, 'memorySwap'))) assert.equal(await cg(id, 'memorySwap'), V2 ? mib(96) : mib(192));
    const hc = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig}}', id])).stdout);
    assert.equal(hc.Memory, 96 * 1024 * 1024);
    assert.equal(hc.PidsLimit, 60);
    assert.equal(hc.CpuQuota, 40000);
    // -1 lifts the swap limit.
    assert.equal((await d.docker(['update', '--memory-swap', '-1', id])).code, 0);
    if (existsSync(cgroupFile(id, 'memorySwap'))) assert.match(await cg(id, 'memorySwap'), V2 ? /^max$/ : /^9223372036854\d+$/);
    assert.equal(await cg(id, 'memoryLimit'), mib(96));
  } finally {
    await removeForce(id);
  }
});

test('update of --cpus on a running container reaches the CFS quota', async () => {
  const id = await runDetached(['busybox', 'sleep', '300']);
  try {
    const u = await d.docker(['update', '--cpus', '1.5', id]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(await cg(id, 'cpuQuota'), V2 ? '150000 100000' : '150000');
    const bad = await d.docker(['update', '--cpu-quota', '20000', id]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/);
  } finally {
    await removeForce(id);
  }
});

test("values Docker refuses are refused with Docker's texts", async () => {
  const cpus = (await fsp.readFile(V2 ? '/sys/fs/cgroup/cpuset.cpus.effective' : '/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').catch(() => '0')).trim();
  const mems = (await fsp.readFile(V2 ? '/sys/fs/cgroup/cpuset.mems.effective' : '/sys/fs/cgroup/cpuset/cpuset.mems', 'utf8').catch(() => '0')).trim();
  const cases: Array<[string[], string]> = [
    [['--memory', '4m'], 'Minimum memory limit allowed is 6MB'],
    [['--memory', '32m', '--memory-swap', '16m'], 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [['--memory-reservation', '1m'], 'Minimum memory reservation allowed is 6MB'],
    [['--memory', '16m', '--memory-reservation', '32m'], 'Minimum memory limit can not be less than memory reservation limit, see usage'],
    [['--oom-score-adj', '1001'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]'],
    [['--cpus', '0.5', '--cpu-period', '50000'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
    [['--cpus', '0.5', '--cpu-quota', '50000'], 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
    [['--cpu-period', '500'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
    [['--cpu-quota', '500'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
    [['--cpuset-cpus', '4096'], `Requested CPUs are not available - requested 4096, available: ${cpus}`],
    [['--cpuset-cpus', 'a-b'], 'Invalid value a-b for cpuset cpus: invalid format: a-b'],
    [['--cpuset-mems', '64'], `Requested memory nodes are not available - requested 64, available: ${mems}`],
  ];
  for (const [flags, text] of cases) {
    const r = await d.docker(['create', ...flags, 'busybox', 'true']);
    assert.notEqual(r.code, 0, `${flags.join(' ')} was accepted`);
    assert.equal(r.stderr.trim(), `Error response from daemon: ${text}`, flags.join(' '));
  }
  // The CLI checks swappiness itself; the API gets dockerd's text (v1) or a warning (v2).
  const sw = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { MemorySwappiness: 101 } });
  if (V2) {
    assert.equal(sw.status, 201, sw.body);
    assert.deepEqual(sw.json().Warnings, ['Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.']);
    await d.docker(['rm', '-f', sw.json().Id]);
  } else {
    assert.equal(sw.status, 400);
    assert.equal(sw.json().message, 'Invalid value: 101, valid memory swappiness range is 0-100');
  }
  const nano = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { NanoCpus: 4096e9 } });
  assert.equal(nano.status, 400);
  assert.match(nano.json().message, /^range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/);
});

test('limits the kernel cannot apply are dropped with Docker warnings', async () => {
  const r = await d.docker(['create', '--oom-kill-disable', 'busybox', 'true']);
  try {
    assert.equal(r.code, 0, r.stderr);
    const warning = V2
      ? 'Your kernel does not support OomKillDisable. OomKillDisable discarded.'
      : 'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.';
    assert.match(r.stderr, new RegExp(`WARNING: ${warning.replace(/[.()]/g, '\\$&')}`));
  } finally {
    await d.docker(['rm', '-f', r.stdout.trim()]);
  }
  const blkioWeight = V2 ? true : existsSync('/sys/fs/cgroup/blkio/blkio.weight');
  const w = await d.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { BlkioWeight: blkioWeight ? 5 : 300 } });
  if (blkioWeight) {
    assert.equal(w.status, 400);
    assert.equal(w.json().message, 'Range of blkio weight is from 10 to 1000');
  } else {
    assert.equal(w.status, 201, w.body);
    assert.deepEqual(w.json().Warnings, ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
    const hc = JSON.parse((await d.docker(['inspect', '-f', '{{json .HostConfig}}', w.json().Id])).stdout);
    assert.equal(hc.BlkioWeight, 0);
    await d.docker(['rm', '-f', w.json().Id]);
  }
});

test('--cgroup-parent places the container under that parent; top and stats find it there', async () => {
  const parent = `${d.cgroupParent}/custom`;
  const id = await runDetached(['--cgroup-parent', parent, '--memory', '48m', 'busybox', 'sleep', '300']);
  try {
    const dir = V2 ? join('/sys/fs/cgroup', parent, id) : join('/sys/fs/cgroup/memory', parent, id);
    assert.equal((await fsp.readFile(join(dir, V2 ? 'memory.max' : 'memory.limit_in_bytes'), 'utf8')).trim(), String(48 * 1024 * 1024));
    assert.equal(existsSync(join(V2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', d.cgroupParent, id)), false);
    const top = await d.docker(['top', id]);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /sleep 300/);
    const stats = await d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /\/ 48MiB/);
  } finally {
    await removeForce(id);
  }
});

test('--device-cgroup-rule lets the process open a device node it makes; without it the cgroup refuses', async () => {
  // /dev/fuse (10:229) is denied by Docker's default device rules; opening it needs no capability.
  const script = 'mknod /tmp/f c 10 229 && exec 3<>/tmp/f && echo opened';
  const allowed = await d.docker(['run', '--rm', '--device-cgroup-rule', 'c 10:229 rwm', 'busybox', 'sh', '-c', script]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout.trim(), 'opened');
  const refused = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', script]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Operation not permitted/);
});

test("update refuses values as Docker does", async () => {
  const id = await runDetached(['--memory', '32m', 'busybox', 'sleep', '300']);
  try {
    const low = await d.docker(['update', '--memory', '4m', id]);
    assert.equal(low.stderr.trim(), 'Error response from daemon: Minimum memory limit allowed is 6MB');
    const over = await d.docker(['update', '--memory', '128m', id]);
    assert.equal(over.stderr.trim(), `Error response from daemon: Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
    assert.equal(await cg(id, 'memoryLimit'), String(32 * 1024 * 1024));
  } finally {
    await removeForce(id);
  }
});
