// `berth registry serve` as a real process on 127.0.0.1:0, driven over HTTP with fetch:
// uploads (monolithic, chunked, mounts), manifests, tags, catalog, referrers, deletes,
// auth, TLS, a kill -9 in the middle of an upload, gc, and skopeo as a real client.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, run } from '../helpers/daemon.ts';
import { BERTH_CLI as BERTH, startBerthRegistry, type BerthRegistry } from '../helpers/berth-registry.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type Server = BerthRegistry;

const servers = new Set<Server>();
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'berth-regsrv-'));
});

after(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Starts `berth registry serve`, stopped at the end of the file. */
async function startServer(root: string, extra: string[] = [], scheme = 'http'): Promise<Server> {
  const server = await startBerthRegistry(root, extra, scheme);
  const stop = server.stop;
  server.stop = async (signal) => {
    servers.delete(server);
    await stop(signal);
  };
  servers.add(server);
  return server;
}

async function errorCode(r: Response): Promise<string> {
  const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
  assert.equal(typeof body.errors[0].message, 'string');
  return body.errors[0].code;
}

function registry(base: string, headers: Record<string, string> = {}) {
  const call = (method: string, path: string, body?: BodyInit, h: Record<string, string> = {}) => fetch(base + path, { method, body, headers: { ...headers, ...h }, duplex: 'half' } as RequestInit);
  return {
    call,
    /** Monolithic push; returns the digest. */
    async pushBlob(repo: string, bytes: Buffer<ArrayBuffer> | string): Promise<string> {
      const d = sha256(bytes);
      const r = await call('POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, bytes);
      assert.equal(r.status, 201, await r.text());
      return d;
    },
    async pushManifest(repo: string, ref: string, manifest: unknown, mediaType = OCI_MANIFEST): Promise<Response> {
      return call('PUT', `/v2/${repo}/manifests/${ref}`, JSON.stringify(manifest), { 'Content-Type': mediaType });
    },
  };
}

/** A small image in repo: config + one layer, pushed; returns its manifest and descriptors. */
async function pushImage(reg: ReturnType<typeof registry>, repo: string, tag: string, seed: string) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = Buffer.from(`layer of ${seed}`);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await reg.pushBlob(repo, config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await reg.pushBlob(repo, layer), size: layer.length }],
  };
  const r = await reg.pushManifest(repo, tag, manifest);
  assert.equal(r.status, 201, await r.text());
  return { manifest, digest: r.headers.get('docker-content-digest')!, bytes: Buffer.from(JSON.stringify(manifest)) };
}

test('the registry API, end to end', async (t) => {
  const root = join(work, 'main');
  const server = await startServer(root);
  const reg = registry(server.base);

  await t.test('GET /v2/ answers with the API version header', async () => {
    const r = await reg.call('GET', '/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await r.json(), {});
  });

  await t.test('monolithic upload, HEAD, GET, Range; other repositories do not see the blob', async () => {
    const bytes = Buffer.from('hello, registry');
    const d = sha256(bytes);
    const r = await reg.call('POST', `/v2/mono/blobs/uploads/?digest=${d}`, bytes);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/mono/blobs/${d}`);
    assert.equal(r.headers.get('docker-content-digest'), d);
    const head = await reg.call('HEAD', `/v2/mono/blobs/${d}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    assert.equal(head.headers.get('docker-content-digest'), d);
    const got = await reg.call('GET', `/v2/mono/blobs/${d}`);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
    const part = await reg.call('GET', `/v2/mono/blobs/${d}`, undefined, { Range: 'bytes=7-14' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 7-14/${bytes.length}`);
    assert.equal(await part.text(), 'registry');
    const other = await reg.call('HEAD', `/v2/other/blobs/${d}`);
    assert.equal(other.status, 404);
    assert.equal(await errorCode(await reg.call('GET', `/v2/other/blobs/${d}`)), 'BLOB_UNKNOWN');
  });

  await t.test('a wrong digest is refused and nothing is stored; sha512 is accepted', async () => {
    const wrong = sha256('something else');
    const r = await reg.call('POST', `/v2/mono/blobs/uploads/?digest=${wrong}`, 'the bytes');
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'DIGEST_INVALID');
    assert.equal(existsSync(join(root, 'blobs/sha256', wrong.slice(7))), false);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    const bad = await reg.call('POST', '/v2/mono/blobs/uploads/?digest=sha256:short', 'x');
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
    const d512 = `sha512:${createHash('sha512').update('five-twelve').digest('hex')}`;
    assert.equal((await reg.call('POST', `/v2/mono/blobs/uploads/?digest=${d512}`, 'five-twelve')).status, 201);
    assert.equal(await (await reg.call('GET', `/v2/mono/blobs/${d512}`)).text(), 'five-twelve');
  });

  await t.test('chunked upload: PATCH with and without Content-Range, 416 out of order, status, PUT', async () => {
    const start = await reg.call('POST', '/v2/chunked/blobs/uploads/');
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('range'), '0-0');
    const uuid = start.headers.get('docker-upload-uuid')!;
    const loc = start.headers.get('location')!;
    assert.equal(loc, `/v2/chunked/blobs/uploads/${uuid}`);
    const p1 = await reg.call('PATCH', loc, 'aaaaa', { 'Content-Range': '0-4', 'Content-Type': 'application/octet-stream' });
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-4');
    const ooo = await reg.call('PATCH', loc, 'ccccc', { 'Content-Range': '10-14' });
    assert.equal(ooo.status, 416);
    assert.equal(ooo.headers.get('range'), '0-4');
    assert.equal(ooo.headers.get('location'), loc);
    assert.equal(await errorCode(ooo), 'BLOB_UPLOAD_INVALID');
    const p2 = await reg.call('PATCH', loc, 'bbbbb');
    assert.equal(p2.headers.get('range'), '0-9');
    const status = await reg.call('GET', loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-9');
    const whole = 'aaaaabbbbbccc';
    const done = await reg.call('PUT', `${loc}?digest=${sha256(whole)}`, 'ccc', { 'Content-Range': '10-12' });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get('docker-content-digest'), sha256(whole));
    assert.equal(await (await reg.call('GET', `/v2/chunked/blobs/${sha256(whole)}`)).text(), whole);
    assert.equal(await errorCode(await reg.call('GET', loc)), 'BLOB_UPLOAD_UNKNOWN');
  });

  await t.test('a chunked upload finished with the wrong digest is refused and cancelled; DELETE cancels', async () => {
    const start = await reg.call('POST', '/v2/chunked/blobs/uploads/');
    const loc = start.headers.get('location')!;
    await reg.call('PATCH', loc, 'data');
    const r = await reg.call('PUT', `${loc}?digest=${sha256('other data')}`);
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'DIGEST_INVALID');
    assert.equal((await reg.call('HEAD', `/v2/chunked/blobs/${sha256('other data')}`)).status, 404);
    assert.equal((await reg.call('GET', loc)).status, 404);
    const s2 = await reg.call('POST', '/v2/chunked/blobs/uploads/');
    const loc2 = s2.headers.get('location')!;
    assert.equal((await reg.call('DELETE', loc2)).status, 204);
    assert.equal(await errorCode(await reg.call('DELETE', loc2)), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal(await errorCode(await reg.call('PATCH', '/v2/chunked/blobs/uploads/not-a-uuid', 'x')), 'BLOB_UPLOAD_UNKNOWN');
  });

  await t.test('cross-repository mount: 201 when the source has the blob, else a 202 session', async () => {
    const d = await reg.pushBlob('source/repo', 'mount me');
    const r = await reg.call('POST', `/v2/target/repo/blobs/uploads/?mount=${d}&from=source/repo`);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/target/repo/blobs/${d}`);
    assert.equal(await (await reg.call('GET', `/v2/target/repo/blobs/${d}`)).text(), 'mount me');
    // A repository that does not have it cannot lend it, even if the store does.
    const miss = await reg.call('POST', `/v2/third/blobs/uploads/?mount=${d}&from=elsewhere`);
    assert.equal(miss.status, 202);
    assert.ok(miss.headers.get('docker-upload-uuid'));
    assert.equal((await reg.call('HEAD', `/v2/third/blobs/${d}`)).status, 404);
  });

  await t.test('manifests by tag and digest, with Content-Type and Docker-Content-Digest', async () => {
    const img = await pushImage(reg, 'app/web', 'v1', 'one');
    assert.equal(img.digest, sha256(img.bytes));
    const byTag = await reg.call('GET', '/v2/app/web/manifests/v1');
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(byTag.headers.get('docker-content-digest'), img.digest);
    assert.deepEqual(Buffer.from(await byTag.arrayBuffer()), img.bytes);
    const head = await reg.call('HEAD', `/v2/app/web/manifests/${img.digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(img.bytes.length));
    assert.equal(head.headers.get('docker-content-digest'), img.digest);
    // Docker schema 2, pushed by digest.
    const docker = { ...img.manifest, mediaType: DOCKER_MANIFEST, config: { ...img.manifest.config, mediaType: 'application/vnd.docker.container.image.v1+json' } };
    const dd = sha256(JSON.stringify(docker));
    const put = await reg.pushManifest('app/web', dd, docker, DOCKER_MANIFEST);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/app/web/manifests/${dd}`);
    assert.equal((await reg.call('GET', `/v2/app/web/manifests/${dd}`)).headers.get('content-type'), DOCKER_MANIFEST);
    // An index of both.
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.bytes.length }] };
    assert.equal((await reg.pushManifest('app/web', 'multi', index, OCI_INDEX)).status, 201);
    assert.equal(await errorCode(await reg.call('GET', '/v2/app/web/manifests/nope')), 'MANIFEST_UNKNOWN');
    assert.equal((await reg.call('GET', '/v2/app/web/manifests/nope')).status, 404);
  });

  await t.test('a manifest naming a missing blob or child is refused, as are bad manifests', async () => {
    const img = await pushImage(reg, 'strict', 'ok', 'two');
    const missing = { ...img.manifest, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256('never pushed'), size: 12 }] };
    const r = await reg.pushManifest('strict', 'bad', missing);
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'MANIFEST_BLOB_UNKNOWN');
    // Blobs of another repository do not count.
    const foreign = await reg.pushBlob('not-strict', 'elsewhere');
    const cross = { ...img.manifest, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: foreign, size: 9 }] };
    assert.equal(await errorCode(await reg.pushManifest('strict', 'bad', cross)), 'MANIFEST_BLOB_UNKNOWN');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no such manifest'), size: 3 }] };
    assert.equal(await errorCode(await reg.pushManifest('strict', 'idx', index, OCI_INDEX)), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(await errorCode(await reg.call('PUT', '/v2/strict/manifests/junk', 'not json', { 'Content-Type': OCI_MANIFEST })), 'MANIFEST_INVALID');
    assert.equal(await errorCode(await reg.pushManifest('strict', sha256('different bytes'), img.manifest)), 'DIGEST_INVALID');
    assert.equal((await reg.call('GET', '/v2/strict/manifests/bad')).status, 404);
  });

  await t.test('tags/list: sorted, paginated with n and last and a Link header; NAME_UNKNOWN', async () => {
    const img = await pushImage(reg, 'paged', 't3', 'paged');
    for (const tag of ['t1', 't5', 't2', 't4']) assert.equal((await reg.pushManifest('paged', tag, img.manifest)).status, 201);
    const all = await reg.call('GET', '/v2/paged/tags/list');
    assert.deepEqual(await all.json(), { name: 'paged', tags: ['t1', 't2', 't3', 't4', 't5'] });
    assert.equal(all.headers.get('link'), null);
    const seen: string[] = [];
    let path: string | undefined = '/v2/paged/tags/list?n=2';
    let pages = 0;
    while (path) {
      const r = await reg.call('GET', path);
      const body = (await r.json()) as { tags: string[] };
      assert.ok(body.tags.length <= 2);
      seen.push(...body.tags);
      pages++;
      const link = r.headers.get('link');
      path = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
    }
    assert.deepEqual(seen, ['t1', 't2', 't3', 't4', 't5']);
    assert.equal(pages, 3);
    assert.deepEqual(await (await reg.call('GET', '/v2/paged/tags/list?n=10&last=t3')).json(), { name: 'paged', tags: ['t4', 't5'] });
    const unknown = await reg.call('GET', '/v2/no/such/repo/tags/list');
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
  });

  await t.test('_catalog lists every repository, nested ones too, with n and last', async () => {
    const r = await reg.call('GET', '/v2/_catalog');
    const repos = ((await r.json()) as { repositories: string[] }).repositories;
    for (const name of ['app/web', 'chunked', 'mono', 'paged', 'source/repo', 'target/repo']) assert.ok(repos.includes(name), name);
    assert.deepEqual(repos, [...repos].sort());
    const first = await reg.call('GET', '/v2/_catalog?n=1');
    assert.deepEqual(await first.json(), { repositories: [repos[0]] });
    assert.equal(first.headers.get('link'), `</v2/_catalog?last=${encodeURIComponent(repos[0])}&n=1>; rel="next"`);
    assert.deepEqual(await (await reg.call('GET', `/v2/_catalog?last=${repos[repos.length - 2]}`)).json(), { repositories: [repos[repos.length - 1]] });
  });

  await t.test('referrers: OCI-Subject on push, the index, the artifactType filter', async () => {
    const img = await pushImage(reg, 'signed', 'v1', 'subject');
    const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.bytes.length };
    const empty = Buffer.from('{}');
    const emptyD = await reg.pushBlob('signed', empty);
    const sig = { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.signature', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyD, size: 2 }, layers: [], subject, annotations: { who: 'me' } };
    const put = await reg.pushManifest('signed', sha256(JSON.stringify(sig)), sig);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('oci-subject'), img.digest);
    const sbom = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.example.sbom', digest: emptyD, size: 2 }, layers: [], subject };
    assert.equal((await reg.pushManifest('signed', 'sbom', sbom)).status, 201);
    const r = await reg.call('GET', `/v2/signed/referrers/${img.digest}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), OCI_INDEX);
    const index = (await r.json()) as { schemaVersion: number; mediaType: string; manifests: Array<Record<string, unknown>> };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    assert.deepEqual(index.manifests.map((m) => m.artifactType).sort(), ['application/vnd.example.sbom', 'application/vnd.example.signature']);
    const sigEntry = index.manifests.find((m) => m.artifactType === 'application/vnd.example.signature')!;
    assert.deepEqual(sigEntry, { mediaType: OCI_MANIFEST, digest: sha256(JSON.stringify(sig)), size: JSON.stringify(sig).length, artifactType: 'application/vnd.example.signature', annotations: { who: 'me' } });
    const filtered = await reg.call('GET', `/v2/signed/referrers/${img.digest}?artifactType=application/vnd.example.sbom`);
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    const fm = ((await filtered.json()) as { manifests: Array<{ digest: string }> }).manifests;
    assert.deepEqual(fm.map((m) => m.digest), [sha256(JSON.stringify(sbom))]);
    const none = await reg.call('GET', `/v2/signed/referrers/${sha256('nobody points here')}`);
    assert.equal(none.status, 200);
    assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
    assert.equal(await errorCode(await reg.call('GET', '/v2/signed/referrers/sha256:bad')), 'DIGEST_INVALID');
    // Deleting a referrer takes it out of the index.
    assert.equal((await reg.call('DELETE', `/v2/signed/manifests/${sha256(JSON.stringify(sbom))}`)).status, 202);
    const after = (await (await reg.call('GET', `/v2/signed/referrers/${img.digest}`)).json()) as { manifests: unknown[] };
    assert.equal(after.manifests.length, 1);
  });

  await t.test('deletes: a tag, a manifest by digest (and its tags), a blob link', async () => {
    const img = await pushImage(reg, 'del', 'a', 'del');
    assert.equal((await reg.pushManifest('del', 'b', img.manifest)).status, 201);
    assert.equal((await reg.call('DELETE', '/v2/del/manifests/a')).status, 202);
    assert.equal(await errorCode(await reg.call('GET', '/v2/del/manifests/a')), 'MANIFEST_UNKNOWN');
    assert.equal((await reg.call('GET', '/v2/del/manifests/b')).status, 200);
    assert.equal((await reg.call('DELETE', `/v2/del/manifests/${img.digest}`)).status, 202);
    assert.equal((await reg.call('GET', '/v2/del/manifests/b')).status, 404);
    assert.equal((await reg.call('GET', `/v2/del/manifests/${img.digest}`)).status, 404);
    assert.deepEqual(await (await reg.call('GET', '/v2/del/tags/list')).json(), { name: 'del', tags: [] });
    assert.equal(await errorCode(await reg.call('DELETE', `/v2/del/manifests/${img.digest}`)), 'MANIFEST_UNKNOWN');
    const layer = img.manifest.layers[0].digest;
    assert.equal((await reg.call('DELETE', `/v2/del/blobs/${layer}`)).status, 202);
    assert.equal((await reg.call('HEAD', `/v2/del/blobs/${layer}`)).status, 404);
    assert.equal(await errorCode(await reg.call('DELETE', `/v2/del/blobs/${layer}`)), 'BLOB_UNKNOWN');
  });

  await t.test('bad names are NAME_INVALID; a wrong method is 405 UNSUPPORTED', async () => {
    const r = await reg.call('GET', '/v2/Bad_Name/tags/list');
    assert.equal(r.status, 400);
    assert.equal(await errorCode(r), 'NAME_INVALID');
    assert.equal(await errorCode(await reg.call('GET', '/v2/a//b/tags/list')), 'NAME_INVALID');
    const m = await reg.call('DELETE', '/v2/_catalog');
    assert.equal(m.status, 405);
    assert.equal(await errorCode(m), 'UNSUPPORTED');
  });

  await t.test('gc refuses while the server runs; dry run lists, a real run removes only garbage', async () => {
    const gc = (...args: string[]) => run(BERTH[0], [...BERTH.slice(1), 'registry', 'gc', '--root', root, ...args]);
    const orphan = await reg.pushBlob('gc/repo', 'an orphan blob');
    const kept = await pushImage(reg, 'gc/repo', 'keep', 'gc');
    const refused = await gc('--dry-run');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the registry is running on .*stop it before gc/);
    await server.stop();
    const dry = await gc('--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove blob ${orphan}`));
    assert.match(dry.stdout, /eligible for deletion/);
    assert.ok(existsSync(join(root, 'blobs/sha256', orphan.slice(7))));
    const real = await gc();
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, new RegExp(`removed blob ${orphan}`));
    assert.ok(!real.stdout.includes(kept.digest));
    assert.equal(existsSync(join(root, 'blobs/sha256', orphan.slice(7))), false);
    // Everything a stored manifest needs is still served.
    const again = await startServer(root);
    const reg2 = registry(again.base);
    assert.equal((await reg2.call('GET', '/v2/gc/repo/manifests/keep')).status, 200);
    for (const b of [kept.manifest.config.digest, kept.manifest.layers[0].digest]) assert.equal((await reg2.call('HEAD', `/v2/gc/repo/blobs/${b}`)).status, 200);
    assert.equal((await reg2.call('HEAD', `/v2/gc/repo/blobs/${orphan}`)).status, 404);
    assert.equal((await reg2.call('GET', '/v2/app/web/manifests/v1')).status, 200);
    await again.stop();
    assert.equal(again.proc.exitCode, 0);
    assert.equal(existsSync(join(root, 'serve.pid')), false);
  });
});

test('htpasswd auth: 401 with a Basic challenge, 200 with the right password, 401 with a wrong one', async () => {
  const file = join(work, 'htpasswd');
  writeFileSync(file, execFileSync('htpasswd', ['-nbB', '-C', '5', 'alice', 'open sesame'], { encoding: 'utf8' }));
  const server = await startServer(join(work, 'auth'), ['--htpasswd', file, '--realm', 'test-realm']);
  const creds = (p: string) => ({ Authorization: `Basic ${Buffer.from(`alice:${p}`).toString('base64')}` });
  const none = await fetch(`${server.base}/v2/`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="test-realm"');
  assert.equal(await errorCode(none), 'UNAUTHORIZED');
  const ok = registry(server.base, creds('open sesame'));
  assert.equal((await ok.call('GET', '/v2/')).status, 200);
  await ok.pushBlob('private', 'secret bytes');
  const wrong = await fetch(`${server.base}/v2/_catalog`, { headers: creds('open sesame!') });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="test-realm"');
  assert.equal((await fetch(`${server.base}/v2/private/blobs/${sha256('secret bytes')}`)).status, 401);
  await server.stop();
});

test('TLS: HTTPS with the given certificate, trusted through its CA', async () => {
  const dir = mkdtempSync(join(work, 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const server = await startServer(join(work, 'tls-root'), ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')], 'https');
  const ca = readFileSync(join(dir, 'cert.pem'));
  const getV2 = (opts: { ca?: Buffer }) =>
    new Promise<{ status: number; version: string | undefined }>((resolvePromise, reject) => {
      httpsGet(`${server.base}/v2/`, opts, (res) => {
        res.resume();
        resolvePromise({ status: res.statusCode!, version: res.headers['docker-distribution-api-version'] as string | undefined });
      }).on('error', reject);
    });
  assert.deepEqual(await getV2({ ca }), { status: 200, version: 'registry/2.0' });
  await assert.rejects(getV2({}), /self[- ]signed/i);
  // Plain HTTP gets no registry answer.
  await assert.rejects(fetch(server.base.replace('https:', 'http:') + '/v2/').then(async (r) => assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0')));
  await server.stop();
});

test('kill -9 in the middle of a big upload leaves no blob; a restart and a full re-upload work', async () => {
  const root = join(work, 'crash');
  const server = await startServer(root);
  const reg = registry(server.base);
  const CHUNK = 1 << 20;
  const TOTAL = 64;
  const chunk = (i: number) => Buffer.alloc(CHUNK, i % 251);
  const hash = createHash('sha256');
  for (let i = 0; i < TOTAL; i++) hash.update(chunk(i));
  const digest = `sha256:${hash.digest('hex')}`;
  /** The body, slowed after 8 MiB so the kill lands mid-stream. */
  const body = (slow: boolean) =>
    new ReadableStream<Uint8Array>({
      i: 0,
      async pull(controller: ReadableStreamDefaultController<Uint8Array>) {
        const self = this as unknown as { i: number };
        if (self.i === TOTAL) return controller.close();
        if (slow && self.i >= 8) await new Promise((r) => setTimeout(r, 50));
        controller.enqueue(chunk(self.i++));
      },
    } as UnderlyingDefaultSource<Uint8Array> & { i: number });
  // A chunked session and a monolithic push, both cut off.
  const loc = (await reg.call('POST', '/v2/big/blobs/uploads/')).headers.get('location')!;
  const patch = reg.call('PATCH', loc, body(true)).catch((e: Error) => e);
  const mono = reg.call('POST', `/v2/big/blobs/uploads/?digest=${digest}`, body(true)).catch((e: Error) => e);
  const uuid = loc.split('/').pop()!;
  const dataFile = join(root, 'repositories/big/_uploads', uuid, 'data');
  const deadline = Date.now() + 30_000;
  while (!(existsSync(dataFile) && statSync(dataFile).size >= 4 * CHUNK && readdirSync(join(root, 'tmp')).length > 0)) {
    assert.ok(Date.now() < deadline, 'the upload never got going');
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop('SIGKILL');
  assert.ok((await patch) instanceof Error);
  assert.ok((await mono) instanceof Error);
  assert.ok(statSync(dataFile).size < TOTAL * CHUNK);
  assert.equal(existsSync(join(root, 'blobs/sha256', digest.slice(7))), false);

  const again = await startServer(root);
  const reg2 = registry(again.base);
  assert.equal((await reg2.call('HEAD', `/v2/big/blobs/${digest}`)).status, 404);
  assert.deepEqual(readdirSync(join(root, 'tmp')), [], 'a start removes what the crash left in tmp/');
  // The cut session still reports what it has, and finishing it with the digest fails cleanly.
  const status = await reg2.call('GET', loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), `0-${statSync(dataFile).size - 1}`);
  assert.equal(await errorCode(await reg2.call('PUT', `${loc}?digest=${digest}`)), 'DIGEST_INVALID');
  assert.equal(existsSync(join(root, 'blobs/sha256', digest.slice(7))), false);
  // A full re-upload, chunked then monolithic into another repository.
  const loc2 = (await reg2.call('POST', '/v2/big/blobs/uploads/')).headers.get('location')!;
  assert.equal((await reg2.call('PATCH', loc2, body(false))).status, 202);
  assert.equal((await reg2.call('PUT', `${loc2}?digest=${digest}`)).status, 201);
  const head = await reg2.call('HEAD', `/v2/big/blobs/${digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(TOTAL * CHUNK));
  assert.equal((await reg2.call('POST', `/v2/big2/blobs/uploads/?digest=${digest}`, body(false))).status, 201);
  const back = createHash('sha256');
  for await (const c of (await reg2.call('GET', `/v2/big2/blobs/${digest}`)).body!) back.update(c);
  assert.equal(`sha256:${back.digest('hex')}`, digest);
  await again.stop();
});

test('skopeo pushes an image, inspects it and pulls it back', async () => {
  const server = await startServer(join(work, 'skopeo'));
  const host = server.base.replace('http://', '');
  const copy = await run('skopeo', ['copy', '--dest-tls-verify=false', `docker-archive:${BUSYBOX_TAR}`, `docker://${host}/library/busybox:latest`], { timeoutMs: 120_000 });
  assert.equal(copy.code, 0, copy.stderr);
  assert.match(copy.stdout, /Writing manifest to image destination/);
  const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/library/busybox:latest`]);
  assert.equal(inspect.code, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout) as { Digest: string; RepoTags: string[]; Layers: string[]; Os: string };
  assert.deepEqual(info.RepoTags, ['latest']);
  assert.equal(info.Os, 'linux');
  const served = await fetch(`${server.base}/v2/library/busybox/manifests/latest`);
  assert.equal(served.headers.get('docker-content-digest'), info.Digest);
  const ociDir = join(work, 'skopeo-oci');
  const pull = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/library/busybox:latest`, `oci:${ociDir}:latest`], { timeoutMs: 120_000 });
  assert.equal(pull.code, 0, pull.stderr);
  const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(readFileSync(join(ociDir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
  for (const l of manifest.layers) assert.ok(existsSync(join(ociDir, 'blobs/sha256', l.digest.slice(7))), l.digest);
  // skopeo converts to OCI on the way out; the layer bytes are the ones pushed.
  assert.deepEqual(manifest.layers.map((l) => l.digest), info.Layers);
  const tags = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/library/busybox`]);
  assert.deepEqual(JSON.parse(tags.stdout).Tags, ['latest']);
  await server.stop();
});

test('a second server on the same --root is refused and leaves the first one alone', async () => {
  const root = join(work, 'shared');
  const first = await startServer(root);
  const reg = registry(first.base);
  const loc = (await reg.call('POST', '/v2/r/blobs/uploads/')).headers.get('location')!;
  await reg.call('PATCH', loc, 'partial');
  const second = await run(BERTH[0], [...BERTH.slice(1), 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', root]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`already served by process ${first.proc.pid}`));
  assert.equal((await reg.call('GET', loc)).headers.get('range'), '0-6');
  await first.stop();
  assert.equal(existsSync(join(root, 'serve.pid')), false);
});
