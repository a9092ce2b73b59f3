// applyTar: whiteouts in both formats, metadata kept exactly, lower-layer lookups, and
// every hostile archive refused without a byte written outside the root.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyTar } from '../../src/snapshot/apply.ts';
import { lgetxattr, mknod } from '../../src/util/native.ts';
import { buildTar, listing, sha256 } from './snapshotter-suite.ts';
import type { TarSpec } from './snapshotter-suite.ts';

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

const T1 = new Date('2020-01-02T03:04:05Z');
const T2 = new Date('2019-06-07T08:09:10Z');

describe('applyTar', () => {
  let base: string;
  let root: string;
  let sentinel: string;

  const apply = async (spec: TarSpec, format: 'overlay' | 'plain' = 'plain', lowerDirs?: string[]) =>
    applyTar(root, once(await buildTar(spec)), { format, lowerDirs });

  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'berth-apply-'));
    root = join(base, 'root');
    sentinel = join(base, 'sentinel');
    await fsp.mkdir(root);
    await fsp.mkdir(sentinel);
    await fsp.writeFile(join(sentinel, 'secret'), 'secret');
  });

  afterEach(async () => {
    await fsp.rm(base, { recursive: true, force: true });
  });

  test('the digest and size cover every byte of the stream, trailing padding included', async () => {
    const tar = Buffer.concat([await buildTar([{ name: 'f', type: 'file', body: 'x' }]), Buffer.alloc(8192)]);
    assert.deepEqual(await applyTar(root, once(tar), { format: 'plain' }), { diffId: sha256(tar), size: tar.length });
  });

  test('owners, modes with setuid/setgid/sticky, mtimes, xattrs, devices, fifos, links are kept', async () => {
    // A valid file capability (VFS_CAP_REVISION_2, effective, CAP_NET_BIND_SERVICE): it is
    // cleared by chown and by writing, so it must be set last.
    const cap = Buffer.alloc(20);
    cap.writeUInt32LE(0x02000001, 0);
    cap.writeUInt32LE(1 << 10, 4);
    await apply([
      { name: 'd/', type: 'dir', mode: 0o2750, uid: 5, gid: 6, mtime: T1, xattrs: { 'trusted.t': Buffer.from([0, 1]) } },
      { name: 'd/suid', type: 'file', mode: 0o4711, uid: 7, gid: 8, mtime: T2, body: 'bin', xattrs: { 'security.capability': cap, 'user.u': Buffer.from('v') } },
      { name: 'd/hard', type: 'hardlink', linkname: 'd/suid', mode: 0o600, uid: 99 },
      { name: 'd/sym', type: 'symlink', linkname: '/nowhere', uid: 3, gid: 4, mtime: T2 },
      { name: 'd/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'd/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660, gid: 6 },
      { name: 'd/pipe', type: 'fifo', mode: 0o620 },
      { name: 'tmp/', type: 'dir', mode: 0o1777 },
    ]);
    const st = async (p: string) => fsp.lstat(join(root, p));
    const d = await st('d');
    assert.deepEqual([d.mode & 0o7777, d.uid, d.gid, d.mtime.getTime()], [0o2750, 5, 6, T1.getTime()]);
    assert.deepEqual(lgetxattr(join(root, 'd'), 'trusted.t'), Buffer.from([0, 1]));
    const f = await st('d/suid');
    assert.deepEqual([f.mode & 0o7777, f.uid, f.gid, f.mtime.getTime()], [0o4711, 7, 8, T2.getTime()]);
    assert.deepEqual(lgetxattr(join(root, 'd/suid'), 'security.capability'), cap);
    assert.equal(lgetxattr(join(root, 'd/suid'), 'user.u')?.toString(), 'v');
    const h = await st('d/hard');
    assert.equal(h.ino, f.ino);
    assert.equal(h.mode & 0o7777, 0o4711, "a hardlink entry's own fields do not change the shared inode");
    assert.equal(h.uid, 7);
    const s = await st('d/sym');
    assert.ok(s.isSymbolicLink());
    assert.equal(await fsp.readlink(join(root, 'd/sym')), '/nowhere');
    assert.deepEqual([s.uid, s.gid, s.mtime.getTime()], [3, 4, T2.getTime()]);
    const c = await st('d/null');
    assert.ok(c.isCharacterDevice());
    assert.deepEqual([c.rdev, c.mode & 0o7777], [259, 0o666]);
    const b = await st('d/sda');
    assert.ok(b.isBlockDevice());
    assert.deepEqual([b.rdev, b.mode & 0o7777, b.gid], [8 << 8, 0o660, 6]);
    const p = await st('d/pipe');
    assert.ok(p.isFIFO());
    assert.equal(p.mode & 0o7777, 0o620);
    assert.equal((await st('tmp')).mode & 0o7777, 0o1777);
  });

  test('missing parents are created 0755 root-owned; existing dirs keep their content', async () => {
    await apply([{ name: 'a/b/c/file', type: 'file', body: 'x', uid: 9 }]);
    for (const dir of ['a', 'a/b', 'a/b/c']) {
      const st = await fsp.lstat(join(root, dir));
      assert.deepEqual([st.isDirectory(), st.mode & 0o7777, st.uid, st.gid], [true, 0o755, 0, 0], dir);
    }
    await apply([{ name: 'a/', type: 'dir', mode: 0o700, uid: 4 }]);
    const a = await fsp.lstat(join(root, 'a'));
    assert.deepEqual([a.mode & 0o7777, a.uid], [0o700, 4]);
    assert.equal(await fsp.readFile(join(root, 'a/b/c/file'), 'utf8'), 'x');
  });

  test('entries replace what is there: file over dir, dir over file, anything over a symlink', async () => {
    await fsp.mkdir(join(root, 'wasdir/sub'), { recursive: true });
    await fsp.writeFile(join(root, 'wasdir/sub/f'), 'f');
    await fsp.writeFile(join(root, 'wasfile'), 'f');
    await fsp.symlink(join(sentinel, 'secret'), join(root, 'link-to-file'));
    await fsp.symlink(sentinel, join(root, 'link-to-dir'));
    await apply([
      { name: 'wasdir', type: 'file', body: 'now a file' },
      { name: 'wasfile/', type: 'dir' },
      { name: 'link-to-file', type: 'file', body: 'replaced' },
      { name: 'link-to-dir/', type: 'dir' },
    ]);
    assert.equal(await fsp.readFile(join(root, 'wasdir'), 'utf8'), 'now a file');
    assert.ok((await fsp.lstat(join(root, 'wasfile'))).isDirectory());
    assert.equal(await fsp.readFile(join(root, 'link-to-file'), 'utf8'), 'replaced');
    assert.ok((await fsp.lstat(join(root, 'link-to-dir'))).isDirectory());
    assert.equal(await fsp.readFile(join(sentinel, 'secret'), 'utf8'), 'secret');
    assert.deepEqual(await fsp.readdir(sentinel), ['secret']);
  });

  test('overlay format: whiteouts become char devices 0:0, opaque markers an xattr', async () => {
    await apply([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/.wh.passwd', type: 'file', uid: 3, gid: 4 },
      { name: 'opt/', type: 'dir' },
      { name: 'opt/.wh..wh..opq', type: 'file' },
      { name: 'opt/kept', type: 'file', body: 'k' },
      { name: 'deep/er/.wh.x', type: 'file' },
      { name: '.wh..wh.plnk/123', type: 'file', body: 'aufs bookkeeping' },
    ], 'overlay');
    const wh = await fsp.lstat(join(root, 'etc/passwd'));
    assert.ok(wh.isCharacterDevice());
    assert.deepEqual([wh.rdev, wh.uid, wh.gid], [0, 3, 4]);
    assert.equal(lgetxattr(join(root, 'opt'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.ok((await fsp.lstat(join(root, 'deep/er/x'))).isCharacterDevice());
    const all = await listing(root);
    assert.ok(!all.some((l) => l.includes('.wh.')), all.join('\n'));
  });

  test('plain format: whiteouts delete, opaque markers empty the older content only', async () => {
    await apply([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/passwd', type: 'file', body: 'p' },
      { name: 'etc/group', type: 'file', body: 'g' },
      { name: 'opt/', type: 'dir' },
      { name: 'opt/old', type: 'file', body: 'o' },
      { name: 'opt/olddir/', type: 'dir' },
      { name: 'opt/olddir/f', type: 'file', body: 'f' },
      { name: 'gone/', type: 'dir' },
      { name: 'gone/f', type: 'file', body: 'f' },
    ]);
    await apply([
      { name: 'etc/.wh.passwd', type: 'file' },
      { name: '.wh.gone', type: 'file' },
      { name: 'opt/', type: 'dir' },
      { name: 'opt/before', type: 'file', body: 'b' },
      { name: 'opt/.wh..wh..opq', type: 'file' },
      { name: 'opt/after', type: 'file', body: 'a' },
      { name: 'etc/.wh.never-existed', type: 'file' },
    ]);
    assert.deepEqual(await fsp.readdir(join(root, 'etc')), ['group']);
    assert.equal(existsSync(join(root, 'gone')), false);
    assert.deepEqual((await fsp.readdir(join(root, 'opt'))).sort(), ['after', 'before']);
    assert.equal(existsSync(join(root, 'etc/never-existed')), false);
  });

  test('lower layers: hardlink targets are copied up, hidden ones are not found, parents take lower attributes', async () => {
    const l1 = join(base, 'l1');
    const l2 = join(base, 'l2');
    await fsp.mkdir(join(l1, 'usr/bin'), { recursive: true });
    await fsp.writeFile(join(l1, 'usr/bin/tool'), 'tool');
    await fsp.writeFile(join(l1, 'usr/bin/hidden'), 'hidden');
    await fsp.chmod(join(l1, 'usr'), 0o700);
    await fsp.mkdir(join(l2, 'usr/bin'), { recursive: true });
    // The topmost layer's version of a directory is the one that counts.
    await fsp.chown(join(l2, 'usr'), 1, 2);
    await fsp.chmod(join(l2, 'usr'), 0o711);
    await fsp.utimes(join(l2, 'usr'), T1, T1);
    mknod(join(l2, 'usr/bin/hidden'), constants.S_IFCHR, 0, 0); // l2 whites it out
    const lowers = [l2, l1];
    await apply([{ name: 'usr/bin/alias', type: 'hardlink', linkname: 'usr/bin/tool' }], 'overlay', lowers);
    assert.equal(await fsp.readFile(join(root, 'usr/bin/alias'), 'utf8'), 'tool');
    assert.equal((await fsp.lstat(join(root, 'usr/bin/tool'))).ino, (await fsp.lstat(join(root, 'usr/bin/alias'))).ino);
    const usr = await fsp.lstat(join(root, 'usr'));
    assert.deepEqual([usr.mode & 0o7777, usr.uid, usr.gid, usr.mtime.getTime()], [0o711, 1, 2, T1.getTime()]);
    await assert.rejects(apply([{ name: 'x', type: 'hardlink', linkname: 'usr/bin/hidden' }], 'overlay', lowers), /not found/);
    await assert.rejects(apply([{ name: 'y', type: 'hardlink', linkname: 'usr/bin/absent' }], 'overlay', lowers), /not found/);
  });

  // Each case: the tar, and the formats it is tried in.
  const hostile: Array<[string, TarSpec]> = [
    ['parent-relative name', [{ name: '../sentinel/evil', type: 'file', body: 'x' }]],
    ['name climbing through a subdir', [{ name: 'a/../../sentinel/evil', type: 'file', body: 'x' }]],
    ['absolute name', [{ name: `${'/'}evil-absolute`, type: 'file', body: 'x' }]],
    ['write through an absolute symlink', [{ name: 'a', type: 'symlink', linkname: '<sentinel>' }, { name: 'a/secret', type: 'file', body: 'pwned' }]],
    ['mkdir through a relative symlink', [{ name: 'a', type: 'symlink', linkname: '../sentinel' }, { name: 'a/newdir/', type: 'dir' }]],
    ['symlink in a deeper parent', [{ name: 'd/', type: 'dir' }, { name: 'd/l', type: 'symlink', linkname: '../../sentinel' }, { name: 'd/l/x/y', type: 'file', body: 'x' }]],
    ['hardlink to a file outside', [{ name: 'h', type: 'hardlink', linkname: '../sentinel/secret' }]],
    ['hardlink to an absolute path', [{ name: 'h', type: 'hardlink', linkname: '<sentinel>/secret' }]],
    ['hardlink through a symlink', [{ name: 'a', type: 'symlink', linkname: '<sentinel>' }, { name: 'h', type: 'hardlink', linkname: 'a/secret' }]],
    ['whiteout through a symlink', [{ name: 'a', type: 'symlink', linkname: '<sentinel>' }, { name: 'a/.wh.secret', type: 'file' }]],
    ['opaque marker through a symlink', [{ name: 'a', type: 'symlink', linkname: '<sentinel>' }, { name: 'a/.wh..wh..opq', type: 'file' }]],
    ['whiteout of ..', [{ name: 'd/', type: 'dir' }, { name: 'd/.wh...', type: 'file' }]],
    ['device through a symlink', [{ name: 'a', type: 'symlink', linkname: '<sentinel>' }, { name: 'a/dev', type: 'char', devmajor: 1, devminor: 3 }]],
    ['root replaced by a file', [{ name: './', type: 'file', body: 'x' }]],
  ];
  for (const [what, spec] of hostile) {
    for (const format of ['plain', 'overlay'] as const) {
      test(`refuses ${what} (${format}) and writes nothing outside the root`, async () => {
        const before = await listing(base);
        const resolved = spec.map((e) => ({ ...e, linkname: e.linkname?.replace('<sentinel>', sentinel) }));
        await assert.rejects(apply(resolved, format), (e: Error & { status?: number }) => {
          assert.equal(e.status, 400, e.message);
          assert.match(e.message, /invalid tar entry/);
          return true;
        });
        assert.deepEqual(await fsp.readdir(sentinel), ['secret']);
        assert.equal(await fsp.readFile(join(sentinel, 'secret'), 'utf8'), 'secret');
        assert.equal((await fsp.stat(join(sentinel, 'secret'))).nlink, 1);
        assert.equal(existsSync('/evil-absolute'), false);
        // Only the root may have changed.
        const after = await listing(base);
        assert.deepEqual(after.filter((l) => !l.startsWith('root/')), before.filter((l) => !l.startsWith('root/')));
      });
    }
  }

  test('a hardlink to a symlink links the symlink itself, never its target', async () => {
    await apply([
      { name: 's', type: 'symlink', linkname: join(sentinel, 'secret') },
      { name: 'h', type: 'hardlink', linkname: 's' },
    ]);
    assert.ok((await fsp.lstat(join(root, 'h'))).isSymbolicLink());
    assert.equal((await fsp.stat(join(sentinel, 'secret'))).nlink, 1);
  });
});
