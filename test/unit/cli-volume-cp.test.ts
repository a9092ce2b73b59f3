// berth cp's path rules (docker's cp.go and go-archive's copy.go) as pure functions, and its
// local extraction against a scripted daemon serving hostile archives: nothing is written
// outside the destination; docker's refusals are berth's, word for word. Also the requests
// berth volume create / cp send, compared with the docker CLI's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getRebaseName, goBase, goClean, goDir, goJoin, prepareArchiveCopy, preserveTrailingDotOrSeparator, rebaseName,
  resolveLocalPath, splitCpArg, splitPathDirEntry, outputModeProblem,
} from '../../src/cli/copy-paths.ts';
import { BERTH, DOCKER, compareWithDocker, routeOf, runCli, startFakeDaemon, type Handler } from './cli-harness.ts';
import { buildTar } from './snapshotter-suite.ts';
import { Readable } from 'node:stream';
import { readTar } from '../../src/archive/tar.ts';

test('Go path helpers', () => {
  assert.deepEqual(['', '/', '/a/b/', 'a//b/./c/..', '/..', './'].map(goClean), ['.', '/', '/a/b', 'a/b', '/', '.']);
  assert.deepEqual(['', '/', '/a/b/', 'a', '/a/.'].map(goBase), ['.', '/', 'b', 'a', '.']);
  assert.deepEqual(['/a/b', 'a', '/a', '/a/b/', ''].map(goDir), ['/a', '.', '/', '/a/b', '.']);
  assert.equal(goJoin('/a', '../b'), '/b');
  assert.equal(goJoin('/a', '/etc'), '/a/etc');
  assert.equal(goJoin('', ''), '');
});

test('splitCpArg: CONTAINER:PATH, or a local path', () => {
  assert.deepEqual(splitCpArg('c:/p'), { container: 'c', path: '/p' });
  assert.deepEqual(splitCpArg('c:'), { container: 'c', path: '' });
  assert.deepEqual(splitCpArg('/abs:x'), { container: '', path: '/abs:x' });
  assert.deepEqual(splitCpArg('./rel:x'), { container: '', path: './rel:x' });
  assert.deepEqual(splitCpArg('plain'), { container: '', path: 'plain' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});

test('trailing "/" and "/." survive cleaning; splitPathDirEntry keeps "."', () => {
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'a/b/'), '/a/b/');
  assert.equal(preserveTrailingDotOrSeparator('/a/b', 'a/b/.'), '/a/b/.');
  assert.equal(preserveTrailingDotOrSeparator('/', '/.'), '/.');
  assert.equal(resolveLocalPath('x/./y/', '/w'), '/w/x/y/');
  assert.equal(resolveLocalPath('.', '/w'), '/w/.');
  assert.equal(resolveLocalPath('/abs/..', '/w'), '/');
  assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
  assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
});

test('getRebaseName: the requested name comes back when a link changed it', () => {
  assert.deepEqual(getRebaseName('/d/link', '/d/target'), { path: '/d/target', rebaseName: 'link' });
  assert.deepEqual(getRebaseName('/d/link/', '/d/target'), { path: '/d/target/', rebaseName: 'link' });
  assert.deepEqual(getRebaseName('/d/link/.', '/d/target'), { path: '/d/target/.', rebaseName: '' });
  assert.deepEqual(getRebaseName('/d/same', '/x/same'), { path: '/x/same', rebaseName: '' });
});

test('prepareArchiveCopy: where the archive goes and under which name', () => {
  const file = { path: '/src/f', exists: true, isDir: false };
  const dir = { path: '/src/d', exists: true, isDir: true };
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst', exists: true, isDir: true }), { dstDir: '/dst' });
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/g', exists: true, isDir: false }), { dstDir: '/dst', rebase: { from: 'f', to: 'g' } });
  assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'd', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy({ ...dir, path: '/src/d/.' }, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: '.', to: 'new' } });
  assert.deepEqual(prepareArchiveCopy({ ...file, rebaseName: 'link' }, { path: '/dst/n', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'link', to: 'n' } });
  assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/g', exists: true, isDir: false }), /^Error: cannot copy directory$/);
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/n/', exists: false, isDir: false }), /^Error: no such directory$/);
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/n/.', exists: false, isDir: false }), /^Error: no such directory$/);
});

test('rebaseName replaces the first occurrence; "/" rebases onto every name', () => {
  assert.equal(rebaseName('d/sub/d', 'd', 'x'), 'x/sub/d');
  assert.equal(rebaseName('./f', '.', 'new'), 'new/f');
  assert.equal(rebaseName('/etc/', '/', 'root'), 'root/etc/');
});

test('outputModeProblem: devices and irregular files are refused', () => {
  assert.equal(outputModeProblem(2 ** 26 + 2 ** 21 + 0o666), 'got a device');
  assert.equal(outputModeProblem(2 ** 19), 'got an irregular file');
  assert.equal(outputModeProblem(2 ** 31 + 0o755), undefined);
  assert.equal(outputModeProblem(0o644), undefined);
});

// ------------------------------------------------------------------ a hostile daemon

const STAT = { name: 'd', size: 4096, mode: 2 ** 31 + 0o755, mtime: '2026-01-01T00:00:00Z', linkTarget: '' };

function serving(tar: Buffer): Handler {
  return (r) => {
    if (routeOf(r.url) !== '/containers/evil/archive') return undefined;
    const headers = { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(STAT)).toString('base64'), 'Content-Type': 'application/x-tar' };
    return { status: 200, headers, body: tar };
  };
}

async function cpFrom(bin: string[], tar: Buffer, base: string): Promise<{ code: number | null; stderr: string; dest: string }> {
  const dest = join(base, 'dest');
  await fsp.mkdir(dest, { recursive: true });
  const daemon = await startFakeDaemon([serving(tar)]);
  try {
    const r = await runCli(bin, ['-H', daemon.host, 'cp', 'evil:/d', dest + '/'], { env: { DOCKER_CONFIG: join(base, 'cfg') } });
    return { code: r.code, stderr: r.stderr.replaceAll(dest, 'DEST').replaceAll(base, 'BASE'), dest };
  } finally {
    await daemon.close();
  }
}

async function listAll(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { recursive: true })).map(String).sort();
}

const HOSTILE: Array<{ what: string; tar: () => Promise<Buffer>; error: string }> = [
  {
    what: 'a name climbing out',
    tar: () => buildTar([{ name: 'd/', type: 'dir', mode: 0o755 }, { name: 'd/../../escaped', type: 'file', mode: 0o644, body: 'x' }]),
    error: '"../escaped" is outside of "DEST"\n',
  },
  {
    what: 'a symlink pointing out',
    tar: () => buildTar([{ name: 'd/', type: 'dir', mode: 0o755 }, { name: 'd/up', type: 'symlink', linkname: '../../..' }, { name: 'd/up/escaped', type: 'file', mode: 0o644, body: 'x' }]),
    error: 'invalid symlink "DEST/d/up" -> "../../.."\n',
  },
  {
    what: 'a hard link to a file outside',
    tar: () => buildTar([{ name: 'd/', type: 'dir', mode: 0o755 }, { name: 'd/h', type: 'hardlink', linkname: '../outside' }]),
    error: 'invalid hardlink "BASE/outside" -> "../outside"\n',
  },
];

for (const h of HOSTILE) {
  test(`cp from a hostile daemon: ${h.what} is refused as docker refuses it, nothing written outside`, async () => {
    const base = await fsp.mkdtemp(join(tmpdir(), 'berth-cp-hostile-'));
    try {
      await fsp.writeFile(join(base, 'outside'), 'secret');
      const tar = await h.tar();
      const b = await cpFrom(BERTH, tar, join(base, 'berth'));
      assert.equal(b.code, 1);
      if (DOCKER) {
        const a = await cpFrom(DOCKER, tar, join(base, 'docker'));
        assert.equal(b.code, a.code);
        assert.equal(b.stderr, a.stderr);
      } else assert.equal(b.stderr, h.error);
      assert.deepEqual(await listAll(base), (await listAll(base)).filter((n) => !n.includes('escaped')));
      assert.equal(await fsp.readFile(join(base, 'outside'), 'utf8'), 'secret');
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
}

test('cp from a hostile daemon: a link to an outside directory, then a file through it, stays inside', async () => {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-cp-hostile-'));
  try {
    const outside = join(base, 'outside-dir');
    await fsp.mkdir(outside);
    // docker's Untar would follow this link on the host; berth resolves it inside DEST.
    const tar = await buildTar([
      { name: 'd/', type: 'dir', mode: 0o755 },
      { name: 'd/l', type: 'symlink', linkname: outside },
      { name: 'd/l/planted', type: 'file', mode: 0o644, body: 'x' },
    ]);
    const r = await cpFrom(BERTH, tar, join(base, 'berth'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await fsp.readdir(outside), []);
    assert.equal(await fsp.readFile(join(r.dest, 'd', outside, 'planted').replace(join(r.dest, 'd'), r.dest), 'utf8'), 'x');
    assert.equal(await fsp.readlink(join(r.dest, 'd', 'l')), outside);
  } finally {
    await fsp.rm(base, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ requests

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';

test('volume create and prune send what docker sends', { skip }, async () => {
  const handlers: Handler[] = [
    (r) => (routeOf(r.url) === '/volumes/create' ? { status: 201, body: { Name: 'v', Driver: 'local', Mountpoint: '/m', Scope: 'local', Labels: {}, Options: {} } } : undefined),
    (r) => (routeOf(r.url) === '/volumes/prune' ? { status: 200, body: { VolumesDeleted: null, SpaceReclaimed: 0 } } : undefined),
  ];
  for (const args of [
    ['volume', 'create', '-d', 'local', '--label', 'a=1', '--label', 'b', '-o', 'type=tmpfs', '-o', 'o=size=1m', 'v'],
    ['volume', 'create'],
    ['volume', 'prune', '-f', '-a', '--filter', 'label=x'],
  ]) {
    const c = await compareWithDocker(args, handlers);
    assert.equal(c.berth.code, c.docker.code, c.berth.stderr);
    assert.equal(c.berth.stdout, c.docker.stdout);
    const reqs = (x: typeof c.docker) => x.requests.filter((r) => r.url !== '/_ping').map((r) => `${r.method} ${r.url} ${r.body.toString()}`);
    assert.deepEqual(reqs(c.berth), reqs(c.docker));
  }
});

test('cp into a container sends the query docker sends', { skip }, async () => {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-cp-req-'));
  try {
    await fsp.writeFile(join(base, 'f'), 'data');
    const dirStat = Buffer.from(JSON.stringify({ ...STAT, name: 'tmp' })).toString('base64');
    const handlers: Handler[] = [(r) => (routeOf(r.url) === '/containers/c/archive' ? { status: 200, headers: { 'X-Docker-Container-Path-Stat': dirStat } } : undefined)];
    for (const args of [['cp', join(base, 'f'), 'c:/tmp'], ['cp', '-a', join(base, 'f'), 'c:/tmp/new']]) {
      const c = await compareWithDocker(args, handlers);
      assert.equal(c.berth.code, c.docker.code, c.berth.stderr);
      const reqs = (x: typeof c.docker) => x.requests.filter((r) => r.url !== '/_ping').map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(reqs(c.berth), reqs(c.docker));
      const names = async (x: typeof c.docker) => {
        const put = x.requests.find((r) => r.method === 'PUT')!;
        const out: string[] = [];
        for await (const e of readTar(Readable.from([put.body]))) out.push(`${e.header.name} ${e.header.type} ${e.header.size} ${e.header.mode.toString(8)}`);
        return out;
      };
      assert.deepEqual(await names(c.berth), await names(c.docker));
    }
  } finally {
    await fsp.rm(base, { recursive: true, force: true });
  }
});
