// The `docker cp` resolver and copy operations against hostile container trees: links to
// /, to ../../.., chains, loops, swaps after resolution, escaping tar entries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openRootDir, resolvePath, goFileMode, GO_MODE_DIR, GO_MODE_SYMLINK, MAX_LINKS } from '../../src/container/archive-path.ts';
import { archivePath, baseName, extractArchive, statPath } from '../../src/container/archive-copy.ts';
import type { PathStat } from '../../src/container/archive-copy.ts';
import { readTar } from '../../src/archive/tar.ts';
import { buildTar } from './snapshotter-suite.ts';

let top: string;
let root: string;
let outside: string;

before(async () => {
  top = await fsp.mkdtemp(join(tmpdir(), 'berth-archive-path-'));
  root = join(top, 'root');
  outside = join(top, 'outside');
  await fsp.mkdir(join(root, 'etc'), { recursive: true });
  await fsp.mkdir(join(root, 'dir'), { recursive: true });
  await fsp.mkdir(outside);
  await fsp.writeFile(join(root, 'etc', 'passwd'), 'container passwd\n');
  await fsp.writeFile(join(outside, 'passwd'), 'HOST passwd\n');
  await fsp.symlink('/', join(root, 'evil'));
  await fsp.symlink('../../..', join(root, 'up'));
  await fsp.symlink('/../../etc', join(root, 'absup'));
  await fsp.symlink('chain2', join(root, 'chain1'));
  await fsp.symlink('/chain3', join(root, 'chain2'));
  await fsp.symlink('etc', join(root, 'chain3'));
  await fsp.symlink('loop2', join(root, 'loop1'));
  await fsp.symlink('loop1', join(root, 'loop2'));
  await fsp.symlink('../etc', join(root, 'dir', 'sub'));
  await fsp.symlink('etc/passwd', join(root, 'rel'));
  // An absolute host path as a link target means that path inside the container.
  await fsp.symlink(outside, join(root, 'hostpath'));
});

after(async () => {
  await fsp.rm(top, { recursive: true, force: true });
});

async function resolved(path: string, follow = false) {
  const rootFh = await openRootDir(root);
  try {
    const r = await resolvePath(rootFh, path, { followFinal: follow });
    try {
      let content: string | undefined;
      try {
        content = await fsp.readFile(r.hostPath, 'utf8');
      } catch {
        content = undefined;
      }
      return { containerPath: r.containerPath, name: r.name, content, isLink: (await r.lstat().catch(() => undefined))?.isSymbolicLink() };
    } finally {
      await r.close();
    }
  } finally {
    await rootFh.close();
  }
}

async function resolveError(path: string, follow = false): Promise<string | undefined> {
  try {
    await resolved(path, follow);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

test('links to / and upwards stay inside the root', async () => {
  for (const p of ['/evil/etc/passwd', '/up/etc/passwd', '/absup/passwd', '/../../../etc/passwd', 'etc/../../etc/passwd', '/dir/sub/passwd', '/chain1/passwd']) {
    const r = await resolved(p);
    assert.equal(r.containerPath, '/etc/passwd', p);
    assert.equal(r.content, 'container passwd\n', p);
  }
});

test('a link to a host path means that path inside the container', async () => {
  // Nothing of that path exists inside the root, so the host's file is never reached.
  assert.equal(await resolveError('/hostpath/passwd'), 'ENOENT');
  await fsp.mkdir(join(root, outside), { recursive: true });
  try {
    await fsp.writeFile(join(root, outside, 'passwd'), 'container copy\n');
    const r = await resolved('/hostpath/passwd');
    assert.equal(r.containerPath, `${outside}/passwd`);
    assert.equal(r.content, 'container copy\n');
  } finally {
    await fsp.rm(join(root, top.split('/')[1]!), { recursive: true, force: true });
  }
});

test('the final link is followed only when asked (or with a trailing / or /.)', async () => {
  assert.deepEqual(await resolved('/rel'), { containerPath: '/rel', name: 'rel', content: 'container passwd\n', isLink: true });
  const followed = await resolved('/rel', true);
  assert.equal(followed.containerPath, '/etc/passwd');
  assert.equal(followed.isLink, false);
  assert.equal((await resolved('/evil')).isLink, true);
  assert.equal((await resolved('/evil', true)).containerPath, '/');
  assert.equal((await resolved('/evil/')).containerPath, '/');
  assert.equal((await resolved('/chain1/.')).containerPath, '/etc');
});

test('loops give ELOOP, files in the middle ENOTDIR, missing directories ENOENT', async () => {
  assert.equal(await resolveError('/loop1', true), 'ELOOP');
  assert.equal(await resolveError('/loop1/x'), 'ELOOP');
  assert.equal(await resolveError('/etc/passwd/x'), 'ENOTDIR');
  assert.equal(await resolveError('/etc/passwd/'), 'ENOTDIR');
  assert.equal(await resolveError('/rel/.'), 'ENOTDIR');
  assert.equal(await resolveError('/nope/x'), 'ENOENT');
  // A missing final component is not an error: it may be about to be created.
  assert.equal((await resolved('/etc/nope')).containerPath, '/etc/nope');
  assert.equal(MAX_LINKS, 40);
});

test('a long chain of links within the limit resolves; one over it is ELOOP', async () => {
  const dir = join(root, 'links');
  await fsp.mkdir(dir);
  try {
    await fsp.symlink('/etc', join(dir, 'l0'));
    for (let i = 1; i <= 40; i++) await fsp.symlink(`l${i - 1}`, join(dir, `l${i}`));
    assert.equal((await resolved('/links/l39/passwd')).containerPath, '/etc/passwd');
    assert.equal(await resolveError('/links/l40/passwd'), 'ELOOP');
  } finally {
    await fsp.rm(dir, { recursive: true });
  }
});

test('a directory swapped for a link after resolution is still the one resolved', async () => {
  await fsp.mkdir(join(root, 'swap'));
  await fsp.writeFile(join(root, 'swap', 'passwd'), 'container passwd\n');
  const rootFh = await openRootDir(root);
  try {
    const r = await resolvePath(rootFh, '/swap/passwd');
    try {
      await fsp.rename(join(root, 'swap'), join(root, 'swap-old'));
      await fsp.symlink(outside, join(root, 'swap'));
      assert.equal(await fsp.readFile(r.hostPath, 'utf8'), 'container passwd\n');
    } finally {
      await r.close();
    }
    // Resolving again follows the new link inside the root (where nothing is).
    const again = await resolvePath(rootFh, '/swap/passwd').catch((e: NodeJS.ErrnoException) => e.code);
    assert.equal(again, 'ENOENT');
  } finally {
    await rootFh.close();
    await fsp.rm(join(root, 'swap'), { force: true });
    await fsp.rm(join(root, 'swap-old'), { recursive: true, force: true });
  }
});

test('mkdirs creates missing directories inside the root, through links', async () => {
  const rootFh = await openRootDir(root);
  try {
    const r = await resolvePath(rootFh, '/evil/made/deep/file', { mkdirs: true });
    await r.close();
    assert.equal(r.containerPath, '/made/deep/file');
    assert.ok((await fsp.stat(join(root, 'made', 'deep'))).isDirectory());
  } finally {
    await rootFh.close();
    await fsp.rm(join(root, 'made'), { recursive: true, force: true });
  }
});

test('Go file modes and base names as Docker', async () => {
  assert.equal(goFileMode(await fsp.lstat(join(root, 'etc'))), GO_MODE_DIR + 0o755);
  assert.equal(goFileMode(await fsp.lstat(join(root, 'evil'))), GO_MODE_SYMLINK + 0o777);
  assert.equal(baseName('/'), '/');
  assert.equal(baseName('/etc/'), 'etc');
  assert.equal(baseName('/etc/.'), '.');
});

test('statPath reports a link with its resolved target, and ENOENT for a missing path', async () => {
  const s = await statPath(root, '/chain1');
  assert.equal(s.name, 'chain1');
  assert.equal(s.linkTarget, '/etc');
  assert.equal(s.mode, GO_MODE_SYMLINK + 0o777);
  assert.match(s.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const e = await statPath(root, '/evil/nope').catch((err: NodeJS.ErrnoException) => err.code);
  assert.equal(e, 'ENOENT');
});

async function collect(path: string): Promise<{ stat: PathStat | undefined; entries: Array<{ name: string; type: string; body: string }> }> {
  const out = new PassThrough();
  let stat: PathStat | undefined;
  const done = archivePath(root, path, out, (s) => (stat = s));
  const entries: Array<{ name: string; type: string; body: string }> = [];
  for await (const e of readTar(out)) {
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    entries.push({ name: e.header.name, type: e.header.type, body: Buffer.concat(chunks).toString() });
  }
  await done;
  return { stat, entries };
}

test('archivePath names entries as Docker and never follows links out', async () => {
  const file = await collect('/evil/etc/passwd');
  assert.deepEqual(file.entries, [{ name: 'passwd', type: 'file', body: 'container passwd\n' }]);
  const dir = await collect('/dir');
  assert.deepEqual(dir.entries.map((e) => [e.name, e.type]), [['dir/', 'dir'], ['dir/sub', 'symlink']]);
  const dot = await collect('/etc/.');
  assert.deepEqual(dot.entries.map((e) => e.name), ['./', './passwd']);
  const link = await collect('/evil');
  assert.deepEqual(link.entries.map((e) => [e.name, e.type]), [['evil', 'symlink']]);
  assert.equal(link.stat?.linkTarget, '/');
});


async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

test('extraction keeps every entry inside the root', async () => {
  await fsp.mkdir(join(root, 'dest'));
  try {
    const tar = await buildTar([
      { name: '/abs/x', type: 'file', body: 'abs', uid: 1234, gid: 4321 },
      { name: 'lnk', type: 'symlink', linkname: '../../../../../outside-made' },
      { name: 'lnk/pwn', type: 'file', body: 'through link' },
      { name: 'hostlink', type: 'symlink', linkname: outside },
      { name: 'hostlink/pwn', type: 'file', body: 'through host link' },
      { name: 'hard', type: 'hardlink', linkname: 'abs/x' },
    ]);
    await extractArchive(root, '/dest', once(tar));
    assert.equal(await fsp.readFile(join(root, 'dest', 'abs', 'x'), 'utf8'), 'abs');
    const st = await fsp.stat(join(root, 'dest', 'abs', 'x'));
    assert.deepEqual([st.uid, st.gid, st.nlink], [1234, 4321, 2]);
    assert.equal(await fsp.readFile(join(root, 'outside-made', 'pwn'), 'utf8'), 'through link');
    assert.equal(await fsp.readFile(join(root, outside, 'pwn'), 'utf8'), 'through host link');
    await assert.rejects(fsp.stat(join(outside, 'pwn')), { code: 'ENOENT' });
    await assert.rejects(fsp.stat(join(top, 'outside-made')), { code: 'ENOENT' });

    // ".." climbing out of the destination is refused, before anything is written.
    const climb = await buildTar([{ name: '../../escape', type: 'file', body: 'x' }]);
    await assert.rejects(extractArchive(root, '/dest', once(climb)), /is outside of/);
    await assert.rejects(fsp.stat(join(root, 'escape')), { code: 'ENOENT' });

    // The destination's own final link is followed, inside the root.
    await extractArchive(root, '/evil', once(await buildTar([{ name: 'x', type: 'file', body: 'rooted' }])));
    assert.equal(await fsp.readFile(join(root, 'x'), 'utf8'), 'rooted');

    // With chown every entry gets those ids; a file destination is refused.
    await extractArchive(root, '/dest', once(await buildTar([{ name: 'owned', type: 'file', body: 'o', uid: 5 }])), { chown: { uid: 7, gid: 8 } });
    const owned = await fsp.stat(join(root, 'dest', 'owned'));
    assert.deepEqual([owned.uid, owned.gid], [7, 8]);
    await assert.rejects(extractArchive(root, '/etc/passwd', once(tar)), /extraction point is not a directory/);
    await assert.rejects(extractArchive(root, '/nope', once(tar)), { code: 'ENOENT' });

    // noOverwriteDirNonDir: a directory is not replaced by a file.
    const replace = await buildTar([{ name: 'abs', type: 'file', body: 'x' }]);
    await assert.rejects(extractArchive(root, '/dest', once(replace), { noOverwriteDirNonDir: true }), /cannot overwrite directory/);
    await extractArchive(root, '/dest', once(replace));
    assert.equal(await fsp.readFile(join(root, 'dest', 'abs'), 'utf8'), 'x');
  } finally {
    for (const p of ['dest', 'outside-made', 'x', top.slice(1)]) {
      if (p === top.slice(1)) await fsp.rm(join(root, top.split('/')[1]!), { recursive: true, force: true });
      else await fsp.rm(join(root, p), { recursive: true, force: true });
    }
  }
});
