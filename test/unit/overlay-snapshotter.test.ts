// The overlay snapshotter: the shared contract suite, then what is particular to overlay:
// its on-disk layout, short layer links, crash repair, copy-up of hardlink targets, and
// committing a container's upper dir as a new layer (packOverlayDiff).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTar, chainIdOf, listing, sha256, snapshotterSuite } from './snapshotter-suite.ts';
import type { TarSpec } from './snapshotter-suite.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';
import { mountAll, unmount } from '../../src/snapshot/mount.ts';
import { packOverlayDiff, readTar } from '../../src/archive/tar.ts';
import * as native from '../../src/util/native.ts';
import { lgetxattr } from '../../src/util/native.ts';

snapshotterSuite('overlay', (root) => new OverlaySnapshotter(root));

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(b);
  return Buffer.concat(parts);
}

describe('OverlaySnapshotter specifics', () => {
  let base: string;
  let root: string;
  let s: OverlaySnapshotter;
  const mounted: string[] = [];

  const mountAt = async (name: string, mounts: Awaited<ReturnType<OverlaySnapshotter['mounts']>>) => {
    const target = join(base, `mnt-${name}`);
    await fsp.mkdir(target);
    mounted.push(target);
    await mountAll(mounts, target);
    return target;
  };

  const apply = async (diffIds: string[], spec: TarSpec) => {
    const t = await buildTar(spec);
    const parent = diffIds.length ? chainIdOf(diffIds) : undefined;
    diffIds.push(sha256(t));
    await s.applyLayer(parent, chainIdOf(diffIds), once(t), sha256(t));
    return chainIdOf(diffIds);
  };

  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'berth-overlay-'));
    root = join(base, 'root');
    s = new OverlaySnapshotter(root);
    await s.init();
  });

  afterEach(async () => {
    for (const m of mounted.splice(0)) await unmount(m);
    await fsp.rm(base, { recursive: true, force: true });
  });

  test('layers are stored with overlayfs whiteouts and opaque xattrs, linked from l/', async () => {
    const ids: string[] = [];
    const c1 = await apply(ids, [{ name: 'd/', type: 'dir' }, { name: 'd/x', type: 'file', body: 'x' }, { name: 'f', type: 'file', body: 'f' }]);
    const c2 = await apply(ids, [{ name: '.wh.f', type: 'file' }, { name: 'd/', type: 'dir' }, { name: 'd/.wh..wh..opq', type: 'file' }]);
    const diff2 = s.diffDir(c2);
    const wh = await fsp.lstat(join(diff2, 'f'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(lgetxattr(join(diff2, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.deepEqual(await fsp.readdir(diff2), ['d', 'f']);
    const hex2 = c2.slice(7);
    assert.equal(await fsp.readFile(join(root, 'snapshots', hex2, 'parent'), 'utf8'), c1);
    const link = await fsp.readFile(join(root, 'snapshots', hex2, 'link'), 'utf8');
    assert.match(link, /^[A-Z0-9]{12}$/);
    assert.equal(await fsp.readlink(join(root, 'l', link)), `../snapshots/${hex2}/diff`);

    const [m] = await s.prepare('c', c2);
    const lower = m!.options.find((o) => o.startsWith('lowerdir='))!;
    const link1 = await fsp.readFile(join(root, 'snapshots', c1.slice(7), 'link'), 'utf8');
    assert.equal(lower, `lowerdir=${join(root, 'l', link)}:${join(root, 'l', link1)}`);
    assert.ok(m!.options.includes(`upperdir=${s.upperDir('c')}`));
    assert.ok(m!.options.includes('index=off'));
    const [scratch] = await s.prepare('scratch', undefined);
    assert.ok(scratch!.options.includes(`lowerdir=${join(root, 'empty')}`));
  });

  test('init() removes dangling links and restores missing ones', async () => {
    const c1 = await apply([], [{ name: 'a', type: 'file', body: 'a' }]);
    const link = await fsp.readFile(join(root, 'snapshots', c1.slice(7), 'link'), 'utf8');
    // A crash after creating a layer's link but before committing the layer:
    await fsp.symlink('../snapshots/' + 'f'.repeat(64) + '/diff', join(root, 'l', 'DANGLING0000'));
    await fsp.mkdir(join(root, 'tmp', 'leftover', 'diff'), { recursive: true });
    // And a committed layer whose link went missing:
    await fsp.rm(join(root, 'l', link));
    await new OverlaySnapshotter(root).init();
    assert.deepEqual(await fsp.readdir(join(root, 'l')), [link]);
    assert.deepEqual(await fsp.readdir(join(root, 'tmp')), []);
    const m = await mountAt('c', await s.prepare('c', c1));
    assert.equal(await fsp.readFile(join(m, 'a'), 'utf8'), 'a');
  });

  test('a hardlink to a file of a lower layer copies that file up', async () => {
    const ids: string[] = [];
    await apply(ids, [{ name: 'bin/', type: 'dir' }, { name: 'bin/busybox', type: 'file', mode: 0o4755, uid: 7, body: 'bb' }]);
    const c2 = await apply(ids, [{ name: 'bin/sh', type: 'hardlink', linkname: 'bin/busybox' }]);
    const diff = s.diffDir(c2);
    const a = await fsp.lstat(join(diff, 'bin/busybox'));
    const b = await fsp.lstat(join(diff, 'bin/sh'));
    assert.equal(a.ino, b.ino);
    assert.equal(a.mode & 0o7777, 0o4755);
    assert.equal(a.uid, 7);
    assert.equal(await fsp.readFile(join(diff, 'bin/sh'), 'utf8'), 'bb');
  });

  test('trusted.overlay.* xattrs in a layer tar are not applied', async () => {
    const c = await apply([], [
      { name: 'd/', type: 'dir', xattrs: { 'trusted.overlay.redirect': Buffer.from('/etc'), 'user.keep': Buffer.from('1') } },
    ]);
    const d = join(s.diffDir(c), 'd');
    assert.equal(lgetxattr(d, 'trusted.overlay.redirect'), null);
    assert.equal(lgetxattr(d, 'user.keep')?.toString(), '1');
  });

  test("a container's upper dir packed by packOverlayDiff applies as a layer giving the same view", async () => {
    const ids: string[] = [];
    const c1 = await apply(ids, [
      { name: 'etc/', type: 'dir' }, { name: 'etc/keep', type: 'file', body: 'k' }, { name: 'etc/drop', type: 'file', body: 'd' },
      { name: 'opt/', type: 'dir' }, { name: 'opt/old', type: 'file', body: 'o' },
    ]);
    const m = await mountAt('c', await s.prepare('c', c1));
    await fsp.rm(join(m, 'etc/drop'));
    await fsp.rm(join(m, 'opt'), { recursive: true });
    await fsp.mkdir(join(m, 'opt'));
    await fsp.writeFile(join(m, 'opt/fresh'), 'f');
    await fsp.writeFile(join(m, 'etc/keep'), 'k2');

    const layer = await collect(packOverlayDiff(s.upperDir('c')));
    const names: string[] = [];
    for await (const e of readTar(once(layer))) names.push(e.header.name);
    assert.ok(names.includes('etc/.wh.drop'), names.join(' '));
    assert.ok(names.includes('opt/.wh..wh..opq'), names.join(' '));

    ids.push(sha256(layer));
    await s.applyLayer(c1, chainIdOf(ids), once(layer), sha256(layer));
    const m2 = await mountAt('c2', await s.prepare('c2', chainIdOf(ids)));
    assert.deepEqual(await listing(m2), await listing(m));
    assert.equal(await fsp.readFile(join(m2, 'etc/keep'), 'utf8'), 'k2');
  });

  test('mountAll mounts overlays whose options exceed a page, using relative paths', async () => {
    const lowers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = join(base, 'lower-with-a-rather-long-directory-name-' + String(i).padStart(3, '0'));
      await fsp.mkdir(d);
      await fsp.writeFile(join(d, `f${i}`), String(i));
      lowers.push(d);
    }
    await fsp.mkdir(join(base, 'up'));
    await fsp.mkdir(join(base, 'wk'));
    const options = [`lowerdir=${lowers.join(':')}`, `upperdir=${join(base, 'up')}`, `workdir=${join(base, 'wk')}`];
    assert.ok(options.join(',').length > 4096);
    const cwd = process.cwd();
    const m = await mountAt('long', [{ type: 'overlay', source: 'overlay', options }]);
    assert.equal(process.cwd(), cwd);
    assert.equal((await fsp.readdir(m)).length, 60);
    // Mounting on top of it and unmounting peels every layer.
    await mountAll([{ type: 'bind', source: lowers[0]!, options: ['bind', 'ro'] }], m);
    assert.deepEqual(await fsp.readdir(m), ['f0']);
    await assert.rejects(fsp.writeFile(join(m, 'x'), 'x'), (e: NodeJS.ErrnoException) => e.code === 'EROFS');
    await unmount(m);
    assert.deepEqual(await fsp.readdir(m), []);
  });

  test('the native addon throws Node-style errors and agrees on mount constants', async () => {
    const missing = join(base, 'missing', 'node');
    assert.throws(() => native.mknod(missing, constants.S_IFIFO | 0o600), {
      code: 'ENOENT', errno: -2, syscall: 'mknod', path: missing, message: `ENOENT: no such file or directory, mknod '${missing}'`,
    });
    assert.throws(() => native.umount2(base, native.MNT_DETACH), { code: 'EINVAL', syscall: 'umount2' });
    assert.equal(native.lgetxattr(base, 'user.absent'), null);
    const addon = native.nativeAddon();
    for (const name of ['MS_RDONLY', 'MS_NOSUID', 'MS_NODEV', 'MS_NOEXEC', 'MS_REMOUNT', 'MS_BIND', 'MS_REC', 'MS_PRIVATE', 'MS_SLAVE', 'MS_SHARED', 'MNT_FORCE', 'MNT_DETACH'] as const) {
      assert.equal(native[name], addon[name], name);
    }
    await unmount(base); // not mounted: not an error
  });

  test('a device node in a layer keeps its numbers', async () => {
    const c = await apply([], [{ name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }]);
    const st = await fsp.lstat(join(s.diffDir(c), 'null'));
    assert.ok(st.isCharacterDevice());
    assert.equal(st.rdev, (1 << 8) | 3);
    assert.equal(st.mode & 0o777, 0o666);
    assert.equal(st.mode & constants.S_IFMT, constants.S_IFCHR);
    assert.ok(existsSync(join(s.diffDir(c), 'null')));
  });
});
