// Cgroup readers (v1 and v2 fixture trees, and a real v1 cgroup), the StatsJSON dockerd
// builds from them, the arithmetic the docker CLI does with it, the stats sampling modes,
// and `top`'s ps filtering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseCgroupMounts, openCgroupStats, detectCgroupLayout, type CgroupLayout } from '../../src/cgroup/layout.ts';
import { CgroupV1Reader } from '../../src/cgroup/v1.ts';
import { CgroupV2Reader } from '../../src/cgroup/v2.ts';
import { cgroupProcs, procsUnder } from '../../src/cgroup/procs.ts';
import { CgroupNotFound, type CgroupV1Stats, type CgroupV2Stats } from '../../src/cgroup/types.ts';
import { MAX_UINT64 } from '../../src/cgroup/files.ts';
import {
  ContainerStatsService, emptyStats, encodeStats, parseNetDev, parseProcStat, statsFromCgroup, type StatsJson,
} from '../../src/container/stats.ts';
import { containerTop, parsePsOutput, validatePsArgs } from '../../src/container/top.ts';
import type { ContainerRecord } from '../../src/container/record.ts';
import { EngineError } from '../../src/util/errors.ts';

type T = { after: (fn: () => Promise<void> | void) => void };

async function tempDir(t: T, prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), prefix));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await fsp.mkdir(join(root, rel, '..'), { recursive: true });
    await fsp.writeFile(join(root, rel), text);
  }
}

const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

test('layout: hybrid and v1 hosts map each controller to its mount; co-mounted ones share it', () => {
  const l = parseCgroupMounts(HYBRID_MOUNTINFO);
  assert.equal(l.version, 1);
  assert.equal(l.version === 1 && l.mounts.cpuacct, '/sys/fs/cgroup/cpuacct');
  assert.equal(l.version === 1 && l.mounts.memory, '/sys/fs/cgroup/memory');
  assert.equal(l.version === 1 && l.mounts['name=systemd'], '/sys/fs/cgroup/systemd');
  const co = parseCgroupMounts('32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n');
  assert.deepEqual(co, { version: 1, mounts: { cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct' } });
});

test('layout: a cgroup2 file system at /sys/fs/cgroup is v2', () => {
  const l = parseCgroupMounts('25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n');
  assert.deepEqual(l, { version: 2, root: '/sys/fs/cgroup' });
});

function v1Tree(cg: string): Record<string, string> {
  return {
    [`cpuacct${cg}/cpuacct.usage`]: '123456789\n',
    [`cpuacct${cg}/cpuacct.stat`]: 'user 7\nsystem 3\n',
    [`cpuacct${cg}/cpuacct.usage_percpu`]: '100000000 23456789 \n',
    [`cpu${cg}/cpu.stat`]: 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\n',
    [`memory${cg}/memory.stat`]: 'cache 4096\nrss 8192\ninactive_file 1024\ntotal_inactive_file 2048\nhierarchical_memory_limit 9223372036854771712\n',
    [`memory${cg}/memory.usage_in_bytes`]: '1048576\n',
    [`memory${cg}/memory.max_usage_in_bytes`]: '2097152\n',
    [`memory${cg}/memory.failcnt`]: '0\n',
    [`memory${cg}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`blkio${cg}/blkio.io_serviced_recursive`]: 'Total 0\n',
    [`blkio${cg}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 8192\n8:0 Async 4096\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n',
    [`blkio${cg}/blkio.throttle.io_serviced_recursive`]: '8:0 Read 1\n8:0 Write 2\n8:0 Sync 2\n8:0 Async 1\n8:0 Discard 0\n8:0 Total 3\nTotal 3\n',
    [`pids${cg}/pids.current`]: '3\n',
    [`pids${cg}/pids.max`]: 'max\n',
  };
}

function fixtureV1Layout(root: string): CgroupLayout {
  const mounts: Record<string, string> = {};
  for (const c of ['cpu', 'cpuacct', 'memory', 'blkio', 'pids']) mounts[c] = join(root, c);
  return { version: 1, mounts };
}

test('v1 reader: cpuacct in ns, throttling, memory, throttle-layer blkio (Total rows skipped), pids "max" as 0', async (t) => {
  const root = await tempDir(t, 'berth-cgv1-');
  await writeTree(root, v1Tree('/berth/c1'));
  const raw = (await openCgroupStats(fixtureV1Layout(root), '/berth/c1').read()) as CgroupV1Stats;
  assert.equal(raw.version, 1);
  assert.deepEqual(raw.cpu, {
    usage: { total: 123456789n, user: 70_000_000n, system: 30_000_000n, percpu: [100000000n, 23456789n] },
    throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n },
  });
  assert.equal(raw.memory?.usage, 1048576n);
  assert.equal(raw.memory?.maxUsage, 2097152n);
  assert.equal(raw.memory?.limit, 9223372036854771712n);
  assert.equal(raw.memory?.stat.get('total_inactive_file'), 2048n);
  assert.deepEqual(raw.pids, { current: 3n, limit: 0n });
  // The CFQ file exists but has no rows: the throttle tables are used.
  assert.deepEqual(Object.keys(raw.blkio ?? {}).sort(), ['io_service_bytes_recursive', 'io_serviced_recursive']);
  assert.deepEqual(raw.blkio?.io_service_bytes_recursive?.map((e) => `${e.major}:${e.minor} ${e.op} ${e.value}`), [
    '8:0 Read 4096', '8:0 Write 8192', '8:0 Sync 8192', '8:0 Async 4096', '8:0 Discard 0', '8:0 Total 12288',
  ]);
});

test('v1 reader: CFQ tables with rows win over the throttle layer; a missing cgroup is CgroupNotFound', async (t) => {
  const root = await tempDir(t, 'berth-cgv1cfq-');
  const tree = v1Tree('/b/c2');
  tree['blkio/b/c2/blkio.io_serviced_recursive'] = '8:16 Read 5\n8:16 Write 6\nTotal 11\n';
  tree['blkio/b/c2/blkio.io_service_bytes_recursive'] = '8:16 Read 500\n8:16 Write 600\nTotal 1100\n';
  tree['blkio/b/c2/blkio.sectors_recursive'] = '8:16 12\n';
  await writeTree(root, tree);
  const raw = (await openCgroupStats(fixtureV1Layout(root), '/b/c2').read()) as CgroupV1Stats;
  assert.equal(raw.blkio?.io_service_bytes_recursive?.[0]?.value, 500n);
  assert.deepEqual(raw.blkio?.sectors_recursive, [{ major: 8n, minor: 16n, op: '', value: 12n }]);
  assert.deepEqual(raw.blkio?.io_queue_recursive, []);
  await assert.rejects(openCgroupStats(fixtureV1Layout(root), '/b/gone').read(), CgroupNotFound);
});

test('v2 reader: cpu.stat usec -> ns, "max" limits as 2^64-1, io.stat, memory.events', async (t) => {
  const root = await tempDir(t, 'berth-cgv2-');
  await writeTree(root, {
    'berth/c3/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n',
    'berth/c3/memory.stat': 'anon 4096\nfile 8192\ninactive_file 1000\nactive_file 7192\n',
    'berth/c3/memory.current': '65536\n',
    'berth/c3/memory.max': 'max\n',
    'berth/c3/memory.peak': '131072\n',
    'berth/c3/memory.events': 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n',
    'berth/c3/pids.current': '2\n',
    'berth/c3/pids.max': 'max\n',
    'berth/c3/io.stat': '8:0 rbytes=1024 wbytes=2048 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n',
  });
  const layout: CgroupLayout = { version: 2, root };
  const raw = (await openCgroupStats(layout, '/berth/c3').read()) as CgroupV2Stats;
  assert.deepEqual(raw.cpu, { usage: { total: 2_500_000n, user: 2_000_000n, system: 500_000n }, throttling: { periods: 4n, throttledPeriods: 1n, throttledTime: 7000n } });
  assert.equal(raw.memory.limit, MAX_UINT64);
  assert.equal(raw.memory.usage, 65536n);
  assert.equal(raw.memory.events?.get('oom'), 2n);
  assert.deepEqual(raw.pids, { current: 2n, limit: MAX_UINT64 });
  assert.deepEqual(raw.io, [
    { major: 8n, minor: 0n, rbytes: 1024n, wbytes: 2048n, rios: 3n, wios: 4n },
    { major: 253n, minor: 1n, rbytes: 1n, wbytes: 2n, rios: 1n, wios: 1n },
  ]);
  await assert.rejects(new CgroupV2Reader(join(root, 'nope')).read(), CgroupNotFound);

  // dockerd's view: v2 ops are lower case, only io_service_bytes_recursive is filled,
  // failcnt is the oom count, the unlimited memory shows as the host's, pids.max stays.
  const part = statsFromCgroup(raw, 8_000_000_000n);
  assert.deepEqual(part.blkio_stats.io_service_bytes_recursive?.map((e) => e.op), ['read', 'write', 'read', 'write']);
  assert.equal(part.blkio_stats.io_serviced_recursive, null);
  assert.equal(part.memory_stats.limit, 8_000_000_000n);
  assert.equal(part.memory_stats.failcnt, 2n);
  assert.equal(part.memory_stats.max_usage, undefined);
  assert.equal(part.memory_stats.stats?.inactive_file, 1000n);
  assert.equal(part.memory_stats.stats?.thp_collapse_alloc, 0n);
  assert.equal(part.pids_stats.limit, MAX_UINT64);
  assert.match(encodeStats({ ...emptyStats('/x', 'id'), ...part }), /"limit":18446744073709551615\}/);
});

test('v1 stats JSON: every blkio table an array, percpu usage, the memory keys the CLI needs, limit capped at the host memory', async (t) => {
  const root = await tempDir(t, 'berth-cgv1json-');
  await writeTree(root, v1Tree('/berth/c4'));
  const raw = await new CgroupV1Reader({ cpu: join(root, 'cpu/berth/c4'), cpuacct: join(root, 'cpuacct/berth/c4'), memory: join(root, 'memory/berth/c4'), blkio: join(root, 'blkio/berth/c4'), pids: join(root, 'pids/berth/c4') }).read();
  const part = statsFromCgroup(raw, 4_000_000_000n);
  assert.deepEqual(part.blkio_stats.io_queue_recursive, []);
  assert.equal(part.blkio_stats.io_service_bytes_recursive?.length, 6);
  assert.deepEqual(part.cpu_stats.cpu_usage.percpu_usage, [100000000n, 23456789n]);
  assert.equal(part.memory_stats.limit, 4_000_000_000n);
  assert.equal(part.memory_stats.max_usage, 2097152n);
  assert.equal(part.memory_stats.failcnt, undefined); // 0: omitted as Go's omitempty does
  assert.equal(part.memory_stats.stats?.total_inactive_file, 2048n);
  assert.equal(part.memory_stats.stats?.hierarchical_memory_limit, 9223372036854771712n);
  assert.equal(Object.keys(part.memory_stats.stats ?? {}).length, 32);
  assert.deepEqual(part.pids_stats, { current: 3n });
  const keys = Object.keys(part.memory_stats.stats ?? {});
  assert.deepEqual(keys, [...keys].sort(), 'map keys are sorted as Go encodes them');
  assert.match(encodeStats({ ...emptyStats('/x', 'id'), ...part }), /"hierarchical_memory_limit":9223372036854771712,/);
});

test('zeroed stats are what dockerd writes for a container that is not running', () => {
  assert.equal(
    encodeStats(emptyStats('/web', 'abc')),
    '{"name":"/web","id":"abc","read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},' +
      '"blkio_stats":{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,"io_service_time_recursive":null,' +
      '"io_wait_time_recursive":null,"io_merged_recursive":null,"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},' +
      '"cpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},' +
      '"precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},' +
      '"memory_stats":{}}\n',
  );
});

test('/proc/stat: host CPU time in ns from user..softirq at USER_HZ, and the CPU count', () => {
  const text = 'cpu  100 5 50 1000 10 1 2 7 0 0\ncpu0 50 2 25 500 5 0 1 3 0 0\ncpu1 50 3 25 500 5 1 1 4 0 0\nintr 1 2 3\n';
  assert.deepEqual(parseProcStat(text), { systemUsage: (100n + 5n + 50n + 1000n + 10n + 1n + 2n) * 10_000_000n, onlineCpus: 2 });
});

test('/proc/<pid>/net/dev: interfaces but loopback, sorted', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    6686      64    0    0    0     0          0         0     6686      64    0    0    0     0       0          0
  eth1:10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
  eth0: 465293685   10972    1    2    0     0          0         0   576783    6739    3    4    0     0       0          0
`;
  const nets = parseNetDev(text);
  assert.deepEqual(Object.keys(nets), ['eth0', 'eth1']);
  assert.deepEqual(nets.eth0, { rx_bytes: 465293685n, rx_packets: 10972n, rx_errors: 1n, rx_dropped: 2n, tx_bytes: 576783n, tx_packets: 6739n, tx_errors: 3n, tx_dropped: 4n });
});

// The docker CLI's arithmetic (cli/command/container/stats_helpers.go), on the JSON we send.
function cliRow(s: StatsJson): { cpuPercent: number; mem: number; limit: number; memPercent: number; blkRead: number; blkWrite: number; pids: number } {
  const json = JSON.parse(encodeStats(s));
  const cpuDelta = json.cpu_stats.cpu_usage.total_usage - json.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (json.cpu_stats.system_cpu_usage ?? 0) - (json.precpu_stats.system_cpu_usage ?? 0);
  const online = json.cpu_stats.online_cpus || (json.cpu_stats.cpu_usage.percpu_usage ?? []).length;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
  const m = json.memory_stats;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file;
  const mem = inactive !== undefined && inactive < m.usage ? m.usage - inactive : (m.usage ?? 0);
  let blkRead = 0;
  let blkWrite = 0;
  for (const e of json.blkio_stats.io_service_bytes_recursive ?? []) {
    if (/^r/i.test(e.op)) blkRead += e.value;
    if (/^w/i.test(e.op)) blkWrite += e.value;
  }
  return { cpuPercent, mem, limit: m.limit ?? 0, memPercent: m.limit ? (mem / m.limit) * 100 : 0, blkRead, blkWrite, pids: json.pids_stats.current ?? 0 };
}

function fakeRecord(id: string, status: ContainerRecord['State']['Status'], pid = 0): ContainerRecord {
  return {
    Id: id, Name: `/n-${id.slice(0, 4)}`, State: { Status: status, Pid: pid }, Config: { Image: 'busybox' }, HostConfig: {},
  } as unknown as ContainerRecord;
}

function fakeStore(recs: ContainerRecord[]) {
  const byId = new Map(recs.map((r) => [r.Id, r]));
  return {
    recs: byId,
    find: (ref: string) => byId.get(ref),
    get: (ref: string) => {
      const r = byId.get(ref);
      if (!r) throw new EngineError(404, `No such container: ${ref}`);
      return r;
    },
  };
}

async function statsFixture(t: T) {
  const root = await tempDir(t, 'berth-statsvc-');
  const id = 'c0ffee'.padEnd(64, '0');
  await writeTree(root, {
    ...v1Tree(`/berth/${id}`),
    'proc/stat': 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n',
    'proc/4242/net/dev': 'h1\nh2\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n',
  });
  const rec = fakeRecord(id, 'running', 4242);
  const store = fakeStore([rec]);
  const svc = new ContainerStatsService({ store, cgroupParent: '/berth', layout: fixtureV1Layout(root), procRoot: join(root, 'proc'), machineMemory: 2 ** 30, intervalMs: 20 });
  // Between samples the container and the host use CPU, as the CLI's deltas need.
  const advance = async () => {
    await fsp.writeFile(join(root, `cpuacct/berth/${id}/cpuacct.usage`), '223456789\n');
    await fsp.writeFile(join(root, 'proc/stat'), 'cpu  150 0 150 900 0 0 0 0 0 0\ncpu0 75 0 75 450 0 0 0 0 0 0\ncpu1 75 0 75 450 0 0 0 0 0 0\n');
  };
  return { root, id, rec, store, svc, advance };
}

async function collect(svc: ContainerStatsService, rec: ContainerRecord, opts: { stream: boolean; oneShot: boolean }, max: number, onLine?: (n: number) => Promise<void>) {
  const lines: any[] = [];
  const abort = new AbortController();
  await svc.run(rec, opts, (line) => {
    assert.ok(line.endsWith('\n'));
    lines.push(JSON.parse(line));
    if (lines.length >= max) abort.abort();
    void onLine?.(lines.length);
  }, abort.signal);
  return lines;
}

test('stats stream=false samples twice (precpu filled) and gives what the docker CLI needs for its row', async (t) => {
  const f = await statsFixture(t);
  let sampled = 0;
  const svc = f.svc as unknown as { sample(rec: ContainerRecord): Promise<StatsJson> };
  const original = svc.sample.bind(svc);
  svc.sample = async (rec) => {
    if (sampled++ === 1) await f.advance();
    return original(rec);
  };
  const lines = await collect(f.svc, f.rec, { stream: false, oneShot: false }, 10);
  assert.equal(lines.length, 1);
  const [s] = lines;
  assert.equal(sampled, 2);
  assert.equal(s.name, f.rec.Name);
  assert.equal(s.id, f.id);
  assert.notEqual(s.preread, '0001-01-01T00:00:00Z');
  assert.equal(s.precpu_stats.cpu_usage.total_usage, 123456789);
  assert.equal(s.cpu_stats.online_cpus, 2);
  assert.deepEqual(s.networks, { eth0: { rx_bytes: 1000, rx_packets: 10, rx_errors: 0, rx_dropped: 0, tx_bytes: 2000, tx_packets: 20, tx_errors: 0, tx_dropped: 0 } });
  const row = cliRow(s);
  // 100 ms of container CPU over 2 s of host CPU time (2 CPUs) = 10 %.
  assert.ok(Math.abs(row.cpuPercent - 10) < 1e-9, String(row.cpuPercent));
  assert.equal(row.mem, 1048576 - 2048);
  assert.equal(row.limit, 2 ** 30);
  assert.ok(row.memPercent > 0);
  assert.deepEqual([row.blkRead, row.blkWrite], [4096, 8192]);
  assert.equal(row.pids, 3);
});

test('stats one-shot: one sample without precpu; a stopped container: zeroed stats; stream=true + one-shot is refused', async (t) => {
  const f = await statsFixture(t);
  const [one] = await collect(f.svc, f.rec, { stream: false, oneShot: true }, 10);
  assert.equal(one.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(one.preread, '0001-01-01T00:00:00Z');
  assert.equal(one.cpu_stats.cpu_usage.total_usage, 123456789);
  const stopped = fakeRecord('dead'.padEnd(64, '1'), 'exited');
  const [z] = await collect(f.svc, stopped, { stream: false, oneShot: false }, 10);
  assert.deepEqual(z, JSON.parse(encodeStats(emptyStats(stopped.Name, stopped.Id))));
  assert.throws(() => f.svc.open(f.id, { stream: true, oneShot: true }), (e: EngineError) => e.status === 400 && e.message === 'cannot have stream=true and one-shot=true');
  assert.throws(() => f.svc.open('nope', { stream: true, oneShot: false }), (e: EngineError) => e.status === 404);
});

test('stats stream: one object per interval, zeroed once the container stops, and the end when it is removed', async (t) => {
  const f = await statsFixture(t);
  const lines = await collect(f.svc, f.rec, { stream: true, oneShot: false }, 100, async (n) => {
    if (n === 2) f.store.recs.set(f.id, { ...f.rec, State: { ...f.rec.State, Status: 'exited' } } as ContainerRecord);
    if (n === 3) f.store.recs.delete(f.id);
  });
  assert.equal(lines.length, 3);
  assert.equal(lines[0].precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(lines[1].precpu_stats.cpu_usage.total_usage, 123456789);
  assert.equal(lines[2].read, '0001-01-01T00:00:00Z');
  assert.equal(lines[2].precpu_stats.cpu_usage.total_usage, 123456789, 'the zeroed frame still carries the last sample as precpu');
});

test('cgroup procs: the pids of a group and its sub-groups', async (t) => {
  const root = await tempDir(t, 'berth-cgprocs-');
  await writeTree(root, { 'pids/berth/x/cgroup.procs': '10\n12\n', 'pids/berth/x/sub/cgroup.procs': '11\n', 'pids/berth/x/sub/deeper/cgroup.procs': '' });
  assert.deepEqual(await procsUnder(join(root, 'pids/berth/x')), [10, 11, 12]);
  assert.deepEqual(await cgroupProcs({ version: 1, mounts: { pids: join(root, 'pids') } }, '/berth/x'), [10, 11, 12]);
  assert.deepEqual(await cgroupProcs({ version: 2, root: join(root, 'pids') }, '/berth/none'), []);
});

test('a real v1 cgroup: a process moved into it shows in procs, pids, memory and CPU', async (t) => {
  const layout = await detectCgroupLayout();
  if (layout.version !== 1 || !layout.mounts.pids || !layout.mounts.memory || !layout.mounts.cpuacct) {
    t.skip('needs cgroup v1 controllers');
    return;
  }
  const path = `/berth-unit-${randomBytes(4).toString('hex')}`;
  const dirs = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'].filter((c) => layout.mounts[c]).map((c) => join(layout.mounts[c]!, path));
  // The shell waits for a line, so that its work (and the exec) is charged inside the group.
  const child = spawn('/bin/busybox', ['sh', '-c', 'read go; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 30'], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    for (const d of dirs) await fsp.rmdir(d).catch(() => undefined);
  });
  for (const d of dirs) {
    await fsp.mkdir(d);
    await fsp.writeFile(join(d, 'cgroup.procs'), String(child.pid));
  }
  child.stdin!.end('go\n');
  let raw = (await openCgroupStats(layout, path).read()) as CgroupV1Stats;
  for (let i = 0; i < 100 && !((raw.cpu?.usage.total ?? 0n) > 0n && (raw.memory?.usage ?? 0n) > 0n); i++) {
    await new Promise((r) => setTimeout(r, 100));
    raw = (await openCgroupStats(layout, path).read()) as CgroupV1Stats;
  }
  assert.deepEqual(await cgroupProcs(layout, path), [child.pid]);
  assert.equal(raw.pids?.current, 1n);
  assert.ok((raw.memory?.usage ?? 0n) > 0n, 'memory charged');
  assert.ok((raw.cpu?.usage.total ?? 0n) > 0n, 'cpu charged');
  const part = statsFromCgroup(raw, BigInt(2 ** 40));
  assert.ok(Array.isArray(part.blkio_stats.io_service_bytes_recursive));
  assert.ok(existsSync(dirs[0]!));
});

test('top: rows of the wanted pids, the command in the last column, thread rows follow their process', () => {
  const out = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
root         200       1  0 10:01 ?        00:00:00 sleep 100
root           -       -  0 10:01 ?        00:00:00 -
root         300       1  0 10:02 ?        00:00:00 top -b
root           -       -  0 10:02 ?        00:00:00 -
`;
  const r = parsePsOutput(out, [200]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '200', '1', '0', '10:01', '?', '00:00:00', 'sleep 100'],
    ['root', '-', '-', '0', '10:01', '?', '00:00:00', '-'],
  ]);
  assert.throws(() => parsePsOutput('USER CMD\nroot x\n', [1]), /Couldn't find PID field in ps output/);
  assert.throws(() => parsePsOutput('PID CMD\nabc x\n', [1]), /Unexpected pid 'abc'/);
  assert.throws(() => validatePsArgs('-o user=PID'), /specifying "user=PID" is not allowed/);
  validatePsArgs('-o pid=PID');
});

test('top with the real ps: this process found by pid for -ef and aux; 409 for a stopped container; ps errors are 500', async () => {
  const running = fakeRecord('a'.repeat(64), 'running', process.pid);
  const paused = fakeRecord('b'.repeat(64), 'paused', process.pid);
  const stopped = fakeRecord('c'.repeat(64), 'exited');
  const store = fakeStore([running, paused, stopped]);
  const events: string[] = [];
  const deps = { store, pids: async () => [process.pid], events: (a: string) => void events.push(a) };
  const ef = await containerTop(deps, running.Id);
  assert.equal(ef.Titles[1], 'PID');
  assert.equal(ef.Processes.length, 1);
  assert.equal(ef.Processes[0]![1], String(process.pid));
  assert.match(ef.Processes[0]!.at(-1)!, /node/);
  const aux = await containerTop(deps, paused.Id, 'aux');
  assert.equal(aux.Titles[0], 'USER');
  assert.equal(aux.Titles.at(-1), 'COMMAND');
  assert.equal(aux.Processes[0]![1], String(process.pid));
  assert.deepEqual(events, ['top', 'top']);
  await assert.rejects(containerTop(deps, stopped.Id), (e: EngineError) => e.status === 409 && e.message === `container ${stopped.Id} is not running`);
  await assert.rejects(containerTop(deps, running.Id, '--no-such-option'), (e: EngineError) => e.status === 500 && e.message.startsWith('ps: '));
});
