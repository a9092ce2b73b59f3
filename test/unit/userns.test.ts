// --userns-remap's pieces on temp files: subordinate id files (reading, finding a free
// range, adding one as for "default"), USER[:GROUP]/UID[:GID] resolution with dockerd's
// errors, and layers unpacked with ownership shifted into the range.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RANGE_SIZE,
  addSubordinateRanges,
  checkUsernsConflicts,
  nextRangeStart,
  parseSubIds,
  resolveRemap,
  rootPair,
  shifter,
  unshifter,
  usernsFor,
  withRangeFor,
  type IdFiles,
} from '../../src/runtime/userns.ts';
import { applyTar } from '../../src/snapshot/apply.ts';
import { buildTar } from './snapshotter-suite.ts';
import { generateSpec, hostFacts } from '../../src/runtime/spec.ts';

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

test('subordinate id lines are read; comments and malformed lines skipped', () => {
  assert.deepEqual(parseSubIds('# c\nalice:100000:65536\nbad\n1001:200000:10\nx:1:0\n'), [
    { name: 'alice', start: 100000, count: 65536 },
    { name: '1001', start: 200000, count: 10 },
  ]);
});

test('a new range starts at 100000 or after the ranges it would overlap', () => {
  assert.equal(nextRangeStart([]), 100000);
  assert.equal(nextRangeStart(parseSubIds('a:100000:65536\n')), 165536);
  assert.equal(nextRangeStart(parseSubIds('b:165536:65536\na:100000:65536\n')), 231072);
  // A gap too small for a whole range is skipped; one below 100000 is ignored.
  assert.equal(nextRangeStart(parseSubIds('a:1000:10\nb:100000:100\nc:130000:10\n')), 130010);
  assert.equal(nextRangeStart(parseSubIds('a:300000:65536\n')), 100000);
});

test('a range is added only for a user without one (by name or uid)', () => {
  assert.equal(withRangeFor('x:100000:65536', 'berthremap', 999), 'x:100000:65536\nberthremap:165536:65536\n');
  assert.equal(withRangeFor('berthremap:500000:10\n', 'berthremap', 999), undefined);
  assert.equal(withRangeFor('999:500000:10\n', 'berthremap', 999), undefined);
});

describe('with temp id files', () => {
  let base: string;
  let files: IdFiles;

  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'berth-userns-unit-'));
    files = { passwd: join(base, 'passwd'), group: join(base, 'group'), subuid: join(base, 'subuid'), subgid: join(base, 'subgid') };
    await fsp.writeFile(files.passwd, 'root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\nbob:x:1002:1002::/:/bin/false\nberthremap:x:998:998::/:/bin/false\n');
    await fsp.writeFile(files.group, 'root:x:0:\nalice:x:1001:\nstaff:x:50:\n');
    await fsp.writeFile(files.subuid, 'alice:100000:65536\n1001:300000:1000\n');
    await fsp.writeFile(files.subgid, 'alice:200000:65536\n');
  });

  afterEach(async () => {
    await fsp.rm(base, { recursive: true, force: true });
  });

  test('USER uses both files, ranges stacked from container id 0', async () => {
    const m = await resolveRemap('alice', files);
    assert.ok(m);
    assert.equal(m.user, 'alice');
    assert.equal(m.group, 'alice');
    assert.deepEqual(m.uids, [
      { containerID: 0, hostID: 100000, size: 65536 },
      { containerID: 65536, hostID: 300000, size: 1000 },
    ]);
    assert.deepEqual(m.gids, [{ containerID: 0, hostID: 200000, size: 65536 }]);
    assert.deepEqual(rootPair(m), { uid: 100000, gid: 200000 });
    const shift = shifter(m);
    assert.deepEqual(shift(65537, 5), [300001, 200005]);
    assert.throws(() => shift(0, 70000), /Container ID 70000 cannot be mapped to a host ID/);
    // commit packs the host's files back into the layer's ids.
    const unshift = unshifter(m);
    assert.deepEqual(unshift(300001, 200005), [65537, 5]);
    assert.throws(() => unshift(0, 200000), /Host ID 0 cannot be mapped to a container ID/);
  });

  test('UID, UID:GID and USER:GROUP forms resolve names as dockerd does', async () => {
    assert.equal((await resolveRemap('1001', files))?.group, 'alice');
    assert.equal((await resolveRemap('1001:50', files))?.group, 'staff');
    assert.equal((await resolveRemap('alice:staff', files))?.group, 'staff');
    assert.equal(await resolveRemap('root', files), undefined);
    assert.equal(await resolveRemap('', files), undefined);
  });

  test("dockerd's errors for bad specifications and users without ranges", async () => {
    await assert.rejects(resolveRemap('a:b:c', files), /^Error: Invalid user\/group specification in --userns-remap: "a:b:c"$/);
    await assert.rejects(resolveRemap('nobody1', files), /Error during uid lookup for "nobody1"/);
    await assert.rejects(resolveRemap('4242', files), /Uid 4242 has no entry in \/etc\/passwd/);
    await assert.rejects(resolveRemap('bob', files), /Error during gid lookup for "bob"/);
    await assert.rejects(resolveRemap('alice:nogroup', files), /Error during groupname lookup for "nogroup"/);
    await assert.rejects(resolveRemap('bob:staff', files), /^Error: Can't create ID mappings: no subuid ranges found for user "bob"$/);
  });

  test('"default" gives berthremap ranges after the existing ones', async () => {
    await addSubordinateRanges('berthremap', 998, files);
    assert.equal(await fsp.readFile(files.subuid, 'utf8'), `alice:100000:65536\n1001:300000:1000\nberthremap:165536:${RANGE_SIZE}\n`);
    assert.equal(await fsp.readFile(files.subgid, 'utf8'), `alice:200000:65536\nberthremap:100000:${RANGE_SIZE}\n`);
    // Idempotent: a second daemon start adds nothing.
    await addSubordinateRanges('berthremap', 998, files);
    assert.equal((await fsp.readFile(files.subuid, 'utf8')).split('berthremap').length, 2);
    const m = await resolveRemap('berthremap', { ...files, group: files.passwd });
    assert.deepEqual(m && rootPair(m), { uid: 165536, gid: 100000 });
  });

  test('containers get the mappings unless --userns host; conflicting options are refused', async () => {
    const m = (await resolveRemap('alice', files))!;
    assert.deepEqual(usernsFor({}, m)?.uidMappings[0], { containerID: 0, hostID: 100000, size: 65536 });
    assert.equal(usernsFor({ UsernsMode: 'host' }, m), undefined);
    assert.equal(usernsFor({}, undefined), undefined);
    assert.throws(() => checkUsernsConflicts({ Privileged: true }, m), /privileged mode is incompatible with user namespaces/);
    assert.throws(() => checkUsernsConflicts({ PidMode: 'host' }, m), /cannot share the host PID namespace when user namespaces are enabled/);
    checkUsernsConflicts({ Privileged: true, UsernsMode: 'host' }, m);
    checkUsernsConflicts({ Privileged: true }, undefined);
  });

  test('a layer is unpacked with its owners shifted into the range', async () => {
    const m = (await resolveRemap('alice', files))!;
    const root = join(base, 'layer');
    const tar = await buildTar([
      { name: 'etc/', type: 'dir', mode: 0o755 },
      { name: 'etc/shadow', type: 'file', mode: 0o640, uid: 0, gid: 42, body: 'x' },
      { name: 'home/u/f', type: 'file', mode: 0o644, uid: 1000, gid: 1000, body: 'y' },
      { name: 'etc/.wh.gone', type: 'file', mode: 0o644 },
    ]);
    await applyTar(root, once(tar), { format: 'overlay', mapIds: shifter(m) });
    const owner = async (p: string) => {
      const st = await fsp.lstat(join(root, p));
      return [st.uid, st.gid];
    };
    assert.deepEqual(await owner(''), [100000, 200000]);
    assert.deepEqual(await owner('etc'), [100000, 200000]);
    assert.deepEqual(await owner('etc/shadow'), [100000, 200042]);
    assert.deepEqual(await owner('home'), [100000, 200000]); // made for a parent-less entry
    assert.deepEqual(await owner('home/u/f'), [101000, 201000]);
    assert.deepEqual(await owner('etc/gone'), [100000, 200000]); // the whiteout
  });

  test('the spec gets a user namespace with the mappings, and joins the owner of joined namespaces', async () => {
    const m = (await resolveRemap('alice', files))!;
    const rootfs = join(base, 'rootfs');
    await fsp.mkdir(rootfs);
    const host = await hostFacts();
    const input = { id: 'a'.repeat(64), config: { Image: 'x', Cmd: ['true'] }, hostConfig: {}, rootfs, cgroupsPath: '/t/x', userns: usernsFor({}, m) };
    const spec = await generateSpec(input, host);
    assert.deepEqual(spec.linux.namespaces.filter((n) => n.type === 'user'), [{ type: 'user' }]);
    assert.deepEqual(spec.linux.uidMappings, m.uids);
    assert.deepEqual(spec.linux.gidMappings, m.gids);
    // Ping sockets for every gid cannot be granted inside a remapped namespace (Docker leaves it out).
    assert.equal(spec.linux.sysctl?.['net.ipv4.ping_group_range'], undefined);
    const joined = await generateSpec({ ...input, hostConfig: { NetworkMode: 'container:b' }, namespacePaths: { network: '/proc/4242/ns/net' } }, host);
    assert.deepEqual(joined.linux.namespaces.filter((n) => n.type === 'user'), [{ type: 'user', path: '/proc/4242/ns/user' }]);
    const plain = await generateSpec({ ...input, userns: undefined }, host);
    assert.equal(plain.linux.namespaces.some((n) => n.type === 'user'), false);
    assert.equal(plain.linux.uidMappings, undefined);
    assert.equal(plain.linux.sysctl?.['net.ipv4.ping_group_range'], host.defaultNetSysctls['net.ipv4.ping_group_range']);
    assert.ok(host.defaultNetSysctls['net.ipv4.ping_group_range'], 'the host offers the sysctl the remapped spec leaves out');
  });
});
