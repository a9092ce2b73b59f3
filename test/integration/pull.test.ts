// docker pull through berthd from a real registry (Debian's docker-registry 2.8, started
// here with its own storage and port): tags, digests, Docker schema2 and OCI manifests,
// an index with platform selection, -a, multi-layer images with gzip/zstd/plain layers,
// missing tags, Basic and token auth, and pulls cut short by a client leaving or kill -9.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { request } from 'node:http';
import { startDaemon, run, type TestDaemon } from '../helpers/daemon.ts';
import { freePort, rawGet, rawPutBlob, rawPutManifest, sha256, slowProxy, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { until } from '../helpers/until.ts';
import { PtySession } from '../helpers/pty.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

let d: TestDaemon;
let reg: TestRegistry;
let work: string;
/** Digest of busybox:latest's manifest in the registry. */
let busyboxDigest: string;
let indexDigest: string;

before(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'berth-pull-'));
  reg = await startRegistry();
  d = await startDaemon({ loadBusybox: false });
  await reg.skopeoPush('busybox:latest');
  await reg.skopeoPush('busybox:v2');
  await reg.skopeoPush('ocibox:latest', { format: 'oci' });
  const head = await rawGet(reg.host, '/v2/busybox/manifests/latest', 'application/vnd.docker.distribution.manifest.v2+json');
  busyboxDigest = head.headers.get('docker-content-digest')!;
  indexDigest = await makeIndex();
  await makeLayered();
});

after(async () => {
  await d?.cleanup();
  await reg?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

/** multi:latest, an OCI index: the OCI busybox for linux/amd64 and a copy whose config says linux/arm64/v8. */
async function makeIndex(): Promise<string> {
  await reg.skopeoPush('multi:amd64', { format: 'oci' });
  const amd = await rawGet(reg.host, '/v2/multi/manifests/amd64', OCI_MANIFEST);
  const manifest = JSON.parse(amd.bytes.toString());
  const config = JSON.parse((await rawGet(reg.host, `/v2/multi/blobs/${manifest.config.digest}`)).bytes.toString());
  const armConfig = await rawPutBlob(reg.host, 'multi', Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8', config: { ...config.config, Labels: { arch: 'arm64' } } })));
  const arm = await rawPutManifest(reg.host, 'multi', 'arm64', OCI_MANIFEST, { ...manifest, config: { ...manifest.config, ...armConfig } });
  const index = await rawPutManifest(reg.host, 'multi', 'latest', OCI_INDEX, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: OCI_MANIFEST, digest: amd.headers.get('docker-content-digest'), size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  });
  return index.digest;
}

/** A tar of the given files (root-owned), made by tar(1). */
async function makeTar(files: Record<string, Buffer | string>): Promise<Buffer> {
  const dir = await fsp.mkdtemp(join(work, 'layer-'));
  for (const [name, data] of Object.entries(files)) {
    await fsp.mkdir(join(dir, name, '..'), { recursive: true });
    await fsp.writeFile(join(dir, name), data);
  }
  const out = join(work, `${randomBytes(4).toString('hex')}.tar`);
  const r = await run('tar', ['-C', dir, '--owner=0', '--group=0', '--numeric-owner', '-cf', out, ...Object.keys(files)]);
  assert.equal(r.code, 0, r.stderr);
  return fsp.readFile(out);
}

/**
 * layered:latest, an OCI image of five layers (busybox's plain tar, then gzip, zstd, plain
 * and gzip ones, one of 3 MiB), so downloads overlap, later layers wait for their parents,
 * and one waits for a download slot.
 */
async function makeLayered(): Promise<void> {
  const src = JSON.parse((await rawGet(reg.host, '/v2/ocibox/manifests/latest', OCI_MANIFEST)).bytes.toString());
  const srcConfig = JSON.parse((await rawGet(reg.host, `/v2/ocibox/blobs/${src.config.digest}`)).bytes.toString());
  const base = (await rawGet(reg.host, `/v2/ocibox/blobs/${src.layers[0].digest}`)).bytes;
  const { decompressed: baseTar } = { decompressed: src.layers[0].mediaType.endsWith('gzip') ? (await import('node:zlib')).gunzipSync(base) : base };
  const t2 = await makeTar({ 'hello.txt': 'hello from gzip\n' });
  const t3 = await makeTar({ 'big.bin': randomBytes(3 << 20), 'zstd.txt': 'hello from zstd\n' });
  const t4 = await makeTar({ 'etc/marker': 'plain layer\n' });
  const t5 = await makeTar({ 'etc/fifth': 'fifth layer\n' });
  const layers: Array<{ mediaType: string; bytes: Buffer; tar: Buffer }> = [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: baseTar, tar: baseTar },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(t2), tar: t2 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', bytes: zstdCompressSync(t3), tar: t3 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: t4, tar: t4 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(t5), tar: t5 },
  ];
  const descs = [];
  for (const l of layers) descs.push({ mediaType: l.mediaType, ...(await rawPutBlob(reg.host, 'layered', l.bytes)) });
  const config = { ...srcConfig, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) }, history: layers.map(() => ({ created_by: 'test' })) };
  const cfg = await rawPutBlob(reg.host, 'layered', Buffer.from(JSON.stringify(config)));
  await rawPutManifest(reg.host, 'layered', 'latest', OCI_MANIFEST, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, ...cfg }, layers: descs });
}

/** The API's newline-delimited progress messages. */
function messages(body: string): Array<Record<string, any>> {
  return body.split(/\r?\n/).filter(Boolean).map((l) => JSON.parse(l));
}

async function ingestFiles(daemon: TestDaemon): Promise<string[]> {
  return fsp.readdir(join(daemon.dataRoot, 'content', 'ingest')).catch(() => []);
}

test('docker pull by tag prints docker\'s lines, stores RepoTags/RepoDigests, runs, and logs a pull event', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await d.docker(['pull', `${reg.host}/busybox`]);
  assert.equal(r.code, 0, r.stderr);
  const layer = /^([0-9a-f]{12}): Pulling fs layer$/m.exec(r.stdout)?.[1];
  assert.ok(layer, r.stdout);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'Using default tag: latest',
    'latest: Pulling from busybox',
    `${layer}: Pulling fs layer`,
    `${layer}: Verifying Checksum`,
    `${layer}: Download complete`,
    `${layer}: Pull complete`,
    `Digest: ${busyboxDigest}`,
    `Status: Downloaded newer image for ${reg.host}/busybox:latest`,
    `${reg.host}/busybox:latest`,
  ]);
  const ins = await d.docker(['image', 'inspect', '-f', '{{json .RepoTags}} {{json .RepoDigests}} {{.Architecture}}', `${reg.host}/busybox`]);
  assert.equal(ins.stdout.trim(), `["${reg.host}/busybox:latest"] ["${reg.host}/busybox@${busyboxDigest}"] amd64`);
  const out = await d.docker(['run', '--rm', `${reg.host}/busybox`, 'echo', 'pulled and running']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'pulled and running\n');
  const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=pull', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.equal(ev.stdout.trim(), `pull ${reg.host}/busybox:latest ${reg.host}/busybox`);
  assert.deepEqual(await ingestFiles(d), []);
});

test('a second pull is up to date; pull by digest names the digest', async () => {
  const again = await d.docker(['pull', `${reg.host}/busybox:latest`]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(again.stdout.trim().split('\n'), [
    'latest: Pulling from busybox',
    `Digest: ${busyboxDigest}`,
    `Status: Image is up to date for ${reg.host}/busybox:latest`,
    `${reg.host}/busybox:latest`,
  ]);
  const byDigest = await d.docker(['pull', `${reg.host}/busybox@${busyboxDigest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.match(byDigest.stdout, new RegExp(`^${busyboxDigest}: Pulling from busybox$`, 'm'));
  assert.match(byDigest.stdout, new RegExp(`Status: Image is up to date for ${reg.host}/busybox@${busyboxDigest}\n`));
  const run1 = await d.docker(['run', '--rm', `${reg.host}/busybox@${busyboxDigest}`, 'true']);
  assert.equal(run1.code, 0, run1.stderr);
});

test('pull of a missing tag or repository fails as dockerd does (404, exit 1)', async () => {
  const r = await d.docker(['pull', `${reg.host}/busybox:nope`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `Error response from daemon: manifest for ${reg.host}/busybox:nope not found: manifest unknown: manifest unknown`);
  const api = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/busybox`)}&tag=nope`);
  assert.equal(api.status, 404);
  assert.match(api.json().message, /manifest unknown/);
  const port = await freePort();
  const closed = await d.docker(['pull', `127.0.0.1:${port}/busybox`]);
  assert.equal(closed.code, 1);
  assert.equal(closed.stderr.trim(), `Error response from daemon: Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
});

test('an OCI-format image pulls and runs', async () => {
  const r = await d.docker(['pull', `${reg.host}/ocibox`]);
  assert.equal(r.code, 0, r.stderr);
  // Same layers as busybox, already here.
  assert.match(r.stdout, /: Already exists$/m);
  const out = await d.docker(['run', '--rm', `${reg.host}/ocibox`, 'echo', 'oci']);
  assert.equal(out.stdout, 'oci\n', out.stderr);
});

test('an index: the host platform by default, --platform linux/arm64 the arm64 entry, no match is an error', async () => {
  const def = await d.docker(['pull', `${reg.host}/multi`]);
  assert.equal(def.code, 0, def.stderr);
  assert.match(def.stdout, new RegExp(`Digest: ${indexDigest}`));
  // The amd64 entry is the same image as ocibox (pulled before): it may be known by both digests.
  let ins = await d.docker(['image', 'inspect', '-f', '{{.Architecture}} {{json .RepoDigests}}', `${reg.host}/multi`]);
  assert.match(ins.stdout.trim(), new RegExp(`^amd64 \\[.*"${reg.host}/multi@${indexDigest}".*\\]$`));
  const arm = await d.docker(['pull', '--platform', 'linux/arm64', `${reg.host}/multi`]);
  assert.equal(arm.code, 0, arm.stderr);
  assert.match(arm.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/multi:latest`));
  ins = await d.docker(['image', 'inspect', '-f', '{{.Architecture}} {{.Variant}} {{.Config.Labels.arch}}', `${reg.host}/multi`]);
  assert.equal(ins.stdout.trim(), 'arm64 v8 arm64');
  // By digest, the digest reference moves to the image pulled (dockerd's AddDigest(…, force)).
  const byDigest = await d.docker(['pull', '--platform', 'linux/arm64', `${reg.host}/multi@${indexDigest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  ins = await d.docker(['image', 'inspect', '-f', '{{.Architecture}}', `${reg.host}/multi@${indexDigest}`]);
  assert.equal(ins.stdout.trim(), 'arm64');
  const none = await d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/multi`]);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /^latest: Pulling from multi$/m);
  assert.equal(none.stderr.trim(), 'no matching manifest for linux/s390x in the manifest list entries');
  // A single-platform image that is not the one asked for.
  const wrong = await d.docker(['pull', '--platform', 'linux/arm64', `${reg.host}/ocibox`]);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr.trim(), `image with reference ${reg.host}/ocibox:latest was found but does not match the specified platform: wanted linux/arm64/v8, actual: linux/amd64`);
});

test('docker pull -a pulls every tag', async () => {
  await d.docker(['rmi', `${reg.host}/busybox:latest`, `${reg.host}/busybox@${busyboxDigest}`]);
  const r = await d.docker(['pull', '-a', `${reg.host}/busybox`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^latest: Pulling from busybox$/m);
  assert.match(r.stdout, /^v2: Pulling from busybox$/m);
  assert.match(r.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/busybox\n`));
  const tags = await d.docker(['images', '--format', '{{.Tag}}', `${reg.host}/busybox`]);
  assert.deepEqual(tags.stdout.trim().split('\n').sort(), ['latest', 'v2']);
});

test('a multi-layer image with plain, gzip and zstd layers pulls in parallel and every layer is there', async () => {
  const r = await d.api('POST', `/images/create?fromImage=${encodeURIComponent(`${reg.host}/layered`)}&tag=latest`);
  assert.equal(r.status, 200);
  const msgs = messages(r.body);
  assert.equal(msgs.filter((m) => m.error).length, 0, r.body);
  const ids = [...new Set(msgs.filter((m) => m.status === 'Pulling fs layer' || m.status === 'Already exists').map((m) => m.id))];
  assert.equal(ids.length, 5);
  // Three downloads at a time: the layers to fetch past the third wait for a slot.
  const fetched = ids.filter((id) => msgs.some((m) => m.id === id && m.status === 'Pulling fs layer'));
  assert.ok(fetched.length >= 4);
  assert.deepEqual(msgs.filter((m) => m.status === 'Waiting').map((m) => m.id), fetched.slice(3));
  for (const id of ids.filter((id) => msgs.some((m) => m.id === id && m.status === 'Pulling fs layer'))) {
    const seq = msgs.filter((m) => m.id === id).map((m) => m.status);
    assert.equal(seq.at(-1), 'Pull complete', `${id}: ${seq.join(', ')}`);
    assert.ok(seq.indexOf('Download complete') < seq.indexOf('Pull complete'));
  }
  const big = msgs.filter((m) => m.status === 'Downloading' && m.progressDetail?.total > 1 << 20);
  assert.ok(big.length > 0 && big.every((m) => m.progressDetail.current <= m.progressDetail.total), 'Downloading progress for the big layer');
  assert.ok(msgs.some((m) => m.status === 'Extracting'), 'Extracting progress');
  const out = await d.docker(['run', '--rm', `${reg.host}/layered`, 'sh', '-c', 'cat /hello.txt /zstd.txt /etc/marker /etc/fifth; wc -c < /big.bin']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, `hello from gzip\nhello from zstd\nplain layer\nfifth layer\n${3 << 20}\n`);
  assert.deepEqual(await ingestFiles(d), []);
});

test('docker run of an image not here pulls it first', async () => {
  await reg.skopeoPush('runme:latest');
  const r = await d.docker(['run', '--rm', `${reg.host}/runme`, 'echo', 'auto-pulled']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'auto-pulled\n');
  assert.match(r.stderr, new RegExp(`Unable to find image '${reg.host}/runme:latest' locally`));
  assert.match(r.stderr, new RegExp(`Status: Downloaded newer image for ${reg.host}/runme:latest`));
});

test('a layer whose bytes do not match its digest fails the pull mid-stream and leaves nothing', async () => {
  const tar = await makeTar({ 'unique.bin': randomBytes(64 << 10) });
  const layer = await rawPutBlob(reg.host, 'corrupt', tar);
  const base = JSON.parse((await rawGet(reg.host, '/v2/ocibox/manifests/latest', OCI_MANIFEST)).bytes.toString());
  const baseConfig = JSON.parse((await rawGet(reg.host, `/v2/ocibox/blobs/${base.config.digest}`)).bytes.toString());
  const cfg = await rawPutBlob(reg.host, 'corrupt', Buffer.from(JSON.stringify({ ...baseConfig, rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, history: [{ created_by: 'x' }] })));
  await rawPutManifest(reg.host, 'corrupt', 'latest', OCI_MANIFEST, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, ...cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] });
  // The registry serves what its storage holds: flip a byte of the file inside the stored tar.
  const hex = layer.digest.slice(7);
  const data = join(reg.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await fsp.readFile(data);
  bytes[512 + 1000] ^= 0xff;
  await fsp.writeFile(data, bytes);
  const r = await d.docker(['pull', `${reg.host}/corrupt`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `filesystem layer verification failed for digest ${layer.digest}`);
  assert.equal((await d.docker(['images', '-q', `${reg.host}/corrupt`])).stdout.trim(), '');
  assert.deepEqual(await ingestFiles(d), []);
});

/** The docker CLI's config dir of the test daemon (DOCKER_CONFIG), with credentials for host. */
async function writeDockerAuth(host: string, user: string, password: string): Promise<void> {
  const dir = join(d.dataRoot, '..', 'docker-config');
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
}

async function clearDockerAuth(): Promise<void> {
  await fsp.rm(join(d.dataRoot, '..', 'docker-config', 'config.json'), { force: true });
}

test('Basic auth (htpasswd): no or wrong credentials fail, the docker config\'s credentials (X-Registry-Auth) work', async () => {
  const secured = await startRegistry({ auth: 'htpasswd', users: { alice: 'secret-pw' } });
  try {
    await secured.skopeoPush('private:latest');
    const anon = await d.docker(['pull', `${secured.host}/private`]);
    assert.equal(anon.code, 1);
    assert.equal(anon.stderr.trim(), `Error response from daemon: Get "http://${secured.host}/v2/private/manifests/latest": no basic auth credentials`);
    await writeDockerAuth(secured.host, 'alice', 'wrong');
    const wrong = await d.docker(['pull', `${secured.host}/private`]);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim(), 'Error response from daemon: unauthorized: authentication required');
    await writeDockerAuth(secured.host, 'alice', 'secret-pw');
    const ok = await d.docker(['pull', `${secured.host}/private`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`Status: Downloaded newer image for ${secured.host}/private:latest`));
  } finally {
    await clearDockerAuth();
    await secured.stop();
  }
});

test('token auth: anonymous is denied, credentials fetch a scoped bearer token (raw API with X-Registry-Auth)', async () => {
  const secured = await startRegistry({ auth: 'token', users: { bob: 'tok-pw' } });
  try {
    await secured.skopeoPush('tokened:latest');
    const anon = await d.docker(['pull', `${secured.host}/tokened`]);
    assert.equal(anon.code, 1);
    assert.equal(anon.stderr.trim(), `Error response from daemon: pull access denied for ${secured.host}/tokened, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`);
    const seen = secured.token!.requests.length;
    const header = Buffer.from(JSON.stringify({ username: 'bob', password: 'tok-pw', serveraddress: secured.host })).toString('base64url');
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(`${secured.host}/tokened`)}&tag=latest`, headers: { 'X-Registry-Auth': header } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.match(res.body, /Status: Downloaded newer image for/);
    const tokenReqs = secured.token!.requests.slice(seen).filter((q) => q.user === 'bob');
    assert.ok(tokenReqs.length >= 1);
    assert.equal(tokenReqs[0].params.service, 'berth-test-registry');
    assert.equal(tokenReqs[0].params.scope, 'repository:tokened:pull');
    const out = await d.docker(['run', '--rm', `${secured.host}/tokened`, 'echo', 'token ok']);
    assert.equal(out.stdout, 'token ok\n', out.stderr);
  } finally {
    await secured.stop();
  }
});

test('a client leaving mid-pull cancels it: no image, no temp files', async () => {
  const proxy = await slowProxy(reg.host, 256 << 10);
  try {
    const name = `${proxy.host}/layered`;
    await d.docker(['rmi', '-f', `${reg.host}/layered`]);
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(name)}&tag=latest` }, (res) => {
        res.on('data', (c: Buffer) => {
          if (/"Downloading"/.test(c.toString())) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no Downloading progress')), 60_000);
    });
    await until('the cancelled pull to clean up', async () => (await ingestFiles(d)).length === 0, 20_000);
    // The downloads stopped: nothing more flows from the registry.
    await new Promise((r) => setTimeout(r, 1000));
    const after1 = proxy.sent();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(proxy.sent(), after1);
    const ls = await d.docker(['images', '-q', name]);
    assert.equal(ls.stdout.trim(), '');
  } finally {
    await proxy.close();
  }
});

test('berthd killed -9 mid-pull: no half image after restart, and pulling again completes it', async () => {
  const proxy = await slowProxy(reg.host, 256 << 10);
  const name = `${proxy.host}/layered`;
  let seen = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(name)}&tag=latest` }, (res) => {
        res.on('data', (c: Buffer) => {
          seen += c.toString();
          // Kill once a layer is unpacked and others are still downloading.
          if (/"Pull complete"/.test(seen) && /"Downloading"/.test(seen)) {
            d.proc.kill('SIGKILL');
            resolve();
          }
        });
        res.on('end', () => reject(new Error(`the pull ended before the kill: ${seen}`)));
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error(`no progress before the kill: ${seen}`)), 60_000);
    });
    await d.stop('SIGKILL');
    await d.restart();
    assert.deepEqual(await ingestFiles(d), []);
    assert.equal((await d.docker(['images', '-q', name])).stdout.trim(), '');
    const again = await d.docker(['pull', name]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Status: Downloaded newer image for ${name}:latest`));
    const out = await d.docker(['run', '--rm', name, 'sh', '-c', 'cat /hello.txt /zstd.txt /etc/marker; wc -c < /big.bin']);
    assert.equal(out.stdout, `hello from gzip\nhello from zstd\nplain layer\n${3 << 20}\n`, out.stderr);
    assert.deepEqual(await ingestFiles(d), []);
  } finally {
    await proxy.close();
  }
});

test('https with a self-signed certificate: unverified for loopback and insecure-registries, verified with its CA in certs.d, refused otherwise', async () => {
  const local = await startRegistry({ tls: true });
  try {
    await local.skopeoPush('tlsbox:latest');
    const ok = await d.docker(['pull', `${local.host}/tlsbox`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`Status: Downloaded newer image for ${local.host}/tlsbox:latest`));
  } finally {
    await local.stop();
  }
  // A non-loopback address of this host, reachable only from it: a test network's gateway.
  const net = await d.docker(['network', 'create', 'pull-tls-net']);
  assert.equal(net.code, 0, net.stderr);
  const ip = (await d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'pull-tls-net'])).stdout.trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const remote = await startRegistry({ tls: true, ip });
  const d2 = await startDaemon({ loadBusybox: false, extraArgs: ['--insecure-registry', remote.host] });
  try {
    await remote.skopeoPush('tlsbox:latest');
    const refused = await d.docker(['pull', `${remote.host}/tlsbox`]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), `Error response from daemon: Get "https://${remote.host}/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
    // certs.d: the registry's CA in /etc/berth/certs.d/<host:port>/ca.crt makes it verified.
    const certs = join('/etc/berth/certs.d', remote.host);
    await fsp.mkdir(certs, { recursive: true });
    try {
      await fsp.copyFile(join(remote.dir, 'tls.crt'), join(certs, 'ca.crt'));
      const trusted = await d.docker(['pull', `${remote.host}/tlsbox`]);
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.match(trusted.stdout, /Status: Downloaded newer image/);
    } finally {
      await fsp.rm(certs, { recursive: true, force: true });
      await fsp.rmdir('/etc/berth/certs.d').catch(() => undefined);
      await fsp.rmdir('/etc/berth').catch(() => undefined);
    }
    const allowed = await d2.docker(['pull', `${remote.host}/tlsbox`]);
    assert.equal(allowed.code, 0, allowed.stderr);
    const out = await d2.docker(['run', '--rm', `${remote.host}/tlsbox`, 'echo', 'insecure ok']);
    assert.equal(out.stdout, 'insecure ok\n', out.stderr);
  } finally {
    await d2.cleanup();
    await remote.stop();
    await d.docker(['network', 'rm', 'pull-tls-net']);
  }
});

test('two pulls of the same image at once both succeed and share the result', async () => {
  await d.docker(['rmi', '-f', `${reg.host}/layered`]);
  const [a, b] = await Promise.all([d.docker(['pull', `${reg.host}/layered`]), d.docker(['pull', `${reg.host}/layered:latest`])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const out = await d.docker(['run', '--rm', `${reg.host}/layered`, 'cat', '/etc/fifth']);
  assert.equal(out.stdout, 'fifth layer\n', out.stderr);
  assert.equal((await d.docker(['images', '-q', `${reg.host}/layered`])).stdout.trim().split('\n').length, 1);
  assert.deepEqual(await ingestFiles(d), []);
});

test('--registry-mirror serves docker.io pulls (here the only source: no Docker Hub)', async () => {
  await reg.skopeoPush('library/busybox:latest');
  const d3 = await startDaemon({ loadBusybox: false, extraArgs: ['--registry-mirror', `http://${reg.host}`] });
  try {
    const r = await d3.docker(['pull', 'busybox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^latest: Pulling from library\/busybox$/m);
    assert.match(r.stdout, /Status: Downloaded newer image for busybox:latest\ndocker\.io\/library\/busybox:latest\n$/);
    const ins = await d3.docker(['image', 'inspect', '-f', '{{json .RepoTags}} {{json .RepoDigests}}', 'busybox']);
    assert.equal(ins.stdout.trim(), `["busybox:latest"] ["busybox@${busyboxDigest}"]`);
    const out = await d3.docker(['run', '--rm', 'busybox', 'echo', 'from the mirror']);
    assert.equal(out.stdout, 'from the mirror\n', out.stderr);
  } finally {
    await d3.cleanup();
  }
});

test('on a terminal, docker pull draws download and extract progress bars', async () => {
  const tar = await makeTar({ 'tty.bin': randomBytes(1 << 20) });
  const layer = await rawPutBlob(reg.host, 'ttybox', gzipSync(tar));
  const base = JSON.parse((await rawGet(reg.host, '/v2/ocibox/manifests/latest', OCI_MANIFEST)).bytes.toString());
  const baseConfig = JSON.parse((await rawGet(reg.host, `/v2/ocibox/blobs/${base.config.digest}`)).bytes.toString());
  const cfg = await rawPutBlob(reg.host, 'ttybox', Buffer.from(JSON.stringify({ ...baseConfig, rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, history: [{ created_by: 'x' }] })));
  await rawPutManifest(reg.host, 'ttybox', 'latest', OCI_MANIFEST, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, ...cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] });
  const proxy = await slowProxy(reg.host, 512 << 10);
  const pty = new PtySession(`stty rows 40 cols 120; docker pull ${proxy.host}/ttybox`, { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dataRoot, '..', 'docker-config') });
  try {
    await pty.waitFor(/Downloading\s+\[=*>?\s*\]\s+[\d.]+[kM]B\/[\d.]+MB/, 0, 60_000);
    await pty.waitFor(/Extracting\s+\[=+>?\s*\]/, 0, 60_000);
    await pty.waitFor('Pull complete', 0, 60_000);
    assert.equal(await pty.exit(60_000), 0);
  } finally {
    pty.kill();
    await proxy.close();
  }
});

test('GET /info shows insecure registries and mirrors; daemon flags are validated', async () => {
  const info = (await d.api('GET', '/info')).json().RegistryConfig;
  assert.deepEqual(info.InsecureRegistryCIDRs, ['::1/128', '127.0.0.0/8']);
  assert.deepEqual(info.IndexConfigs['docker.io'], { Name: 'docker.io', Mirrors: [], Secure: true, Official: true });
  const d2 = await startDaemon({ loadBusybox: false, extraArgs: ['--insecure-registry', 'myreg.example:5000', '--insecure-registry', '10.0.0.0/8', '--registry-mirror', 'https://mirror.example'] });
  try {
    const rc = (await d2.api('GET', '/info')).json().RegistryConfig;
    assert.deepEqual(rc.InsecureRegistryCIDRs, ['10.0.0.0/8', '::1/128', '127.0.0.0/8']);
    assert.deepEqual(rc.Mirrors, ['https://mirror.example/']);
    assert.deepEqual(rc.IndexConfigs['myreg.example:5000'], { Name: 'myreg.example:5000', Mirrors: [], Secure: false, Official: false });
    assert.deepEqual(rc.IndexConfigs['docker.io'].Mirrors, ['https://mirror.example/']);
    const text = await d2.docker(['info']);
    assert.match(text.stdout, /Insecure Registries:\n\s+myreg\.example:5000\n\s+10\.0\.0\.0\/8\n\s+::1\/128\n\s+127\.0\.0\.0\/8\n\s+Registry Mirrors:\n\s+https:\/\/mirror\.example\/\n/);
  } finally {
    await d2.cleanup();
  }
});
