// docker save / load / import over real stores (content store, overlay snapshotter; layers
// are unpacked, nothing is mounted): save -> load round trips, archives in Docker's classic
// and Docker 25 OCI layouts built by hand (gzip and zstd layers, symlinked layers, nested
// indexes), hostile archives, --change instructions, and the busybox image script.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, promises as fsp, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { ContentStore } from '../../src/content/store.ts';
import { ImageStore } from '../../src/image/store.ts';
import { load, save } from '../../src/image/archive.ts';
import { importImage } from '../../src/image/import.ts';
import { applyChanges } from '../../src/image/changes.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';
import { TarWriter, readTar } from '../../src/archive/tar.ts';
import type { TarEntryType } from '../../src/archive/tar.ts';
import { makeBusyboxImage } from '../../scripts/make-busybox-image.ts';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice(7);

interface Spec {
  name: string;
  type?: TarEntryType;
  body?: string | Buffer;
  linkname?: string;
}

async function tarOf(entries: Spec[]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => out.on('end', r));
  const w = new TarWriter(out);
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await w.add({ name: e.name, type, mode: type === 'dir' ? 0o755 : 0o644, mtime: new Date(1e12), linkname: e.linkname ?? '' }, body);
  }
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

const files = (o: Record<string, string | Buffer>): Spec[] => Object.entries(o).map(([name, body]) => ({ name, body }));

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

function configOf(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-05-06T07:08:09Z',
    config: { Cmd: ['/bin/app'], Env: ['A=1'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-05-06T07:08:09Z', created_by: `layer ${i}` })),
    ...extra,
  }));
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of gen) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const status = (code: number, message?: RegExp) => (err: Error & { status?: number }) => {
  assert.equal(err.status, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('image archives', () => {
  let base: string;
  let n = 0;

  async function newStore(): Promise<ImageStore> {
    const dir = join(base, `store${n++}`);
    const content = new ContentStore(join(dir, 'content'));
    const snaps = new OverlaySnapshotter(join(dir, 'snapshots'));
    await content.init();
    await snaps.init();
    const s = new ImageStore(join(dir, 'image'), content, snaps);
    await s.init();
    return s;
  }

  const diffDir = (s: ImageStore, chainId: string) => (s.snapshotter as OverlaySnapshotter).diffDir(chainId);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-archive-'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  async function addImage(s: ImageStore, layers: Buffer[], extra?: Record<string, unknown>) {
    const ids = layers.map(sha);
    return s.createImage(configOf(ids, extra), { layerSources: new Map(layers.map((l, i) => [ids[i], () => once(l)])) });
  }

  async function saveToBuffer(s: ImageStore, names: string[]): Promise<Buffer> {
    const out = new PassThrough();
    const result = collect(out);
    await save(s, names, out);
    return result;
  }

  test('save then load into another store gives the same images', async () => {
    const src = await newStore();
    const l0 = await tarOf([{ name: 'bin/' }, { name: 'bin/app', body: 'app' }]);
    const l1 = await tarOf([{ name: 'etc/' }, { name: 'etc/conf', body: 'v1' }]);
    const a = await addImage(src, [l0, l1]);
    const b = await addImage(src, [l0], { created: '2023-01-01T00:00:00Z' });
    const c = await addImage(src, [await tarOf([{ name: 'x', body: 'untagged' }])]);
    await src.tag(a.id, 'app:1');
    await src.tag(a.id, 'localhost:5000/app:prod');
    await src.tag(b.id, 'base');

    const archive = await saveToBuffer(src, ['app:1', 'localhost:5000/app:prod', 'base', c.id.slice(7, 19)]);
    const names: string[] = [];
    for await (const e of readTar(once(archive))) names.push(e.header.name);
    const blobNames = names.filter((x) => x.startsWith('blobs/sha256/') && x.length > 13);
    assert.deepEqual(names, ['blobs/', 'blobs/sha256/', ...[...blobNames].sort(), 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
    // l0 is shared: written once.
    assert.equal(blobNames.filter((x) => x === `blobs/sha256/${hex(sha(l0))}`).length, 1);

    const dst = await newStore();
    const lines = await load(dst, once(archive));
    assert.deepEqual([...lines].sort(), ['Loaded image ID: ' + c.id, 'Loaded image: app:1', 'Loaded image: base:latest', 'Loaded image: localhost:5000/app:prod'].sort());
    for (const name of ['app:1', 'localhost:5000/app:prod', 'base', c.id]) {
      const want = src.resolve(name);
      const got = dst.resolve(name);
      assert.equal(got.id, want.id, name);
      assert.deepEqual(got.repoTags, want.repoTags, name);
      assert.deepEqual(got.config, want.config, name);
    }
    assert.equal(await fsp.readFile(join(diffDir(dst, dst.resolve('app:1').chainId!), 'etc/conf'), 'utf8'), 'v1');
    // A compressed archive loads too (docker load -i image.tar.gz).
    const third = await newStore();
    assert.equal((await load(third, once(gzipSync(archive)))).length, 4);
    assert.equal(third.resolve('app:1').id, a.id);
    // The archive saved again from the second store is byte-identical.
    assert.ok(Buffer.compare(await saveToBuffer(dst, ['app:1', 'localhost:5000/app:prod', 'base', c.id]), archive) === 0);
  });

  test('save writes Docker 25\'s layout: OCI index with name annotations, manifest.json, repositories', async () => {
    const s = await newStore();
    const layer = await tarOf([{ name: 'f', body: '1' }]);
    const img = await addImage(s, [layer]);
    await s.tag(img.id, 'myimg:v1');
    await s.tag(img.id, 'myimg:v2');
    const dir = join(base, 'x');
    await fsp.mkdir(dir);
    await fsp.writeFile(join(base, 'saved.tar'), await saveToBuffer(s, ['myimg']));
    execFileSync('tar', ['-xf', join(base, 'saved.tar'), '-C', dir]);
    const index = JSON.parse(await fsp.readFile(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m: any) => m.annotations), [
      { 'io.containerd.image.name': 'docker.io/library/myimg:v1', 'org.opencontainers.image.ref.name': 'v1' },
      { 'io.containerd.image.name': 'docker.io/library/myimg:v2', 'org.opencontainers.image.ref.name': 'v2' },
    ]);
    const manifest = JSON.parse(await fsp.readFile(join(dir, 'blobs/sha256', hex(index.manifests[0].digest)), 'utf8'));
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.config.digest, img.id);
    assert.deepEqual(manifest.layers, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }]);
    assert.deepEqual(JSON.parse(await fsp.readFile(join(dir, 'manifest.json'), 'utf8')), [
      { Config: `blobs/sha256/${hex(img.id)}`, RepoTags: ['myimg:v1', 'myimg:v2'], Layers: [`blobs/sha256/${hex(sha(layer))}`] },
    ]);
    assert.deepEqual(JSON.parse(await fsp.readFile(join(dir, 'repositories'), 'utf8')), { myimg: { v1: hex(sha(layer)), v2: hex(sha(layer)) } });
    assert.equal(await fsp.readFile(join(dir, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
    assert.ok((await fsp.readFile(join(dir, 'blobs/sha256', hex(sha(layer))))).equals(layer), 'layers are the original bytes');
    await assert.rejects(saveToBuffer(s, ['nothere']), status(404));
    await assert.rejects(saveToBuffer(s, []), status(400));
  });

  test('loads the classic docker save layout (layer.tar dirs, symlinked shared layers)', async () => {
    const l0 = await tarOf(files({ 'base.txt': 'base' }));
    const l1 = await tarOf(files({ 'top.txt': 'top' }));
    const cfgA = configOf([sha(l0), sha(l1)]);
    const cfgB = configOf([sha(l0)], { created: '2020-01-01T00:00:00Z' });
    const archive = await tarOf([
      { name: 'manifest.json', body: JSON.stringify([
        { Config: `${hex(sha(cfgA))}.json`, RepoTags: ['classic:latest', 'other/classic:2'], Layers: ['v1a/layer.tar', 'v1b/layer.tar'] },
        { Config: `${hex(sha(cfgB))}.json`, RepoTags: null, Layers: ['v1c/layer.tar'] },
      ]) },
      { name: 'v1a/' }, { name: 'v1a/VERSION', body: '1.0' }, { name: 'v1a/json', body: '{}' }, { name: 'v1a/layer.tar', body: l0 },
      { name: 'v1b/' }, { name: 'v1b/layer.tar', body: l1 },
      { name: 'v1c/' }, { name: 'v1c/layer.tar', type: 'symlink', linkname: '../v1a/layer.tar' },
      { name: `${hex(sha(cfgA))}.json`, body: cfgA },
      { name: `${hex(sha(cfgB))}.json`, body: cfgB },
      { name: 'repositories', body: '{}' },
    ]);
    const s = await newStore();
    const lines = await load(s, once(archive));
    assert.deepEqual(lines, ['Loaded image: classic:latest', 'Loaded image: other/classic:2', `Loaded image ID: ${sha(cfgB)}`]);
    const a = s.resolve('classic');
    assert.equal(a.id, sha(cfgA));
    assert.deepEqual(a.repoTags, ['classic:latest', 'other/classic:2']);
    assert.equal(await fsp.readFile(join(diffDir(s, a.chainId!), 'top.txt'), 'utf8'), 'top');
    assert.equal(s.resolve(sha(cfgB)).chainId, a.layers[0].chainId);
    // Only blobs images use are kept: no VERSION/json/repositories/manifest.json leftovers.
    assert.deepEqual(await s.content.list(), [sha(l0), sha(l1), sha(cfgA), sha(cfgB)].sort());
    assert.deepEqual(await fsp.readdir(join(s.content.root, 'ingest')), []);

    // Loading a newer image under the same tag moves the tag, as Docker says.
    const cfgC = configOf([sha(l0)], { created: '2025-01-01T00:00:00Z' });
    const again = await tarOf([
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['classic:latest'], Layers: ['l/layer.tar'] }]) },
      { name: 'c.json', body: cfgC }, { name: 'l/layer.tar', body: l0 },
    ]);
    assert.deepEqual(await load(s, once(again)), [
      `The image classic:latest already exists, renaming the old one with ID ${sha(cfgA)} to empty string`,
      'Loaded image: classic:latest',
    ]);
    assert.deepEqual(s.resolve(sha(cfgA)).repoTags, ['other/classic:2']);
  });

  test('loads Docker 25 / containerd OCI layouts with gzip and zstd layers and nested indexes', async () => {
    const l0 = await tarOf(files({ 'g.txt': 'gzip' }));
    const l1 = await tarOf(files({ 'z.txt': 'zstd' }));
    const gz = gzipSync(l0);
    const zs = zstdCompressSync(l1);
    const cfg = configOf([sha(l0), sha(l1)]);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(gz), size: gz.length },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha(zs), size: zs.length },
      ],
    }));
    const arm = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: sha('nope'), size: 1 }, layers: [] }));
    const attestation = Buffer.from('{}');
    const nested = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(arm), size: arm.length, platform: { architecture: 'arm64', os: 'linux' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(attestation), size: 2, platform: { architecture: 'unknown', os: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
      ],
    }));
    const index = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(nested), size: nested.length,
          annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1', 'org.opencontainers.image.ref.name': '1' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': 'ghcr.io/x/single:2' } },
      ],
    });
    const blob = (b: Buffer): Spec => ({ name: `blobs/sha256/${hex(sha(b))}`, body: b });
    // Entries in an unusual order: the index before the blobs it names.
    const archive = await tarOf([
      { name: 'index.json', body: index }, { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'blobs/' }, { name: 'blobs/sha256/' },
      blob(zs), blob(nested), blob(manifest), blob(arm), blob(attestation), blob(gz), blob(cfg),
    ]);
    const s = await newStore();
    const lines = await load(s, once(archive));
    assert.deepEqual(lines, ['Loaded image: multi:1', 'Loaded image: ghcr.io/x/single:2']);
    const img = s.resolve('multi:1');
    assert.equal(img.id, sha(cfg));
    assert.deepEqual(img.manifests, [sha(manifest)]);
    assert.deepEqual(img.layers.map((l) => l.diffId), [sha(l0), sha(l1)]);
    assert.equal(await fsp.readFile(join(diffDir(s, img.chainId!), 'z.txt'), 'utf8'), 'zstd');
    assert.equal(await fsp.readFile(join(diffDir(s, img.layers[0].chainId), 'g.txt'), 'utf8'), 'gzip');
    // The uncompressed layers are kept, so a later save writes exact diff-id blobs.
    assert.equal(await s.content.has(sha(l0)), true);
    assert.equal(await s.content.has(sha(gz)), false);
  });

  test('hostile or broken archives are refused and leave nothing', async () => {
    const s = await newStore();
    const layer = await tarOf(files({ a: '1' }));
    const cfg = configOf([sha(layer)]);
    const sentinel = join(base, 'outside');
    const cases: [string, Spec[], RegExp][] = [
      ['no manifest', [{ name: 'x', body: '1' }], /no manifest.json or index.json/],
      ['config path escapes', [{ name: 'manifest.json', body: JSON.stringify([{ Config: '../outside', RepoTags: [], Layers: [] }]) }], /not found/],
      ['absolute layer path', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['/etc/passwd'] }]) },
        { name: 'c.json', body: cfg }], /not found/],
      ['symlink out of the archive', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l.tar'] }]) },
        { name: 'c.json', body: cfg }, { name: 'l.tar', type: 'symlink', linkname: '/etc/passwd' }], /not found/],
      ['blob not matching its name', [{ name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${hex(sha('other'))}`, RepoTags: [], Layers: [] }]) },
        { name: `blobs/sha256/${hex(sha('other'))}`, body: cfg }], /does not match its digest/],
      ['layer not matching the diff id', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l.tar'] }]) },
        { name: 'c.json', body: cfg }, { name: 'l.tar', body: await tarOf(files({ b: '2' })) }], /invalid diffID for layer 0/],
      ['layer count mismatch', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [] }]) },
        { name: 'c.json', body: cfg }], /layers length mismatch/],
      ['bad tag', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['Bad:x'], Layers: ['l.tar'] }]) },
        { name: 'c.json', body: cfg }, { name: 'l.tar', body: layer }], /must be lowercase/],
      ['digest as tag', [{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [`a@${sha('x')}`], Layers: ['l.tar'] }]) },
        { name: 'c.json', body: cfg }, { name: 'l.tar', body: layer }], /invalid tag/],
      ['manifest not JSON', [{ name: 'manifest.json', body: '{' }], /not valid JSON/],
    ];
    for (const [what, entries, message] of cases) {
      await assert.rejects(load(s, once(await tarOf(entries))), status(400, message), what);
    }
    await assert.rejects(load(s, once(Buffer.from('this is not a tar archive at all'.repeat(20)))), /invalid tar header/);
    assert.equal(existsSync(sentinel), false);
    assert.deepEqual(s.all(), []);
    assert.deepEqual(await fsp.readdir(join(s.content.root, 'ingest')), []);
    // The one layer that did match its diff id may be in the store; nothing references it.
    assert.ok((await s.content.list()).every((d) => d === sha(layer) || d === sha(cfg)));
  });

  test('import: a gzip\'d rootfs with --change instructions and a message', async () => {
    const s = await newStore();
    const rootfs = await tarOf([{ name: 'bin/' }, { name: 'bin/tool', body: 'tool' }]);
    const id = await importImage(s, once(gzipSync(rootfs)), {
      reference: 'imported:v1',
      message: 'from a tarball',
      changes: ['ENV A=1 B="two words"', 'ENV C=${A}-$B', 'CMD ["/bin/tool", "--x"]', 'EXPOSE 80 53/udp', 'LABEL a.b="c d"',
        'USER nobody', 'WORKDIR /srv', 'WORKDIR data', 'VOLUME ["/vol"]', 'STOPSIGNAL SIGINT', 'ONBUILD RUN echo hi'],
    });
    const img = s.resolve('imported:v1');
    assert.equal(img.id, id);
    assert.deepEqual(img.layers.map((l) => l.diffId), [sha(rootfs)]);
    assert.equal(img.config.comment, 'from a tarball');
    assert.equal(img.config.os, 'linux');
    assert.equal(img.config.architecture, 'amd64');
    assert.deepEqual(img.config.config, {
      Env: ['A=1', 'B=two words', 'C=1-two words'], Cmd: ['/bin/tool', '--x'], ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { 'a.b': 'c d' }, User: 'nobody', WorkingDir: '/srv/data', Volumes: { '/vol': {} }, StopSignal: 'SIGINT', OnBuild: ['RUN echo hi'],
    });
    const hist = s.history(id);
    assert.equal(hist.length, 1);
    assert.equal(hist[0].Comment, 'from a tarball');
    assert.deepEqual(hist[0].Tags, ['imported:v1']);
    assert.notEqual((s.inspect(id) as any).Metadata.LastTagTime, '0001-01-01T00:00:00Z');
    assert.equal(await fsp.readFile(join(diffDir(s, img.chainId!), 'bin/tool'), 'utf8'), 'tool');

    await assert.rejects(importImage(s, once(rootfs), { changes: ['RUN echo'] }), status(400, /^run is not a valid change command$/));
    await assert.rejects(importImage(s, once(rootfs), { reference: `x@${sha('y')}` }), status(400, /cannot import digest reference/));
    await assert.rejects(importImage(s, once(rootfs), { platform: 'windows/amd64' }), status(400));
    const plain = await importImage(s, once(rootfs));
    assert.deepEqual(s.resolve(plain).repoTags, []);
  });

  test('change instructions parse as a Dockerfile does', () => {
    assert.deepEqual(applyChanges(['CMD echo "hi there"']).Cmd, ['/bin/sh', '-c', 'echo "hi there"']);
    assert.deepEqual(applyChanges(['ENTRYPOINT ["/e"]']), { Entrypoint: ['/e'], Cmd: null });
    assert.deepEqual(applyChanges(['CMD ["c"]', 'ENTRYPOINT /e']), { Cmd: ['c'], Entrypoint: ['/bin/sh', '-c', '/e'] });
    assert.deepEqual(applyChanges(['ENV PATH /usr/bin:/bin']).Env, ['PATH=/usr/bin:/bin']);
    assert.deepEqual(applyChanges(['ENV A=1', 'ENV A=2']).Env, ['A=2']);
    assert.deepEqual(applyChanges(["ENV X='$lit' Y=${UNSET:-dflt} Z=${A:+alt}"]).Env, ['X=$lit', 'Y=dflt', 'Z=']);
    assert.deepEqual(applyChanges(['EXPOSE 8000-8002/tcp']).ExposedPorts, { '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {} });
    assert.deepEqual(applyChanges(['VOLUME /a /b']).Volumes, { '/a': {}, '/b': {} });
    assert.deepEqual(applyChanges(['healthcheck --interval=5s --retries=3 CMD curl -f http://x/']).Healthcheck,
      { Interval: 5e9, Retries: 3, Test: ['CMD-SHELL', 'curl -f http://x/'] });
    assert.deepEqual(applyChanges(['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
    assert.deepEqual(applyChanges(['# comment', '', 'LABEL multi=\\', 'line']).Labels, { multi: 'line' });
    assert.throws(() => applyChanges(['ENV =x']), /names can not be blank/);
    assert.throws(() => applyChanges(['ENV a=1 b']), /can't find = in "b"/);
    assert.throws(() => applyChanges(['EXPOSE abc']), /Invalid containerPort: abc/);
    assert.throws(() => applyChanges(['VOLUME [""]']), /VOLUME specified can not be an empty string/);
    assert.throws(() => applyChanges(['ONBUILD ONBUILD RUN x']), /Chaining ONBUILD/);
    assert.throws(() => applyChanges(['FROM scratch']), /from is not a valid change command/);
  });

  test('the busybox image script writes a deterministic archive that loads', async () => {
    const out1 = join(base, 'bb1.tar');
    const out2 = join(base, 'bb2.tar');
    const id = await makeBusyboxImage(out1);
    assert.equal(await makeBusyboxImage(out2), id);
    assert.ok((await fsp.readFile(out1)).equals(await fsp.readFile(out2)), 'same bytes every time');
    const listing = execFileSync('tar', ['-tvf', out1], { encoding: 'utf8' });
    assert.match(listing, /index\.json/);
    assert.match(listing, /manifest\.json/);

    const s = await newStore();
    assert.deepEqual(await load(s, createReadStream(out1)), ['Loaded image: busybox:latest']);
    const img = s.resolve('busybox');
    assert.equal(img.id, id);
    assert.deepEqual(img.config.config?.Cmd, ['sh']);
    assert.deepEqual(img.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const root = diffDir(s, img.chainId!);
    assert.equal(statSync(join(root, 'bin/busybox')).size, statSync('/bin/busybox').size);
    assert.equal(readlinkSync(join(root, 'bin/sh')), 'busybox');
    assert.equal(readlinkSync(join(root, 'bin/ls')), 'busybox');
    assert.match(await fsp.readFile(join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    assert.match(await fsp.readFile(join(root, 'etc/passwd'), 'utf8'), /^nobody:x:65534:65534:/m);
    assert.match(await fsp.readFile(join(root, 'etc/group'), 'utf8'), /^nogroup:x:65534:$/m);
    assert.equal(statSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
    for (const d of ['root', 'home', 'var', 'proc', 'sys', 'dev']) assert.ok(statSync(join(root, d)).isDirectory(), d);
    // Its history as docker history shows it.
    assert.deepEqual(s.history('busybox').map((h) => h.CreatedBy), ['CMD ["sh"]', s.history('busybox')[1].CreatedBy]);
    assert.match(s.history('busybox')[1].CreatedBy, /busybox/);
  });
});
