// The pusher against an in-memory registry (a real content store and overlay snapshotter
// underneath): message order for a many-layer image (top first, "Waiting" past five at a
// time), chunked uploads, the gzip'd layer made once and reused, skips, mounts, the
// schema2 manifest's exact bytes; the distribution metadata file; the CLI's progress
// rendering on a terminal and off one; docker's config.json handling.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { ContentStore } from '../../src/content/store.ts';
import { ImageStore } from '../../src/image/store.ts';
import { OverlaySnapshotter } from '../../src/snapshot/overlay.ts';
import { pushImage, schema2Manifest, type PushMessage } from '../../src/image/push.ts';
import { DistributionMetadata } from '../../src/registry/distribution-metadata.ts';
import type { Descriptor, RegistryClient, Repository } from '../../src/registry/client/types.ts';
import { displayProgressStream, progressBar } from '../../src/cli/progress.ts';
import { DockerConfig, convertToHostname, encodeRegistryAuth } from '../../src/cli/docker-config.ts';
import { TarWriter } from '../../src/archive/tar.ts';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(name: string, body: string): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => out.on('end', r));
  const w = new TarWriter(out);
  await w.add({ name, type: 'file', mode: 0o644, mtime: new Date(1e12) }, Buffer.from(body));
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

/** A registry in memory: blobs per repository, manifests per tag, and a log of calls. */
class FakeRegistry implements RegistryClient {
  blobs = new Map<string, Map<string, Buffer>>();
  manifests = new Map<string, { mediaType: string; bytes: Buffer }>();
  calls: string[] = [];
  chunkSizes: Array<number | undefined> = [];
  /** Layers sent as they were compressed (pushBlobStreamed). */
  streamed = 0;
  /** A repository whose streamed uploads fail halfway. */
  failing = '';
  private repoBlobs(name: string) {
    let m = this.blobs.get(name);
    if (!m) this.blobs.set(name, (m = new Map()));
    return m;
  }
  repository(registry: string, name: string): Repository {
    const self = this;
    return {
      registry,
      name,
      async getManifest() {
        throw new Error('not used');
      },
      async headManifest() {
        return undefined;
      },
      async putManifest(ref: string, mediaType: string, bytes: Buffer) {
        self.calls.push(`put-manifest ${name}:${ref}`);
        self.manifests.set(`${name}:${ref}`, { mediaType, bytes });
        return { mediaType, digest: sha(bytes), size: bytes.length };
      },
      async fetchBlob() {
        throw new Error('not used');
      },
      async statBlob(digest: string) {
        self.calls.push(`stat ${name} ${digest.slice(7, 19)}`);
        const b = self.repoBlobs(name).get(digest);
        return b ? ({ mediaType: 'application/octet-stream', digest, size: b.length } as Descriptor) : undefined;
      },
      async mountBlob(digest: string, from: string) {
        self.calls.push(`mount ${name} ${digest.slice(7, 19)} from ${from}`);
        const b = self.repoBlobs(from).get(digest);
        if (b) self.repoBlobs(name).set(digest, b);
        return b !== undefined;
      },
      async pushBlob(desc: Descriptor, body: () => AsyncIterable<Buffer>, opts?: { chunkSize?: number }) {
        self.calls.push(`push ${name} ${desc.digest.slice(7, 19)}`);
        self.chunkSizes.push(opts?.chunkSize);
        const parts: Buffer[] = [];
        for await (const c of body()) parts.push(c);
        const bytes = Buffer.concat(parts);
        assert.equal(sha(bytes), desc.digest);
        assert.equal(bytes.length, desc.size);
        self.repoBlobs(name).set(desc.digest, bytes);
      },
      async pushBlobStreamed(body: AsyncIterable<Buffer>, finish: () => Promise<Descriptor>, opts?: { chunkSize?: number }) {
        self.chunkSizes.push(opts?.chunkSize);
        self.streamed++;
        const parts: Buffer[] = [];
        for await (const c of body) {
          if (name === self.failing) throw new Error('connection reset by peer');
          parts.push(c);
        }
        const bytes = Buffer.concat(parts);
        const desc = await finish();
        self.calls.push(`push ${name} ${desc.digest.slice(7, 19)}`);
        assert.equal(sha(bytes), desc.digest);
        assert.equal(bytes.length, desc.size);
        self.repoBlobs(name).set(desc.digest, bytes);
        return desc;
      },
      async listTags() {
        return [];
      },
    } as Repository;
  }
  async checkLogin() {
    return {};
  }
}

let dir: string;
let images: ImageStore;
let metadata: DistributionMetadata;
let registry: FakeRegistry;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-push-unit-'));
  const content = new ContentStore(join(dir, 'content'));
  await content.init();
  const snaps = new OverlaySnapshotter(join(dir, 'overlay'));
  await snaps.init();
  images = new ImageStore(join(dir, 'image'), content, snaps);
  await images.init();
  metadata = new DistributionMetadata(images.root);
  registry = new FakeRegistry();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function makeImage(layers: number, ref: string): Promise<{ id: string; diffIds: string[] }> {
  const tars = await Promise.all(Array.from({ length: layers }, (_, i) => tarOf(`f${i}`, `layer ${i} `.repeat(1000))));
  const diffIds = tars.map(sha);
  const config = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } };
  const sources = new Map(tars.map((t, i) => [diffIds[i], () => Readable.from([t])]));
  const img = await images.createImage(Buffer.from(JSON.stringify(config)), { layerSources: sources });
  await images.tag(img.id, ref);
  return { id: img.id, diffIds };
}

async function push(name: string, tag?: string, chunkSize?: number): Promise<PushMessage[]> {
  const msgs: PushMessage[] = [];
  await pushImage({ images, registry, metadata, chunkSize }, { name, tag }, (m) => msgs.push(m));
  return msgs;
}

const lines = (msgs: PushMessage[]) => msgs.filter((m) => m.status !== 'Pushing' && !m.aux).map((m) => (m.id ? `${m.id}: ${m.status}` : m.status));

test('seven layers: top first, five at a time, chunked when asked, then config and a schema2 manifest', async () => {
  const { id, diffIds } = await makeImage(7, 'reg.test:5000/app:1');
  const msgs = await push('reg.test:5000/app', '1', 4096);
  const short = diffIds.map((d) => d.slice(7, 19));
  const l = lines(msgs);
  assert.equal(l[0], 'The push refers to repository [reg.test:5000/app]');
  assert.deepEqual(l.slice(1, 8), [...short].reverse().map((s) => `${s}: Preparing`));
  // The two base layers wait for a slot.
  assert.deepEqual(l.filter((x) => x!.endsWith('Waiting')), [`${short[1]}: Waiting`, `${short[0]}: Waiting`]);
  assert.deepEqual(l.filter((x) => x!.endsWith('Pushed')).sort(), short.map((s) => `${s}: Pushed`).sort());
  assert.ok(msgs.some((m) => m.status === 'Pushing' && m.progressDetail?.current! > 0 && m.progressDetail?.total! > 0));
  // Layers in chunks; the small config blob in one request.
  assert.deepEqual(registry.chunkSizes, [...Array(7).fill(4096), undefined]);
  const manifest = registry.manifests.get('app:1')!;
  assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  const doc = JSON.parse(manifest.bytes.toString());
  assert.equal(doc.config.digest, id);
  assert.ok(registry.blobs.get('app')!.has(id), 'config blob pushed');
  // Each layer is its diff id, gzip'd.
  doc.layers.forEach((layer: Descriptor, i: number) => assert.equal(sha(gunzipSync(registry.blobs.get('app')!.get(layer.digest)!)), diffIds[i]));
  assert.equal(manifest.bytes.toString(), schema2Manifest({ mediaType: 'application/vnd.docker.container.image.v1+json', digest: id, size: doc.config.size }, doc.layers).toString());
  assert.match(manifest.bytes.toString(), /^\{\n   "schemaVersion": 2,\n   "mediaType": "application\/vnd.docker.distribution.manifest.v2\+json",\n   "config": \{\n      "mediaType": /);
  const digest = sha(manifest.bytes);
  assert.equal(l.at(-1), `1: digest: ${digest} size: ${manifest.bytes.length}`);
  assert.deepEqual(msgs.at(-1)!.aux, { Tag: '1', Digest: digest, Size: manifest.bytes.length });
  assert.deepEqual(images.resolve(id).repoDigests, [`reg.test:5000/app@${digest}`]);
});

test('again: existence checks, no second compression; another repository mounts; a lost blob is uploaded again', async () => {
  const { diffIds } = await makeImage(2, 'reg.test:5000/app:1');
  await push('reg.test:5000/app', '1');
  const compressed = diffIds.map((d) => metadata.compressed(d)!);
  assert.ok(compressed.every((c) => c && c.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
  for (const c of compressed) assert.ok(await images.content.has(c.digest), 'gzip blob kept in the content store');
  const short = diffIds.map((d) => d.slice(7, 19));
  registry.calls = [];
  assert.deepEqual(lines(await push('reg.test:5000/app', '1')).slice(3, 5).sort(), short.map((s) => `${s}: Layer already exists`).sort());
  assert.equal(registry.calls.filter((c) => c.startsWith('push')).length, 0);

  await images.tag('reg.test:5000/app:1', 'reg.test:5000/team/copy:2');
  registry.calls = [];
  assert.deepEqual(lines(await push('reg.test:5000/team/copy')).slice(3, 5).sort(), short.map((s) => `${s}: Mounted from app`).sort());
  assert.ok(registry.calls.includes(`mount team/copy ${compressed[0].digest.slice(7, 19)} from app`));

  // A registry that lost the blob: the sighting is dropped and the same gzip goes again.
  registry.blobs.get('app')!.delete(compressed[1].digest);
  registry.blobs.get('team/copy')!.delete(compressed[1].digest);
  const again = lines(await push('reg.test:5000/app', '1'));
  assert.ok(again.includes(`${short[1]}: Pushed`), again.join('\n'));
  assert.deepEqual(metadata.compressed(diffIds[1]), compressed[1]);
  // The record survives a restart.
  const reloaded = new DistributionMetadata(images.root);
  await reloaded.load();
  assert.deepEqual(reloaded.sightings(diffIds[0]).map((s) => s.repository).sort(), ['reg.test:5000/app', 'reg.test:5000/team/copy']);
});

test('two pushes of one image at once compress each layer once; an upload that fails keeps no gzip', async () => {
  const { diffIds } = await makeImage(2, 'reg.test:5000/app:1');
  await images.tag('reg.test:5000/app:1', 'reg.test:5000/other:1');
  const before = await images.content.list();
  registry.failing = 'app';
  await assert.rejects(push('reg.test:5000/app', '1'), /connection reset by peer/);
  assert.deepEqual(await images.content.list(), before, 'a half-made gzip reached the content store');
  assert.deepEqual(await fsp.readdir(join(dir, 'content', 'ingest')), []);
  assert.ok(diffIds.every((d) => metadata.compressed(d) === undefined));

  registry.failing = '';
  registry.streamed = 0;
  await Promise.all([push('reg.test:5000/app', '1'), push('reg.test:5000/other', '1')]);
  assert.equal(registry.streamed, 2, 'each layer compressed once');
  for (const repo of ['app', 'other']) {
    const doc = JSON.parse(registry.manifests.get(`${repo}:1`)!.bytes.toString());
    doc.layers.forEach((layer: Descriptor, i: number) => assert.equal(sha(gunzipSync(registry.blobs.get(repo)!.get(layer.digest)!)), diffIds[i]));
  }
  assert.equal((await images.content.list()).length, before.length + 2, 'the two gzips are kept');
});

test('a layer twice in one image is uploaded once', async () => {
  const tar = await tarOf('same', 'same bytes');
  const d = sha(tar);
  const config = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [d, d] } };
  const img = await images.createImage(Buffer.from(JSON.stringify(config)), { layerSources: new Map([[d, () => Readable.from([tar])]]) });
  await images.tag(img.id, 'reg.test:5000/twice:1');
  const l = lines(await push('reg.test:5000/twice', '1'));
  const id = d.slice(7, 19);
  assert.deepEqual(l.slice(1), [`${id}: Preparing`, `${id}: Preparing`, `${id}: Pushed`, `${id}: Layer already exists`, l.at(-1)]);
  assert.equal(registry.calls.filter((c) => c.startsWith('push twice')).length, 2, registry.calls.join('\n')); // the layer and the config
  const doc = JSON.parse(registry.manifests.get('twice:1')!.bytes.toString());
  assert.equal(doc.layers.length, 2);
  assert.equal(doc.layers[0].digest, doc.layers[1].digest);
});

test('push errors: no image by that name, no such tag', async () => {
  await makeImage(1, 'reg.test:5000/app:1');
  const msgs: PushMessage[] = [];
  await assert.rejects(pushImage({ images, registry, metadata }, { name: 'reg.test:5000/nope' }, (m) => msgs.push(m)), { message: 'An image does not exist locally with the tag: reg.test:5000/nope' });
  assert.deepEqual(msgs, [{ status: 'The push refers to repository [reg.test:5000/nope]' }]);
  await assert.rejects(push('reg.test:5000/app', '2'), { message: 'tag does not exist: reg.test:5000/app:2' });
});

async function render(msgs: object[], isTerminal: boolean, width = 80): Promise<string> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  await displayProgressStream(Readable.from([msgs.map((m) => JSON.stringify(m) + '\r\n').join('')]), out, { isTerminal, width });
  return Buffer.concat(parts).toString();
}

const STREAM = [
  { status: 'The push refers to repository [h/x]' },
  { status: 'Preparing', progressDetail: {}, id: 'aaa' },
  { status: 'Preparing', progressDetail: {}, id: 'bbb' },
  { status: 'Pushing', progressDetail: { current: 1000, total: 4000 }, id: 'aaa' },
  { status: 'Pushed', progressDetail: {}, id: 'aaa' },
  { status: 'Layer already exists', progressDetail: {}, id: 'bbb' },
  { status: '1: digest: sha256:abc size: 1' },
  { progressDetail: {}, aux: { Tag: '1' } },
];

test('progress off a terminal: status lines, no progress bars', async () => {
  assert.equal(await render(STREAM, false), 'The push refers to repository [h/x]\naaa: Preparing\nbbb: Preparing\naaa: Pushed\nbbb: Layer already exists\n1: digest: sha256:abc size: 1\n');
});

test('progress on a terminal: one line per layer, rewritten in place as docker does', async () => {
  const up = (n: number) => `\x1b[${n}A`;
  const down = (n: number) => `\x1b[${n}B`;
  const clr = '\x1b[2K\r';
  assert.equal(
    await render(STREAM, true),
    'The push refers to repository [h/x]\n' +
      `\n${up(1)}${clr}aaa: Preparing \r${down(1)}` +
      `\n${up(1)}${clr}bbb: Preparing \r${down(1)}` +
      `${up(2)}${clr}aaa: Pushing      1kB/4kB\r${down(2)}` +
      `${up(2)}${clr}aaa: Pushed \r${down(2)}` +
      `${up(1)}${clr}bbb: Layer already exists \r${down(1)}` +
      '1: digest: sha256:abc size: 1\n',
  );
  assert.equal(progressBar({ current: 1000, total: 4000 }, 200), '[============>                                      ]      1kB/4kB');
});

test('an error in the stream ends it with its message', async () => {
  await assert.rejects(render([{ status: 'x' }, { errorDetail: { message: 'no basic auth credentials' }, error: 'no basic auth credentials' }], false), { message: 'no basic auth credentials' });
});

test('config.json: docker\'s keys, hostnames and X-Registry-Auth', async () => {
  const path = join(dir, 'cfg', 'config.json');
  await fsp.mkdir(join(dir, 'cfg'));
  await fsp.writeFile(path, JSON.stringify({ auths: { 'https://h:5000/v2/': { auth: Buffer.from('u:p').toString('base64') } }, psFormat: 'x' }));
  const cfg = await DockerConfig.load(path);
  assert.deepEqual(cfg.get('h:5000'), { serveraddress: 'h:5000', username: 'u', password: 'p' });
  assert.equal(convertToHostname('http://h:5000/v2/'), 'h:5000');
  assert.equal(await cfg.store('h:5000', { username: 'u', password: 'p' }), true);
  assert.equal(await cfg.store('h:5000', { username: 'u', password: 'p' }), false);
  await cfg.erase(['https://h:5000/v2/']);
  const saved = JSON.parse(await fsp.readFile(path, 'utf8'));
  assert.deepEqual(saved, { auths: { 'h:5000': { auth: 'dTpw' } }, psFormat: 'x' });
  assert.equal((await fsp.stat(path)).mode & 0o777, 0o600);
  assert.equal(encodeRegistryAuth(undefined), 'e30=');
  // What docker 28 sent for these credentials.
  assert.equal(encodeRegistryAuth({ username: 'alice', password: 'secret', serveraddress: '127.0.0.1:5000' }), 'eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJzZWNyZXQiLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAuMC4xOjUwMDAifQ==');
});
