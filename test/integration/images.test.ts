// Images through the real docker CLI: load, images, tag, inspect, history, save, import, rmi, prune.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, run, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let work: string;
before(async () => {
  d = await startDaemon();
  work = await fsp.mkdtemp(join(tmpdir(), 'berth-images-'));
});
after(async () => {
  await d?.cleanup();
  await fsp.rm(work, { recursive: true, force: true });
});

test('images lists busybox; filters, -q, --digests and --format', async () => {
  const table = await d.docker(['images']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout.split('\n')[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(table.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s/m);
  const q = await d.docker(['images', '-q']);
  assert.match(q.stdout.trim(), /^[0-9a-f]{12}$/);
  const ref = await d.docker(['images', '--filter', 'reference=busy*', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(ref.stdout.trim(), 'busybox:latest');
  const none = await d.docker(['images', '--filter', 'dangling=true', '-q']);
  assert.equal(none.stdout.trim(), '');
});

test('tag, inspect, history, rmi by tag', async () => {
  assert.equal((await d.docker(['tag', 'busybox', 'example.com/team/box:v1'])).code, 0);
  const ins = await d.docker(['image', 'inspect', '-f', '{{json .RepoTags}} {{.Os}} {{.RootFS.Type}}', 'example.com/team/box:v1']);
  assert.equal(ins.code, 0, ins.stderr);
  assert.equal(ins.stdout.trim(), '["busybox:latest","example.com/team/box:v1"] linux layers');
  const hist = await d.docker(['history', 'busybox']);
  assert.equal(hist.code, 0, hist.stderr);
  assert.match(hist.stdout.split('\n')[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  const rmi = await d.docker(['rmi', 'example.com/team/box:v1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: example.com\/team\/box:v1/);
  const bad = await d.docker(['tag', 'busybox', 'Bad/Name']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid reference format/);
});

test('rmi refuses an image a container uses unless -f', async () => {
  await d.docker(['tag', 'busybox', 'inuse:1']);
  await d.docker(['create', '--name', 'user-of-inuse', 'inuse:1', 'true']);
  const id = (await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'inuse:1'])).stdout.trim();
  const refused = await d.docker(['rmi', id]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /conflict: unable to delete/);
  await d.docker(['rm', 'user-of-inuse']);
  assert.equal((await d.docker(['rmi', 'inuse:1'])).code, 0);
});

test('save and load round-trip; import a rootfs tar with --change', async () => {
  const archive = join(work, 'busybox-saved.tar');
  const save = await d.docker(['save', '-o', archive, 'busybox']);
  assert.equal(save.code, 0, save.stderr);
  const list = await run('tar', ['-tf', archive]);
  assert.match(list.stdout, /^index\.json$/m);
  assert.match(list.stdout, /^manifest\.json$/m);
  assert.match(list.stdout, /^oci-layout$/m);
  await d.docker(['rmi', 'busybox']);
  assert.equal((await d.docker(['images', '-q'])).stdout.trim(), '');
  const load = await d.docker(['load', '-i', archive]);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /Loaded image: busybox:latest/);
  assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'reloaded'])).stdout, 'reloaded\n');

  // export-like rootfs tar made from the busybox rootfs by a container-less route: tar of a dir
  const rootfs = join(work, 'rootfs');
  await fsp.mkdir(join(rootfs, 'bin'), { recursive: true });
  await fsp.copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await fsp.symlink('busybox', join(rootfs, 'bin', 'sh'));
  await fsp.symlink('busybox', join(rootfs, 'bin', 'echo'));
  await fsp.writeFile(join(rootfs, 'hello.txt'), 'imported\n');
  const tarFile = join(work, 'rootfs.tar');
  await run('tar', ['-C', rootfs, '-cf', tarFile, '.']);
  const imp = await d.docker(['import', '-c', 'CMD ["/bin/sh", "-c", "echo $GREETING; cat /hello.txt"]', '-c', 'ENV GREETING=hi', '-m', 'from a tar', tarFile, 'imported:1']);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  const out = await d.docker(['run', '--rm', 'imported:1']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'hi\nimported\n');
  const hist = await d.docker(['history', '--format', '{{.Comment}}', 'imported:1']);
  assert.match(hist.stdout, /from a tar/);
  // the same archive on stdin
  const fromStdin = await d.docker(['import', '-', 'imported:stdin'], { input: await fsp.readFile(tarFile) });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal((await d.docker(['run', '--rm', 'imported:stdin', '/bin/sh', '-c', 'cat /hello.txt'])).stdout, 'imported\n');
  assert.equal((await d.docker(['rmi', 'imported:1', 'imported:stdin'])).code, 0);
});

test('image prune removes dangling images', async () => {
  await d.docker(['tag', 'busybox', 'tobedangling:1']);
  const pr = await d.docker(['image', 'prune', '-f']);
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, /Total reclaimed space/);
  await d.docker(['rmi', 'tobedangling:1']);
  assert.match((await d.docker(['images', '--format', '{{.Repository}}'])).stdout, /busybox/);
});

test('layers of an image force-removed under a container go when the container goes', async () => {
  const rootfs = join(work, 'gc-rootfs');
  await fsp.mkdir(join(rootfs, 'bin'), { recursive: true });
  await fsp.copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await fsp.writeFile(join(rootfs, 'marker'), `gc ${Date.now()}\n`);
  const tarFile = join(work, 'gc.tar');
  await run('tar', ['-C', rootfs, '-cf', tarFile, '.']);
  assert.equal((await d.docker(['import', tarFile, 'gc:1'])).code, 0);
  const snapshots = join(d.dataRoot, 'overlay2', 'snapshots');
  const before = (await fsp.readdir(snapshots)).length;
  await d.docker(['create', '--name', 'gc-user', 'gc:1', '/bin/busybox', 'true']);
  const rmi = await d.docker(['rmi', '-f', 'gc:1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.equal((await fsp.readdir(snapshots)).length, before, 'the layer under a container must stay');
  assert.equal((await d.docker(['start', '-a', 'gc-user'])).code, 0);
  await d.docker(['rm', 'gc-user']);
  assert.equal((await fsp.readdir(snapshots)).length, before - 1);
});
