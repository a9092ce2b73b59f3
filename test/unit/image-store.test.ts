// The image store over a real content store and a real overlay snapshotter (layers are
// unpacked; nothing is mounted): resolution, tag/untag/remove with Docker's conflicts,
// list filters, inspect/history shapes, prune, and repair after restarts and crashes.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ContentStore } from '../../src/content/store.ts';
import { ImageStore, type ImageRecord, type ImageUser } from '../../src/image/store.ts';
import { chainIds } from '../../src/image/layers.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';
import { TarWriter } from '../../src/archive/tar.ts';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => out.on('end', r));
  const w = new TarWriter(out);
  for (const [name, body] of Object.entries(files)) {
    if (name.endsWith('/')) await w.add({ name, type: 'dir', mode: 0o755, mtime: new Date(1e12) });
    else await w.add({ name, type: 'file', mode: 0o644, mtime: new Date(1e12) }, Buffer.from(body));
  }
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

interface ImageSpec {
  layers: Record<string, string>[];
  created?: string;
  labels?: Record<string, string>;
  cmd?: string[];
  parent?: string;
}

async function makeImage(store: ImageStore, spec: ImageSpec): Promise<ImageRecord> {
  const tars = await Promise.all(spec.layers.map(tarOf));
  const diffIds = tars.map(sha);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: spec.created ?? '2024-01-01T00:00:00Z',
    author: 'tester',
    config: { Env: ['PATH=/bin'], Cmd: spec.cmd ?? ['sh'], Labels: spec.labels },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: spec.created ?? '2024-01-01T00:00:00Z', created_by: `step ${i}` })),
  };
  const sources = new Map(tars.map((t, i) => [diffIds[i], () => once(t)]));
  return store.createImage(Buffer.from(JSON.stringify(config)), { layerSources: sources, parent: spec.parent });
}

const status = (code: number, message?: string | RegExp) => (err: Error & { status?: number }) => {
  assert.equal(err.status, code, err.message);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return true;
};

const short = (id: string) => id.slice(7, 19);

describe('ImageStore', () => {
  let base: string;
  let content: ContentStore;
  let snaps: OverlaySnapshotter;
  let store: ImageStore;
  let containers: Map<string, ImageUser[]>;
  const usedBy = (id: string) => containers.get(id) ?? [];

  const open = async () => {
    content = new ContentStore(join(base, 'content'));
    snaps = new OverlaySnapshotter(join(base, 'snapshots'));
    await content.init();
    await snaps.init();
    const s = new ImageStore(join(base, 'image'), content, snaps);
    await s.init();
    return s;
  };

  beforeEach(async () => {
    base = mkdtempSync(join(tmpdir(), 'berth-images-'));
    containers = new Map();
    store = await open();
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  test('a streamed layer lands in its snapshot and in the content store under its diff id; wrong bytes keep neither', async () => {
    const tar = await tarOf({ 'etc/': '', 'etc/streamed': 'yes' });
    const diffId = sha(tar);
    const chain = chainIds([diffId])[0]!;
    await store.applyLayerStream(undefined, chain, diffId, once(tar));
    assert.equal(await snaps.has(chain), true);
    assert.deepEqual(await content.readBytes(diffId), tar);

    const other = await tarOf({ 'etc/': '', 'etc/other': 'no' });
    const claimed = sha('not these bytes');
    const badChain = chainIds([claimed])[0]!;
    await assert.rejects(store.applyLayerStream(undefined, badChain, claimed, once(other)), /layer digest mismatch/);
    assert.equal(await content.has(claimed), false);
    assert.equal(await content.has(sha(other)), false);
    assert.equal(await snaps.has(badChain), false);
    assert.deepEqual(await fsp.readdir(join(base, 'content', 'ingest')).catch(() => []), []);
  });

  test('creates an image and resolves it by id, prefix and name', async () => {
    const img = await makeImage(store, { layers: [{ 'bin/': '', 'bin/sh': 'shell' }, { 'etc/': '', 'etc/motd': 'hi' }] });
    assert.match(img.id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(img.chainId, chainIds(img.layers.map((l) => l.diffId))[1]);
    assert.ok(img.size > 0);
    assert.equal(await snaps.has(img.chainId!), true);
    await store.tag(img.id, 'busybox');
    await store.tag('busybox', 'localhost:5000/tools/bb:v1');
    for (const ref of [img.id, img.id.slice(7), img.id.slice(7, 12), `sha256:${img.id.slice(7, 15)}`, 'busybox', 'busybox:latest',
      'docker.io/library/busybox:latest', 'localhost:5000/tools/bb:v1']) {
      assert.equal(store.resolve(ref).id, img.id, ref);
    }
    assert.deepEqual(store.resolve('busybox').repoTags, ['busybox:latest', 'localhost:5000/tools/bb:v1']);
    assert.equal(store.resolveForContainer('busybox').chainId, img.chainId);
    assert.deepEqual(store.resolveForContainer('busybox').defaults.Cmd, ['sh']);
    assert.throws(() => store.resolve('nothere'), status(404, 'No such image: nothere:latest'));
    assert.throws(() => store.resolve('busybox:2'), status(404, 'No such image: busybox:2'));
    assert.throws(() => store.resolve(`sha256:${'0'.repeat(64)}`), status(404, `No such image: sha256:${'0'.repeat(64)}`));
    assert.throws(() => store.resolve('Busybox'), status(400, 'invalid reference format: repository name (library/Busybox) must be lowercase'));
    assert.equal(store.find('nothere'), undefined);
  });

  test('an image without layers', async () => {
    const img = await makeImage(store, { layers: [] });
    assert.equal(img.chainId, undefined);
    assert.equal(img.size, 0);
    assert.equal(store.inspect(img.id).Size, 0);
  });

  test('tag refuses digests and the sha256 name', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }] });
    await assert.rejects(store.tag(img.id, `x@sha256:${'a'.repeat(64)}`), status(400, 'refusing to create a tag with a digest reference'));
    await assert.rejects(store.tag(img.id, 'sha256:abc'), status(400, 'refusing to create an ambiguous tag using digest algorithm as name'));
    await assert.rejects(store.tag(img.id, 'Bad'), status(400));
    await assert.rejects(store.tag('missing', 'x'), status(404));
  });

  test('removing by name untags; the last name deletes the image, its snapshots and blobs', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }, { b: '2' }] });
    const events: string[] = [];
    store.onEvent = (action, id, name) => events.push(`${action} ${id === img.id ? 'ID' : id} ${name === img.id ? 'ID' : name}`);
    await store.tag(img.id, 'one');
    await store.tag(img.id, 'two:v2');
    assert.deepEqual(await store.remove('one', {}, usedBy), [{ Untagged: 'one:latest' }]);
    assert.deepEqual(store.resolve(img.id).repoTags, ['two:v2']);
    const res = await store.remove('two:v2', {}, usedBy);
    const [c0, c1] = img.layers.map((l) => l.chainId);
    assert.deepEqual(res, [{ Untagged: 'two:v2' }, { Deleted: img.id }, { Deleted: c1 }, { Deleted: c0 }]);
    assert.equal(store.find(img.id), undefined);
    assert.equal(await snaps.has(c0), false);
    assert.equal(await snaps.has(c1), false);
    assert.deepEqual(await content.list(), []);
    assert.deepEqual(events, ['tag ID one:latest', 'tag ID two:v2', 'untag ID ID', 'untag ID ID', 'delete ID ID']);
    await assert.rejects(store.remove('two:v2', {}, usedBy), status(404, 'No such image: two:v2'));
  });

  test('removing by id: several repositories need force', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }] });
    await store.tag(img.id, 'a');
    await store.tag(img.id, 'b');
    await assert.rejects(store.remove(img.id.slice(7, 19), {}, usedBy),
      status(409, `conflict: unable to delete ${short(img.id)} (must be forced) - image is referenced in multiple repositories`));
    const res = await store.remove(img.id.slice(7, 19), { force: true }, usedBy);
    assert.deepEqual(res, [{ Untagged: 'a:latest' }, { Untagged: 'b:latest' }, { Deleted: img.id }, { Deleted: img.chainId }]);
  });

  test('removing by id with one tag untags and deletes', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }] });
    await store.tag(img.id, 'solo');
    const res = await store.remove(img.id, {}, usedBy);
    assert.deepEqual(res, [{ Untagged: 'solo:latest' }, { Deleted: img.id }, { Deleted: img.chainId }]);
  });

  test('images used by containers', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }] });
    await store.tag(img.id, 'busybox');
    const ctr = 'c'.repeat(64);
    containers.set(img.id, [ctr]);
    await assert.rejects(store.remove('busybox', {}, usedBy),
      status(409, `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${short(img.id)}`));
    await assert.rejects(store.remove(img.id, {}, usedBy),
      status(409, `conflict: unable to delete ${short(img.id)} (must be forced) - image is being used by stopped container cccccccccccc`));
    containers.set(img.id, [{ id: ctr, running: true }]);
    await assert.rejects(store.remove(img.id, { force: true }, usedBy),
      status(409, `conflict: unable to delete ${short(img.id)} (cannot be forced) - image is being used by running container cccccccccccc`));
    // Forced untag by name while running: the tag goes, the image stays.
    assert.deepEqual(await store.remove('busybox', { force: true }, usedBy), [{ Untagged: 'busybox:latest' }]);
    assert.equal(store.resolve(img.id).repoTags.length, 0);

    // A stopped container: force deletes the record but keeps the snapshots it sits on.
    containers.set(img.id, [ctr]);
    const res = await store.remove(img.id, { force: true }, usedBy);
    assert.deepEqual(res, [{ Deleted: img.id }]);
    assert.equal(await snaps.has(img.chainId!), true);
    assert.deepEqual(await store.gcLayers([img.chainId!]), []);
    assert.equal(await snaps.has(img.chainId!), true);
    assert.deepEqual(await store.gcLayers([]), [img.chainId]);
    assert.equal(await snaps.has(img.chainId!), false);
  });

  test('shared layers stay while another image uses them', async () => {
    const a = await makeImage(store, { layers: [{ base: 'x' }] });
    const b = await makeImage(store, { layers: [{ base: 'x' }, { top: 'y' }] });
    assert.equal(a.chainId, b.layers[0].chainId);
    await store.tag(a.id, 'a');
    await store.tag(b.id, 'b');
    assert.deepEqual(await store.remove('a', {}, usedBy), [{ Untagged: 'a:latest' }, { Deleted: a.id }]);
    assert.equal(await snaps.has(a.chainId!), true);
    assert.equal(await content.has(a.layers[0].diffId), true);
    const res = await store.remove('b', {}, usedBy);
    assert.deepEqual(res, [{ Untagged: 'b:latest' }, { Deleted: b.id }, { Deleted: b.chainId }, { Deleted: a.chainId }]);
    assert.deepEqual(await content.list(), []);
  });

  test('parents and children', async () => {
    const parent = await makeImage(store, { layers: [{ p: '1' }] });
    const child = await makeImage(store, { layers: [{ p: '1' }, { c: '2' }], parent: parent.id, created: '2024-02-01T00:00:00Z' });
    await store.tag(child.id, 'child');
    assert.equal(store.resolve('child').parent, parent.id);
    await assert.rejects(store.remove(parent.id, { force: true }, usedBy),
      status(409, `conflict: unable to delete ${short(parent.id)} (cannot be forced) - image has dependent child images`));
    // The untagged parent is an intermediate image: listed only with all.
    assert.deepEqual(store.list().map((s) => s.Id), [child.id]);
    assert.deepEqual(store.list({ all: true }).map((s) => s.Id), [child.id, parent.id]);
    assert.equal(store.list()[0].ParentId, parent.id);
    // Removing the child prunes the parent too.
    const res = await store.remove('child', {}, usedBy);
    assert.deepEqual(res.filter((r) => r.Deleted?.startsWith('sha256:') && (r.Deleted === child.id || r.Deleted === parent.id)).map((r) => r.Deleted), [child.id, parent.id]);
    assert.equal(store.all().length, 0);
  });

  test('list: summaries, filters and errors', async () => {
    const old = await makeImage(store, { layers: [{ o: '1' }], created: '2023-01-01T00:00:00Z', labels: { tier: 'db', env: 'prod' } });
    const mid = await makeImage(store, { layers: [{ m: '1' }], created: '2023-06-01T00:00:00.5Z', labels: { tier: 'web' } });
    const dang = await makeImage(store, { layers: [{ d: '1' }], created: '2024-01-01T00:00:00Z' });
    await store.tag(old.id, 'postgres:15');
    await store.tag(mid.id, 'nginx');
    await store.tag(mid.id, 'registry.local/team/nginx:1.25');

    const all = store.list();
    assert.deepEqual(all.map((s) => s.Id), [dang.id, mid.id, old.id], 'newest first');
    const m = all[1];
    assert.deepEqual(m, {
      Containers: -1, Created: 1685577600, Id: mid.id, Labels: { tier: 'web' }, ParentId: '',
      RepoDigests: [], RepoTags: ['nginx:latest', 'registry.local/team/nginx:1.25'], SharedSize: -1, Size: mid.size,
    });
    assert.deepEqual(all[0].RepoTags, []);
    assert.equal(all[0].Labels, null);

    const ids = (filters: Record<string, string[]>) => store.list({ filters }).map((s) => s.Id);
    assert.deepEqual(ids({ dangling: ['true'] }), [dang.id]);
    assert.deepEqual(ids({ dangling: ['false'] }), [mid.id, old.id]);
    assert.deepEqual(ids({ label: ['tier'] }), [mid.id, old.id]);
    assert.deepEqual(ids({ label: ['tier=db'] }), [old.id]);
    assert.deepEqual(ids({ label: ['tier=db', 'env=prod'] }), [old.id]);
    assert.deepEqual(ids({ label: ['tier=db', 'env=dev'] }), []);
    assert.deepEqual(ids({ before: ['nginx'] }), [old.id]);
    assert.deepEqual(ids({ since: ['postgres:15'] }), [dang.id, mid.id]);
    assert.deepEqual(ids({ until: ['2023-07-01T00:00:00Z'] }), [mid.id, old.id]);
    assert.deepEqual(ids({ reference: ['postgres'] }), [old.id]);
    assert.deepEqual(ids({ reference: ['post*'] }), [old.id]);
    assert.deepEqual(ids({ reference: ['*/team/*'] }), [mid.id]);
    const byRef = store.list({ filters: { reference: ['nginx'] } });
    assert.deepEqual(byRef.map((s) => s.RepoTags), [['nginx:latest']], 'only the matching tags are shown');
    assert.deepEqual(store.list({ sharedSize: true, containerCount: () => 2 })[0].Containers, 2);

    assert.throws(() => store.list({ filters: { x: ['1'] } }), status(400, "invalid filter 'x'"));
    assert.throws(() => store.list({ filters: { dangling: ['maybe'] } }), status(400, "invalid filter 'dangling=maybe'"));
    assert.throws(() => store.list({ filters: { before: ['nothere'] } }), status(404));
    assert.throws(() => store.list({ filters: { reference: ['['] } }), status(400, 'syntax error in pattern'));
  });

  test('shared size counts layers other images use too', async () => {
    const a = await makeImage(store, { layers: [{ base: 'x' }] });
    const b = await makeImage(store, { layers: [{ base: 'x' }, { top: 'y' }] });
    const byId = new Map(store.list({ all: true, sharedSize: true }).map((s) => [s.Id, s]));
    assert.equal(byId.get(a.id)!.SharedSize, a.size);
    assert.equal(byId.get(b.id)!.SharedSize, a.size);
  });

  test('inspect and history have Docker\'s shapes', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }, { b: '2' }], created: '2024-03-04T05:06:07.123456789Z', labels: { k: 'v' } });
    await store.tag(img.id, 'app:1');
    const info = store.inspect('app:1') as Record<string, any>;
    assert.deepEqual(Object.keys(info), ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author',
      'Config', 'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata']);
    assert.equal(info.Id, img.id);
    assert.deepEqual(info.RepoTags, ['app:1']);
    assert.equal(info.Created, '2024-03-04T05:06:07.123456789Z');
    assert.equal(info.Author, 'tester');
    assert.deepEqual(info.Config, { Env: ['PATH=/bin'], Cmd: ['sh'], Labels: { k: 'v' } });
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Os, 'linux');
    assert.deepEqual(info.RootFS, { Type: 'layers', Layers: img.layers.map((l) => l.diffId) });
    assert.equal(info.GraphDriver.Name, 'overlay2');
    assert.equal(info.GraphDriver.Data.UpperDir, snaps.diffDir(img.chainId!));
    assert.equal(info.GraphDriver.Data.LowerDir, snaps.diffDir(img.layers[0].chainId));
    assert.match(info.Metadata.LastTagTime, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.notEqual(info.Metadata.LastTagTime, '0001-01-01T00:00:00Z');

    const hist = store.history('app:1');
    assert.deepEqual(hist, [
      { Comment: '', Created: 1709528767, CreatedBy: 'step 1', Id: img.id, Size: img.layers[1].size, Tags: ['app:1'] },
      { Comment: '', Created: 1709528767, CreatedBy: 'step 0', Id: '<missing>', Size: img.layers[0].size, Tags: null },
    ]);
    const untagged = await makeImage(store, { layers: [{ z: '1' }] });
    assert.equal((store.inspect(untagged.id) as any).Metadata.LastTagTime, '0001-01-01T00:00:00Z');
  });

  test('prune: dangling by default, unused with dangling=false', async () => {
    const dang = await makeImage(store, { layers: [{ d: '1' }] });
    const tagged = await makeImage(store, { layers: [{ t: '1' }], labels: { keep: 'yes' } });
    const used = await makeImage(store, { layers: [{ u: '1' }] });
    await store.tag(tagged.id, 'tagged');
    await store.tag(used.id, 'used');
    containers.set(used.id, ['f'.repeat(64)]);

    const r1 = await store.prune({}, usedBy);
    assert.deepEqual(r1.ImagesDeleted, [{ Deleted: dang.id }, { Deleted: dang.chainId }]);
    assert.equal(r1.SpaceReclaimed, dang.size);
    assert.deepEqual(await store.prune({}, usedBy), { ImagesDeleted: null, SpaceReclaimed: 0 });

    const r2 = await store.prune({ filters: { dangling: ['false'], 'label!': ['keep'] } }, usedBy);
    assert.deepEqual(r2, { ImagesDeleted: null, SpaceReclaimed: 0 });
    const r3 = await store.prune({ filters: { dangling: ['false'] } }, usedBy);
    assert.deepEqual(r3.ImagesDeleted, [{ Untagged: 'tagged:latest' }, { Deleted: tagged.id }, { Deleted: tagged.chainId }]);
    assert.deepEqual(store.all().map((i) => i.id), [used.id]);
    await assert.rejects(store.prune({ filters: { dangling: ['x'] } }, usedBy), status(400, "invalid filter 'dangling=x'"));
    await assert.rejects(store.prune({ filters: { reference: ['x'] } }, usedBy), status(400, "invalid filter 'reference'"));
  });

  test('a new store over the same root finds everything', async () => {
    const img = await makeImage(store, { layers: [{ a: '1' }] });
    await store.tag(img.id, 'persist:me');
    const before = store.inspect('persist:me');
    const again = await open();
    assert.deepEqual(again.inspect('persist:me'), before);
    assert.deepEqual(again.list(), store.list());
  });

  test('init repairs what a crash can leave', async () => {
    const whole = await makeImage(store, { layers: [{ w: '1' }] });
    const noSnap = await makeImage(store, { layers: [{ n: '1' }] });
    const noRefs = await makeImage(store, { layers: [{ r: '1' }] });
    await store.tag(whole.id, 'whole');
    await store.tag(noSnap.id, 'nosnap');
    const imageRoot = join(base, 'image');
    // A record without refs (crash before refs.json was written) is a dangling image.
    // A snapshot that vanished drops its record and then its refs.
    await snaps.remove(noSnap.chainId!);
    // refs to a record that is not there (crash between record delete and... or a hand edit).
    const refsPath = join(imageRoot, 'refs.json');
    const refs = JSON.parse(await fsp.readFile(refsPath, 'utf8'));
    refs['docker.io/library/ghost:latest'] = `sha256:${'9'.repeat(64)}`;
    refs['not a ref'] = whole.id;
    await fsp.writeFile(refsPath, JSON.stringify(refs));
    // Leftovers: a temp record, an unreferenced blob, an orphan snapshot registered before apply.
    await fsp.writeFile(join(imageRoot, 'images', `${'a'.repeat(64)}.json.tmp-1-deadbeef`), '{');
    const orphanBlob = await content.put(Buffer.from('orphan'));
    const reg = JSON.parse(await fsp.readFile(join(imageRoot, 'layers.json'), 'utf8'));
    const orphanTar = await tarOf({ o: 'orphan' });
    const orphanChain = sha(orphanTar);
    await snaps.applyLayer(undefined, orphanChain, once(orphanTar));
    reg[orphanChain] = '';
    await fsp.writeFile(join(imageRoot, 'layers.json'), JSON.stringify(reg));

    const again = await open();
    assert.deepEqual(again.all().map((i) => i.id).sort(), [noRefs.id, whole.id].sort());
    assert.deepEqual(again.resolve(noRefs.id).repoTags, []);
    assert.deepEqual(again.resolve('whole').repoTags, ['whole:latest']);
    assert.throws(() => again.resolve('nosnap'), status(404));
    assert.throws(() => again.resolve('ghost'), status(404));
    const refsAfter = JSON.parse(await fsp.readFile(refsPath, 'utf8'));
    assert.deepEqual(Object.keys(refsAfter), ['docker.io/library/whole:latest']);
    assert.equal(existsSync(join(imageRoot, 'images', `${'a'.repeat(64)}.json.tmp-1-deadbeef`)), false);
    assert.equal(existsSync(join(imageRoot, 'images', `${noSnap.id.slice(7)}.json`)), false);
    assert.equal(await content.has(orphanBlob), false);
    assert.equal(await content.has(noSnap.id), false, 'the dropped image\'s config blob is collected');
    assert.deepEqual(await again.gcLayers([]), [orphanChain]);
    assert.equal(await snaps.has(orphanChain), false);
  });

  test('concurrent creations of the same image are serialized', async () => {
    const spec: ImageSpec = { layers: [{ same: '1' }, { also: '2' }] };
    const [a, b] = await Promise.all([makeImage(store, spec), makeImage(store, spec)]);
    assert.equal(a.id, b.id);
    assert.equal(store.all().length, 1);
  });

  test('a layer whose content does not match its diff id is refused', async () => {
    const tar = await tarOf({ a: '1' });
    const other = await tarOf({ b: '2' });
    const config = { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha(tar)] } };
    await assert.rejects(
      store.createImage(Buffer.from(JSON.stringify(config)), { layerSources: new Map([[sha(tar), () => once(other)]]) }),
      status(400, /invalid diffID for layer 0/),
    );
    assert.equal(store.all().length, 0);
    assert.equal(await content.has(sha(other)), false);
    assert.equal(await snaps.has(sha(tar)), false);
    await assert.rejects(store.createImage(Buffer.from('{"rootfs":{"diff_ids":["nope"]}}')), status(400));
    await assert.rejects(store.createImage(Buffer.from(JSON.stringify({ ...config, os: 'windows' }))), status(400));
  });
});
