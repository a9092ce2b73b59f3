// The copy of an image directory into an empty volume: files with owner, mode and times,
// symlinks as links, hard links kept, the directory's own owner and mode on the volume's
// root; a volume with anything in it is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyIntoEmptyVolume } from '../../src/volume/copy-up.ts';

async function scratch(): Promise<{ src: string; dst: string; done: () => Promise<void> }> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-copyup-'));
  const src = join(base, 'src');
  const dst = join(base, 'dst');
  await fsp.mkdir(src);
  await fsp.mkdir(dst);
  return { src, dst, done: () => fsp.rm(base, { recursive: true, force: true }) };
}

test('copies a tree with owners, modes, links and hard links', async () => {
  const { src, dst, done } = await scratch();
  try {
    await fsp.mkdir(join(src, 'sub'));
    await fsp.writeFile(join(src, 'sub', 'f'), 'data');
    await fsp.chmod(join(src, 'sub', 'f'), 0o640);
    await fsp.chown(join(src, 'sub', 'f'), 1234, 5678);
    await fsp.link(join(src, 'sub', 'f'), join(src, 'hard'));
    await fsp.symlink('/etc/passwd', join(src, 'link'));
    await fsp.chmod(join(src, 'sub'), 0o750);
    await fsp.chown(src, 42, 43);
    await fsp.chmod(src, 0o1777);
    assert.equal(await copyIntoEmptyVolume(src, dst), true);

    assert.equal(await fsp.readFile(join(dst, 'sub', 'f'), 'utf8'), 'data');
    const f = await fsp.stat(join(dst, 'sub', 'f'));
    assert.deepEqual([f.mode & 0o7777, f.uid, f.gid], [0o640, 1234, 5678]);
    assert.equal((await fsp.stat(join(dst, 'hard'))).ino, f.ino, 'hard link kept');
    assert.equal(await fsp.readlink(join(dst, 'link')), '/etc/passwd');
    assert.equal((await fsp.stat(join(dst, 'sub'))).mode & 0o7777, 0o750);
    const root = await fsp.stat(dst);
    assert.deepEqual([root.mode & 0o7777, root.uid, root.gid], [0o1777, 42, 43]);
  } finally {
    await done();
  }
});

test('a volume that is not empty is left as it is', async () => {
  const { src, dst, done } = await scratch();
  try {
    await fsp.writeFile(join(src, 'image-file'), 'x');
    await fsp.writeFile(join(dst, 'mine'), 'y');
    assert.equal(await copyIntoEmptyVolume(src, dst), false);
    assert.deepEqual(await fsp.readdir(dst), ['mine']);
  } finally {
    await done();
  }
});
