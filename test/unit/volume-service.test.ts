// VolumeService over a temporary root: create/list/filters/remove/in-use/prune, the
// driver options, a tmpfs volume mounted at first use and unmounted at release, and
// records surviving a reopen (and interrupted creates cleaned).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumeService } from '../../src/volume/service.ts';
import { mountPoints, mountSpec, unmountAll } from '../../src/volume/mounts.ts';
import { ANONYMOUS_LABEL } from '../../src/volume/types.ts';
import { EngineError } from '../../src/util/errors.ts';

let base: string;
let root: string;
let used: Record<string, string[]>;
const opened: VolumeService[] = [];

async function open(): Promise<VolumeService> {
  const svc = await VolumeService.open(root, { inUse: (n) => used[n] ?? [] });
  opened.push(svc);
  return svc;
}

function rejectsWith(status: number, message: string) {
  return (err: unknown) => err instanceof EngineError && err.status === status && err.message === message;
}

describe('VolumeService', () => {
  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'berth-volumes-'));
    root = join(base, 'volumes');
    used = {};
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    // Anything a failed test left mounted under the root goes before the files.
    for (const p of await mountPoints()) if (p.startsWith(base + '/')) unmountAll(p);
    await fsp.rm(base, { recursive: true, force: true });
  });

  test('create, inspect, same name again, names and drivers', async () => {
    const svc = await open();
    const v = await svc.create({ Name: 'data', Labels: { a: '1' } });
    assert.equal(v.Name, 'data');
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.equal(v.Mountpoint, join(root, 'data', '_data'));
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(v.Labels, { a: '1' });
    assert.equal(v.Options, null);
    assert.ok((await fsp.stat(v.Mountpoint)).isDirectory());
    // The same name again returns the existing volume (its labels unchanged).
    const again = await svc.create({ Name: 'data', Driver: 'local', Labels: { b: '2' } });
    assert.deepEqual(again, v);
    assert.deepEqual(svc.inspect('data'), v);

    const anon = await svc.create({});
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });

    await assert.rejects(svc.create({ Name: 'x', Driver: 'nfs' }), rejectsWith(404, 'create x: error looking up volume plugin nfs: plugin "nfs" not found'));
    await assert.rejects(svc.create({ Name: 'data', Driver: 'nfs' }), rejectsWith(409, "create data: driver 'local' already has volume 'data': volume name must be unique"));
    await assert.rejects(svc.create({ Name: 'a' }), rejectsWith(400, 'create a: volume name is too short, names should be at least two alphanumeric characters'));
    await assert.rejects(
      svc.create({ Name: 'a/b' }),
      rejectsWith(400, 'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'),
    );
    await assert.rejects(svc.create({ Name: 'bad', DriverOpts: { foo: '1' } }), rejectsWith(400, 'create bad: invalid option: "foo"'));
    await assert.rejects(svc.create({ Name: 'bad', DriverOpts: { type: 'tmpfs' } }), rejectsWith(400, 'create bad: missing required option: "device"'));
    assert.throws(() => svc.inspect('nope'), rejectsWith(404, 'get nope: no such volume'));
    assert.deepEqual((await fsp.readdir(root)).sort(), [anon.Name, 'data'].sort());
  });

  test('list filters: name, label, driver, dangling', async () => {
    const svc = await open();
    await svc.create({ Name: 'web-data', Labels: { app: 'web', tier: 'front' } });
    await svc.create({ Name: 'db-data', Labels: { app: 'db' } });
    await svc.create({ Name: 'cache' });
    used['db-data'] = ['c'.repeat(64)];
    const names = async (f: Record<string, string[]>) => (await svc.list(f)).Volumes.map((v) => v.Name);
    assert.deepEqual(await names({}), ['cache', 'db-data', 'web-data']);
    assert.deepEqual(await names({ name: ['data'] }), ['db-data', 'web-data']);
    assert.deepEqual(await names({ name: ['^web'] }), ['web-data']);
    assert.deepEqual(await names({ label: ['app'] }), ['db-data', 'web-data']);
    assert.deepEqual(await names({ label: ['app=web'] }), ['web-data']);
    assert.deepEqual(await names({ label: ['app', 'tier=front'] }), ['web-data']);
    assert.deepEqual(await names({ driver: ['local'] }), ['cache', 'db-data', 'web-data']);
    assert.deepEqual(await names({ driver: ['nfs'] }), []);
    assert.deepEqual(await names({ dangling: ['true'] }), ['cache', 'web-data']);
    assert.deepEqual(await names({ dangling: ['0'] }), ['db-data']);
    await assert.rejects(svc.list({ dangling: ['maybe'] }), rejectsWith(400, "invalid filter 'dangling=maybe'"));
    await assert.rejects(svc.list({ until: ['1h'] }), rejectsWith(400, "invalid filter 'until'"));
    assert.equal((await svc.list()).Warnings, null);
  });

  test('remove: in use, missing, force', async () => {
    const svc = await open();
    await svc.create({ Name: 'busy' });
    await svc.create({ Name: 'free' });
    used.busy = ['a'.repeat(64), 'b'.repeat(64)];
    await assert.rejects(svc.remove('busy'), rejectsWith(409, `remove busy: volume is in use - [${'a'.repeat(64)}, ${'b'.repeat(64)}]`));
    await assert.rejects(svc.remove('busy', true), rejectsWith(409, `remove busy: volume is in use - [${'a'.repeat(64)}, ${'b'.repeat(64)}]`));
    // Mount holders count as users too.
    await svc.use('free', 'd'.repeat(64));
    await assert.rejects(svc.remove('free'), rejectsWith(409, `remove free: volume is in use - [${'d'.repeat(64)}]`));
    await svc.unuse('free', 'd'.repeat(64));
    await svc.remove('free');
    assert.deepEqual((await svc.list()).Volumes.map((v) => v.Name), ['busy']);
    await assert.rejects(fsp.stat(join(root, 'free')), { code: 'ENOENT' });
    await assert.rejects(svc.remove('free'), rejectsWith(404, 'get free: no such volume'));
    await svc.remove('free', true); // forced: a missing volume is no error
  });

  test('prune: anonymous only unless all, labels, in use kept, space reclaimed', async () => {
    const svc = await open();
    const anon1 = await svc.create({});
    const anon2 = await svc.create({ Labels: { keep: 'yes' } });
    const anonBusy = await svc.create({});
    await svc.create({ Name: 'named', Labels: { env: 'dev' } });
    await svc.create({ Name: 'named2' });
    used[anonBusy.Name] = ['e'.repeat(64)];
    await fsp.writeFile(join(anon1.Mountpoint, 'f'), Buffer.alloc(1000));

    const first = await svc.prune({ 'label!': ['keep=yes'] });
    assert.deepEqual(first, { VolumesDeleted: [anon1.Name], SpaceReclaimed: 1000 });
    const second = await svc.prune({ all: ['true'], label: ['env=dev'] });
    assert.deepEqual(second, { VolumesDeleted: ['named'], SpaceReclaimed: 0 });
    const third = await svc.prune({ all: ['1'] });
    assert.deepEqual(third.VolumesDeleted, [anon2.Name, 'named2'].sort());
    assert.deepEqual((await svc.list()).Volumes.map((v) => v.Name), [anonBusy.Name]);
    await assert.rejects(svc.prune({ until: ['1h'] }), rejectsWith(400, "invalid filter 'until'"));
    await assert.rejects(svc.prune({ all: ['maybe'] }), rejectsWith(400, `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax`));
  });

  test('usage data on request', async () => {
    const svc = await open();
    const v = await svc.create({ Name: 'sized' });
    await fsp.mkdir(join(v.Mountpoint, 'sub'));
    await fsp.writeFile(join(v.Mountpoint, 'sub', 'a'), Buffer.alloc(300));
    await fsp.link(join(v.Mountpoint, 'sub', 'a'), join(v.Mountpoint, 'b'));
    used.sized = ['f'.repeat(64)];
    const [listed] = (await svc.list({}, true)).Volumes;
    assert.deepEqual(listed!.UsageData, { Size: 300, RefCount: 1 });
    assert.equal((await svc.list()).Volumes[0]!.UsageData, undefined);
  });

  test('a tmpfs volume is mounted at first use with its size and unmounted at release', async () => {
    const svc = await open();
    const v = await svc.create({ Name: 'scratch', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=8m,uid=1000,nosuid' } });
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=8m,uid=1000,nosuid' });
    assert.ok(!(await mountPoints()).includes(v.Mountpoint), 'not mounted at create');

    await svc.use('scratch', 'c1');
    await svc.use('scratch', 'c2');
    const path = await svc.mountPath('scratch');
    assert.equal(path, v.Mountpoint);
    const info = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === path);
    assert.ok(info, 'mounted at first use');
    assert.match(info!, / - tmpfs tmpfs /);
    assert.match(info!, /nosuid/);
    const st = statfsSync(path);
    assert.equal(st.blocks * st.bsize, 8 * 1024 * 1024);
    assert.equal((await fsp.stat(path)).uid, 1000);
    assert.equal(await svc.mountPath('scratch'), path); // a second user: no second mount
    assert.equal((await mountPoints()).filter((p) => p === path).length, 1);

    await svc.unuse('scratch', 'c1');
    assert.ok((await mountPoints()).includes(path), 'still held by c2');
    await svc.unuse('scratch', 'c2');
    assert.ok(!(await mountPoints()).includes(path), 'unmounted once released');
    assert.equal(svc.isMounted('scratch'), false);

    // close() unmounts whatever is still mounted; remove unmounts an unused mounted volume.
    await svc.mountPath('scratch');
    await svc.close();
    assert.ok(!(await mountPoints()).includes(path));
    await svc.mountPath('scratch');
    await svc.remove('scratch');
    assert.ok(!(await mountPoints()).includes(path));
    await assert.rejects(fsp.stat(join(root, 'scratch')), { code: 'ENOENT' });
  });

  test('a bind volume (type none, o=bind) shows the device directory', async () => {
    const svc = await open();
    const src = join(base, 'src');
    await fsp.mkdir(src);
    await fsp.writeFile(join(src, 'hello'), 'hi');
    await svc.create({ Name: 'bound', DriverOpts: { type: 'none', device: src, o: 'bind' } });
    const path = await svc.mountPath('bound');
    assert.equal(await fsp.readFile(join(path, 'hello'), 'utf8'), 'hi');
    await svc.release('bound');
    await assert.rejects(fsp.stat(join(path, 'hello')), { code: 'ENOENT' });
    assert.equal(await fsp.readFile(join(src, 'hello'), 'utf8'), 'hi');
  });

  test('a failing mount reports dockerd-like text and leaves nothing mounted', async () => {
    const svc = await open();
    await svc.create({ Name: 'broken', DriverOpts: { type: 'nosuchfs', device: 'x' } });
    await assert.rejects(svc.mountPath('broken'), (err: unknown) => err instanceof EngineError && err.status === 500 && /^error while mounting volume '.*\/broken\/_data': failed to mount local volume: mount x:/.test(err.message));
    assert.equal(svc.isMounted('broken'), false);
  });

  test('records survive a reopen; interrupted creates and removals are cleaned; mounts are adopted', async () => {
    const svc = await open();
    await svc.create({ Name: 'keep', Labels: { l: 'v' }, DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=4m' } });
    const before = svc.inspect('keep');
    const path = await svc.mountPath('keep');
    // What a kill -9 in the middle of a create or a remove leaves behind.
    await fsp.mkdir(join(root, '.tmp-half-0a0b0c0d', '_data'), { recursive: true });
    await fsp.mkdir(join(root, '.rm-gone-0a0b0c0d', '_data'), { recursive: true });
    await fsp.writeFile(join(root, 'keep', 'volume.json.tmp-1-0a0b0c0d'), '{');

    const again = await open(); // a second daemon life while the first one's mount remains
    assert.deepEqual(again.inspect('keep'), before);
    assert.deepEqual((await fsp.readdir(root)).sort(), ['keep']);
    assert.deepEqual((await fsp.readdir(join(root, 'keep'))).sort(), ['_data', 'volume.json']);
    assert.equal(again.isMounted('keep'), true, 'the mount left by the previous life is adopted');
    await again.close();
    assert.ok(!(await mountPoints()).includes(path));
  });

  test('mount option words split into flags and data', () => {
    assert.deepEqual(mountSpec({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' }), { source: 'tmpfs', fstype: 'tmpfs', flags: 0, data: 'size=64m,uid=1000' });
    assert.deepEqual(mountSpec({ type: 'none', device: '/srv', o: 'bind,ro' }), { source: '/srv', fstype: null, flags: 4096 | 1, data: '' });
  });
});
