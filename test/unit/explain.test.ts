// The explain module's readers on known inputs: /proc/<pid>/status, mountinfo, id maps,
// /proc/<pid>/cgroup, and the cgroup v2 limit files (a directory laid out as cgroupfs, so
// the v2 path runs where no cgroup2 hierarchy has controllers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIdMap, parseStatus, nsInode, userName } from '../../src/explain/proc-status.ts';
import { maskedState, parseMountinfo, readonlyState, toMountFacts } from '../../src/explain/mountinfo.ts';
import { parseProcCgroup, readCgroupFacts } from '../../src/explain/cgroup-limits.ts';

test('status: capability sets by name, NoNewPrivs, seccomp mode and ids', () => {
  const s = parseStatus(
    'Name:\tsleep\nUid:\t1000\t1000\t1000\t1000\nGid:\t50\t50\t50\t50\nGroups:\t10 50 \nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n',
  );
  assert.deepEqual(s.caps.Inheritable, []);
  assert.ok(s.caps.Effective.includes('CAP_CHOWN') && s.caps.Effective.includes('CAP_AUDIT_WRITE'));
  assert.equal(s.caps.Effective.length, 14);
  assert.equal(s.noNewPrivs, true);
  assert.equal(s.seccomp, 2);
  assert.equal(s.seccompFilters, 1);
  assert.deepEqual(s.uid, [1000, 1000, 1000, 1000]);
  assert.deepEqual(s.groups, [10, 50]);
  assert.equal(parseStatus('Seccomp:\t0\n').noNewPrivs, false);
});

test('id maps, user names and namespace links', () => {
  assert.deepEqual(parseIdMap('         0     100000      65536\n'), [{ ContainerId: 0, HostId: 100000, Size: 65536 }]);
  assert.equal(userName('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n', 65534), 'nobody');
  assert.equal(userName('root:x:0:0::/:/bin/sh\n', 7), '');
  assert.equal(nsInode('pid:[4026532253]'), 4026532253);
  assert.equal(nsInode('garbage'), 0);
});

const MOUNTINFO = [
  '100 90 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/a',
  '101 100 0:51 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '102 100 0:52 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k',
  '103 101 0:52 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw,size=65536k',
  '104 101 0:53 / /proc/acpi ro,relatime - tmpfs tmpfs ro',
  '105 101 0:51 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw',
  '106 100 8:1 /data/with\\040space /mnt/x rw,relatime shared:5 - ext4 /dev/sda1 rw',
].join('\n');

test('mountinfo: masked and read-only paths from the topmost mount, escapes and propagation', () => {
  const entries = parseMountinfo(MOUNTINFO);
  assert.equal(entries.length, 7);
  assert.deepEqual(maskedState(entries, '/proc/kcore', true), { Path: '/proc/kcore', State: 'masked', How: '/dev/null bind' });
  assert.deepEqual(maskedState(entries, '/proc/acpi', true), { Path: '/proc/acpi', State: 'masked', How: 'read-only tmpfs' });
  assert.equal(maskedState(entries, '/proc/keys', true).State, 'none');
  assert.equal(maskedState(entries, '/proc/scsi', false).State, 'absent');
  assert.deepEqual(readonlyState(entries, '/proc/sys', true), { Path: '/proc/sys', State: 'readonly', How: 'read-only proc bind' });
  // Under a read-only mount without one of its own: still read-only.
  assert.equal(readonlyState(entries, '/proc/sys/kernel', true).State, 'readonly');
  assert.equal(readonlyState(entries, '/proc/bus', true).State, 'none');
  const facts = toMountFacts(entries);
  const x = facts.find((m) => m.Destination === '/mnt/x');
  assert.deepEqual(x, { Destination: '/mnt/x', Type: 'ext4', Source: '/dev/sda1', Root: '/data/with space', Options: 'rw,relatime', ReadOnly: false, Propagation: 'shared:5' });
  assert.equal(facts[0]!.Propagation, 'private');
});

test('/proc/<pid>/cgroup: per-controller v1 paths and the unified path', () => {
  const p = parseProcCgroup('12:pids:/berth/abc\n4:cpu,cpuacct:/berth/abc\n1:name=systemd:/berth/abc\n0::/\n');
  assert.equal(p.v1.get('cpu'), '/berth/abc');
  assert.equal(p.v1.get('cpuacct'), '/berth/abc');
  assert.equal(p.v1.get('name=systemd'), '/berth/abc');
  assert.equal(p.unified, '/');
});

test('cgroup v2 limits read back from the files, with readings', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'explain-v2-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'berth', 'abc');
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {
    'memory.max': '67108864\n', 'memory.swap.max': 'max\n', 'cpu.max': '50000 100000\n', 'cpu.weight': '100\n',
    'pids.max': '50\n', 'io.max': '8:0 rbps=1048576 wbps=max riops=max wiops=max\n', 'cpuset.cpus.effective': '0-1\n',
  };
  for (const [f, v] of Object.entries(files)) await writeFile(join(dir, f), v);
  const facts = await readCgroupFacts({ version: 2, root }, '0::/berth/abc\n', '/berth/other');
  assert.equal(facts.Version, 2);
  assert.equal(facts.Path, '/berth/abc');
  const get = (f: string) => facts.Limits.find((l) => l.File === f);
  assert.deepEqual(get('memory.max'), { Controller: 'memory', File: 'memory.max', Value: '67108864', Meaning: '64MiB' });
  assert.equal(get('memory.swap.max')?.Meaning, 'unlimited');
  assert.equal(get('cpu.max')?.Meaning, '0.5 CPUs');
  assert.equal(get('pids.max')?.Meaning, '50 processes');
  assert.equal(get('io.max')?.Value, '8:0 rbps=1048576 wbps=max riops=max wiops=max');
  assert.equal(get('memory.high'), undefined, 'files the kernel lacks are left out');
  // Without a line for the unified hierarchy, the fallback path is read.
  const fallback = await readCgroupFacts({ version: 2, root }, '', '/berth/abc');
  assert.equal(fallback.Path, '/berth/abc');
  assert.equal(fallback.Limits.length, 7);
});
