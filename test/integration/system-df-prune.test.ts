// docker system df and docker system prune through a real berthd and the real docker CLI
// (28.x), and berth's own system df/prune against the same daemon: sizes and counts read
// from real images, containers and volumes; what each prune removes and what it keeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let work: string;
let tarball: string;
before(async () => {
  d = await startDaemon();
  // A one-file root file system, imported as small images of its own.
  work = await fsp.mkdtemp(join(tmpdir(), 'berth-sysdf-'));
  await fsp.mkdir(join(work, 'root'));
  await fsp.writeFile(join(work, 'root', 'hello'), 'x'.repeat(5000));
  tarball = join(work, 'root.tar');
  const tar = await run('tar', ['-cf', tarball, '-C', join(work, 'root'), '.']);
  assert.equal(tar.code, 0, tar.stderr);
});
after(async () => {
  await d?.cleanup();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

async function ok(args: string[], berth = false): Promise<string> {
  const r = berth ? await d.berth(args) : await d.docker(args);
  assert.equal(r.code, 0, `${berth ? 'berth' : 'docker'} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Back to a daemon with busybox only: no containers, user networks, volumes or other images. */
async function reset(): Promise<void> {
  const ids = (await ok(['ps', '-aq'])).split('\n').filter(Boolean);
  if (ids.length) await ok(['rm', '-f', ...ids]);
  await ok(['network', 'prune', '-f']);
  await ok(['volume', 'prune', '-a', '-f']);
  const images = (await ok(['images', '-a', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).split('\n').filter(Boolean);
  for (const line of images) {
    const [name, id] = line.split(' ') as [string, string];
    // Other tags of busybox are only untagged; anything else goes.
    if (name !== 'busybox:latest') await d.docker(['rmi', '-f', name.startsWith('<none>') ? id : name]);
  }
  if (!images.some((l) => l.startsWith('busybox:latest '))) await ok(['load', '-i', BUSYBOX_TAR]);
}

/** A test body that leaves the daemon as it found it, even when it fails. */
function clean(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } finally {
      await reset();
    }
  };
}

/** The relative times and the column padding they cause, for comparing two listings taken moments apart. */
function untimed(s: string): string {
  return s
    .replace(/(Less than a second|About an? \w+|\d+ \w+) ago/g, 'T ago')
    .replace(/Up (Less than a second|About an? \w+|\d+ \w+)/g, 'Up T')
    .replace(/ {2,}/g, '  ');
}

/** Makes an image from the tarball; importing again under the same name leaves the older one dangling. */
async function importImage(name: string): Promise<string> {
  return (await ok(['import', tarball, name])).trim();
}

test('GET /system/df: sizes and counts of real images, containers and volumes; the type query', clean(async () => {
  await ok(['run', '--name', 'writer', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=1024']);
  await ok(['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '300']);
  await ok(['tag', 'busybox', 'second:tag']);
  const small = await importImage('small:1');
  await ok(['volume', 'create', 'data']);
  await ok(['volume', 'create', 'empty']);
  await fsp.writeFile(join(d.dataRoot, 'volumes', 'data', '_data', 'blob'), Buffer.alloc(100_000, 7));
  await fsp.mkdir(join(d.dataRoot, 'volumes', 'data', '_data', 'sub'));
  await fsp.writeFile(join(d.dataRoot, 'volumes', 'data', '_data', 'sub', 'more'), Buffer.alloc(2_345, 1));

  const res = await d.api('GET', '/v1.50/system/df');
  assert.equal(res.status, 200, res.body);
  const du = res.json();
  assert.deepEqual(Object.keys(du), ['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache']);
  assert.deepEqual(du.BuildCache, []);

  const busybox = du.Images.find((i: any) => i.RepoTags.includes('busybox:latest'));
  const smallImg = du.Images.find((i: any) => i.Id === small);
  assert.equal(du.Images.length, 2);
  assert.deepEqual(busybox.RepoTags.sort(), ['busybox:latest', 'second:tag']);
  assert.equal(busybox.Containers, 2);
  assert.equal(busybox.SharedSize, 0);
  assert.ok(busybox.Size > 1_000_000, `busybox size ${busybox.Size}`);
  assert.equal(smallImg.Containers, 0);
  assert.ok(smallImg.Size >= 5000 && smallImg.Size < 100_000, `small image size ${smallImg.Size}`);
  assert.equal(du.LayersSize, busybox.Size + smallImg.Size);

  const writer = du.Containers.find((c: any) => c.Names[0] === '/writer');
  const sleeper = du.Containers.find((c: any) => c.Names[0] === '/sleeper');
  assert.equal(du.Containers.length, 2);
  assert.equal(writer.State, 'exited');
  assert.equal(sleeper.State, 'running');
  assert.ok(writer.SizeRw >= 1_048_576 && writer.SizeRw < 1_200_000, `writer SizeRw ${writer.SizeRw}`);
  assert.equal(writer.SizeRootFs, writer.SizeRw + busybox.Size);
  assert.ok(sleeper.SizeRw < 100_000, `sleeper SizeRw ${sleeper.SizeRw}`);
  assert.ok(!('ImageManifestDescriptor' in writer));

  const data = du.Volumes.find((v: any) => v.Name === 'data');
  assert.deepEqual(data.UsageData, { Size: 102_345, RefCount: 0 });
  assert.deepEqual(du.Volumes.find((v: any) => v.Name === 'empty').UsageData, { Size: 0, RefCount: 0 });

  // Only what the type query asks for (API 1.42+), each kind once however often it is named.
  const vols = (await d.api('GET', '/v1.50/system/df?type=volume&type=volume')).json();
  assert.deepEqual({ ...vols, Volumes: vols.Volumes.length }, { LayersSize: 0, Images: null, Containers: null, Volumes: 2, BuildCache: null });
  const some = (await d.api('GET', '/v1.50/system/df?type=container&type=build-cache')).json();
  assert.equal(some.Containers.length, 2);
  assert.deepEqual([some.LayersSize, some.Images, some.Volumes, some.BuildCache], [0, null, null, []]);
  const imgs = (await d.api('GET', '/v1.50/system/df?type=image')).json();
  assert.equal(imgs.LayersSize, du.LayersSize);
  assert.equal(imgs.Images.length, 2);
  const old = (await d.api('GET', '/v1.41/system/df?type=volume')).json();
  assert.ok(Array.isArray(old.Images) && Array.isArray(old.Containers) && Array.isArray(old.Volumes));
  const bad = await d.api('GET', '/v1.50/system/df?type=volume&type=layers');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'unknown object type: layers');

  // The docker CLI's views of it, and berth's, the same.
  const summary = await ok(['system', 'df']);
  assert.match(summary, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\n/);
  assert.match(summary, /\nImages +2 +1 +\S+ +\S+ \(\d+%\)\n/);
  assert.match(summary, /\nContainers +2 +1 +1\.0\d\dMB +1\.0\d\dMB \(\d+%\)\n/);
  assert.match(summary, /\nLocal Volumes +2 +0 +102\.3kB +102\.3kB \(100%\)\n/);
  assert.match(summary, /\nBuild Cache +0 +0 +0B +0B\n$/);
  assert.equal(await ok(['system', 'df'], true), summary);
  assert.equal(await ok(['system', 'df', '--format', '{{json .}}'], true), await ok(['system', 'df', '--format', '{{json .}}']));

  const verbose = await ok(['system', 'df', '-v']);
  assert.match(verbose, /\nbusybox +latest +[0-9a-f]{12} +.* ago +\S+ +0B +\S+ +2\n/);
  assert.match(verbose, /\nsmall +1 +[0-9a-f]{12} +.* ago +\S+ +0B +\S+ +0\n/);
  assert.match(verbose, /\n[0-9a-f]{12} +busybox +"dd if=\/dev\/zero of=…" +0 +1\.0\dMB +.* ago +Exited \(0\) .* ago +writer\n/);
  assert.match(verbose, /\ndata +0 +102\.3kB\nempty +0 +0B\n/);
  assert.equal(untimed(await ok(['system', 'df', '-v'], true)), untimed(verbose));
  const json = JSON.parse(await ok(['system', 'df', '-v', '--format', 'json'], true));
  assert.deepEqual(json.Volumes.map((v: any) => [v.Name, v.Links, v.Size]), [['data', '0', '102.3kB'], ['empty', '0', '0B']]);
  assert.deepEqual(Object.keys(json), ['Images', 'Containers', 'Volumes', 'BuildCache']);
}));

test('docker system prune -f: stopped containers, unused networks, dangling images; running ones and volumes stay', clean(async () => {
  await ok(['network', 'create', 'busy']);
  await ok(['network', 'create', 'idle']);
  const keeper = (await ok(['run', '-d', '--name', 'keeper', '--network', 'busy', 'busybox', 'sleep', '300'])).trim();
  await ok(['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo 12345 > /note']);
  const done = (await ok(['inspect', '-f', '{{.Id}}', 'done'])).trim();
  const dangling = await importImage('dang:1');
  const current = await importImage('dang:1');
  assert.notEqual(dangling, current);
  await ok(['volume', 'create', 'named']);
  const anon = (await ok(['volume', 'create'])).trim();

  const pruned = await d.docker(['system', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal(pruned.stderr, '');
  // The dangling image shares its only layer with dang:1, so the space is the container's "12345\n".
  assert.equal(pruned.stdout, `Deleted Containers:\n${done}\n\nDeleted Networks:\nidle\n\nDeleted Images:\ndeleted: ${dangling}\n\nTotal reclaimed space: 6B\n`);
  assert.equal(await ok(['ps', '-aq', '--no-trunc']), keeper + '\n');
  assert.equal(await ok(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom']), 'busy\n');
  assert.equal(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'dang:1\nbusybox:latest\n');
  assert.equal(await ok(['volume', 'ls', '-q']), `${anon}\nnamed\n`);

  // Nothing left to prune but the build cache: berth has none, docker still asks and exits 0.
  const again = await d.docker(['system', 'prune', '-f']);
  assert.deepEqual([again.code, again.stdout, again.stderr], [0, 'Total reclaimed space: 0B\n', '']);
  const build = await d.api('POST', '/v1.50/build/prune?all=1&filters=');
  assert.deepEqual([build.status, build.body], [200, '{"CachesDeleted":null,"SpaceReclaimed":0}\n']);
  const badBuild = await d.api('POST', `/v1.50/build/prune?filters=${encodeURIComponent('{"until":["1h","2h"]}')}`);
  assert.deepEqual([badBuild.status, badBuild.json().message], [400, 'failed to prune build cache: filters expect only one value']);

  // --volumes: unused anonymous volumes go; named ones stay, with -a too (docker 28 does not send all=true).
  const vols = await d.docker(['system', 'prune', '--volumes', '-f']);
  assert.equal(vols.stdout, `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 0B\n`);
  const all = await d.docker(['system', 'prune', '-a', '--volumes', '-f']);
  assert.equal(all.code, 0, all.stderr);
  // -a: images without containers go (dang:1); busybox stays, the running keeper uses it.
  assert.match(all.stdout, new RegExp(`^Deleted Images:\nuntagged: dang:1\ndeleted: ${current}\n(deleted: sha256:[0-9a-f]{64}\n)*\nTotal reclaimed space: `));
  assert.equal(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'busybox:latest\n');
  assert.equal(await ok(['volume', 'ls', '-q']), 'named\n');
  assert.equal(await ok(['ps', '-q', '--no-trunc']), keeper + '\n');

  // With the keeper gone, -a takes its network and busybox too.
  await ok(['rm', '-f', 'keeper']);
  const last = await ok(['system', 'prune', '-a', '-f']);
  assert.match(last, /^Deleted Networks:\nbusy\n\nDeleted Images:\nuntagged: busybox:latest\ndeleted: sha256:/);
  assert.equal(await ok(['images', '-aq']), '');
}));

test('berth system prune prints what docker system prune prints for the same state', clean(async () => {
  const setUp = async () => {
    await ok(['network', 'create', 'idle']);
    await ok(['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo 12345 > /note']);
    await importImage('dang:1');
    await importImage('dang:1');
    await ok(['volume', 'create']);
  };
  const ids = (s: string) => s.replace(/[0-9a-f]{64}/g, '<id>');
  for (const args of [['system', 'prune', '-f', '--volumes'], ['system', 'prune', '-a', '-f']]) {
    await setUp();
    const viaDocker = await d.docker(args);
    await reset();
    await setUp();
    const viaBerth = await d.berth(args);
    await reset();
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.equal(viaBerth.code, 0, viaBerth.stderr);
    assert.match(viaDocker.stdout, /Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nidle\n\n/);
    assert.equal(ids(viaBerth.stdout), ids(viaDocker.stdout));
    assert.equal(viaBerth.stderr, viaDocker.stderr);
  }
  // Declining at the prompt changes nothing, for both.
  await setUp();
  for (const cli of ['docker', 'berth'] as const) {
    const r = await d[cli](['system', 'prune', '-a', '--volumes'], { input: 'n\n' });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^WARNING! This will remove:\n  - all stopped containers\n[^]*\nAre you sure you want to continue\? \[y\/N\] $/);
  }
  assert.equal((await ok(['ps', '-aq'])).split('\n').filter(Boolean).length, 1);
  assert.equal(await ok(['network', 'ls', '-q', '--filter', 'name=idle']) !== '', true);
}));

test('system prune --filter label= and until= reach every prune', clean(async () => {
  await ok(['network', 'create', '--label', 'tier=tmp', 'tmpnet']);
  await ok(['network', 'create', 'plain']);
  await ok(['create', '--label', 'tier=tmp', '--name', 'tmpctr', 'busybox']);
  await ok(['create', '--name', 'plainctr', 'busybox']);
  await ok(['volume', 'create', '--label', 'tier=tmp', '--label', 'com.docker.volume.anonymous=', 'tmpvol']);
  await ok(['volume', 'create', '--label', 'com.docker.volume.anonymous=', 'plainvol']);

  const labelled = await d.docker(['system', 'prune', '-f', '--volumes', '--filter', 'label=tier=tmp']);
  assert.equal(labelled.code, 0, labelled.stderr);
  assert.match(labelled.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\ntmpnet\n\nDeleted Volumes:\ntmpvol\n\nTotal reclaimed space: 0B\n$/);
  assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}']), 'plainctr\n');
  assert.equal(await ok(['volume', 'ls', '-q']), 'plainvol\n');

  // until= a time before everything was made: nothing matches; berth's CLI sends the same.
  for (const cli of ['docker', 'berth'] as const) {
    const r = await d[cli](['system', 'prune', '-f', '--filter', 'until=2000-01-01T00:00:00Z']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Total reclaimed space: 0B\n', ''], cli);
  }
  assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}']), 'plainctr\n');
  // until= a time after: the stopped container and the unused network go.
  const later = String(Math.floor(Date.now() / 1000) + 3600);
  const r = await d.berth(['system', 'prune', '-f', '--filter', `until=${later}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nplain\n\nTotal reclaimed space: 0B\n$/);
  assert.equal(await ok(['ps', '-aq']), '');

  for (const cli of ['docker', 'berth'] as const) {
    const v = await d[cli](['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
    assert.deepEqual([v.code, v.stdout, v.stderr], [1, '', 'ERROR: The "until" filter is not supported with "--volumes"\n'], cli);
  }
}));
