// The cgroup warm-up: which cgroup.procs file berthd writes, and that it writes its pid there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupWarmup, ownCgroupProcs } from '../../src/container/cgroup-warmup.ts';

async function fakeHost(t: { after: (fn: () => Promise<void>) => void }, procSelfCgroup: string, procsFiles: string[]) {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-cgwarm-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'cgroup');
  for (const f of procsFiles) {
    await fsp.mkdir(join(root, f, '..'), { recursive: true });
    await fsp.writeFile(join(root, f), `1\n${process.pid}\n`);
  }
  await fsp.writeFile(join(dir, 'self-cgroup'), procSelfCgroup);
  return { root, self: join(dir, 'self-cgroup') };
}

test('finds its own cgroup.procs on a v2 host', async (t) => {
  const h = await fakeHost(t, '0::/system.slice/berthd.service\n', ['system.slice/berthd.service/cgroup.procs']);
  assert.equal(ownCgroupProcs(h.self, h.root), join(h.root, 'system.slice/berthd.service/cgroup.procs'));
});

test('on a hybrid host: the first listed hierarchy that is mounted, named ones included', async (t) => {
  const text = '12:pids:/a\n9:name=systemd:/b\n1:cpu,cpuacct:/c\n0::/d\n';
  const h = await fakeHost(t, text, ['systemd/b/cgroup.procs', 'cpu,cpuacct/c/cgroup.procs', 'unified/d/cgroup.procs']);
  assert.equal(ownCgroupProcs(h.self, h.root), join(h.root, 'systemd/b/cgroup.procs'));
  const v2only = await fakeHost(t, '0::/d\n', ['unified/d/cgroup.procs']);
  assert.equal(ownCgroupProcs(v2only.self, v2only.root), join(v2only.root, 'unified/d/cgroup.procs'));
});

test('a cgroup.procs that does not list this process is not its own', async (t) => {
  const h = await fakeHost(t, '0::/\n8:pids:/p\n', ['pids/p/cgroup.procs']);
  await fsp.writeFile(join(h.root, 'cgroup.procs'), '1\n2\n'); // e.g. another namespace's root
  assert.equal(ownCgroupProcs(h.self, h.root), join(h.root, 'pids/p/cgroup.procs'));
  await fsp.writeFile(join(h.root, 'pids/p/cgroup.procs'), '1\n');
  assert.equal(ownCgroupProcs(h.self, h.root), undefined);
});

test('nothing to write when no hierarchy is found', async (t) => {
  const h = await fakeHost(t, '5:memory:/x\n', []);
  assert.equal(ownCgroupProcs(h.self, h.root), undefined);
  assert.equal(ownCgroupProcs(join(h.root, 'missing'), h.root), undefined);
  new CgroupWarmup(undefined).kick(); // no file: does nothing, throws nothing
});

test('kick writes the own pid, one write at a time, and never throws', async (t) => {
  const h = await fakeHost(t, '0::/\n', ['cgroup.procs']);
  const procs = join(h.root, 'cgroup.procs');
  await fsp.writeFile(procs, '');
  const w = new CgroupWarmup(procs);
  w.kick();
  w.kick(); // while one is under way: nothing more
  const deadline = Date.now() + 10_000;
  while ((await fsp.readFile(procs, 'utf8')) === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(await fsp.readFile(procs, 'utf8'), String(process.pid));
  new CgroupWarmup(join(h.root, 'no', 'such', 'dir', 'cgroup.procs')).kick(); // fails quietly
});
