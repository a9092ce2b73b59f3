// The registry server's pure rules: repository names and tags, digests, error bodies,
// pagination, routing, Content-Range and Range parsing, manifest parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRepositoryName, isTag } from '../../src/registry/server/names.ts';
import { parseDigest, requireDigest, digestBytes } from '../../src/registry/server/digests.ts';
import { RegistryError, errorResponse, regError } from '../../src/registry/server/errors.ts';
import { paginate, parseN } from '../../src/registry/server/pagination.ts';
import { matchRoute } from '../../src/registry/server/router.ts';
import { parseContentRange, rangeHeader } from '../../src/registry/server/uploads.ts';
import { parseRange } from '../../src/registry/server/blob-routes.ts';
import { MEDIA, parseManifest, referrerDescriptor } from '../../src/registry/server/manifest.ts';
import { parseAddr } from '../../src/registry/server/server.ts';

const D = (c: string) => `sha256:${c.repeat(64)}`;

test('repository names follow the spec regex, nested paths included', () => {
  for (const ok of ['busybox', 'library/busybox', 'a/b/c', 'a.b_c__d-e--f', 'x0/y1', 'a'.repeat(255)]) assert.equal(isRepositoryName(ok), true, ok);
  for (const bad of ['', 'A', 'a/', '/a', 'a//b', '_a', 'a_', 'a___b', 'a/.b', 'host:5000/a', 'a/_uploads', 'a'.repeat(256)]) assert.equal(isRepositoryName(bad), false, bad);
});

test('tags: 1 to 128 of [A-Za-z0-9_.-], not starting with . or -', () => {
  for (const ok of ['latest', 'v1.0', '_x', 'A-b', 'a'.repeat(128)]) assert.equal(isTag(ok), true, ok);
  for (const bad of ['', '.x', '-x', 'a/b', 'a:b', 'a'.repeat(129)]) assert.equal(isTag(bad), false, bad);
});

test('digests: sha256 and sha512 accepted, anything else is DIGEST_INVALID', () => {
  assert.deepEqual(parseDigest(D('a')), { digest: D('a'), algorithm: 'sha256', hex: 'a'.repeat(64) });
  assert.equal(parseDigest(`sha512:${'b'.repeat(128)}`)?.algorithm, 'sha512');
  for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, `sha512:${'b'.repeat(64)}`, '../../etc']) {
    assert.equal(parseDigest(bad), undefined, bad);
    assert.throws(() => requireDigest(bad), (e: RegistryError) => e.code === 'DIGEST_INVALID' && e.status === 400);
  }
  assert.equal(digestBytes('sha256', Buffer.from('hello')), 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
});

test('error codes map to the spec statuses and the errors JSON', () => {
  const want: Record<string, number> = { BLOB_UNKNOWN: 404, BLOB_UPLOAD_INVALID: 400, BLOB_UPLOAD_UNKNOWN: 404, DIGEST_INVALID: 400, MANIFEST_BLOB_UNKNOWN: 400, MANIFEST_INVALID: 400, MANIFEST_UNKNOWN: 404, NAME_INVALID: 400, NAME_UNKNOWN: 404, SIZE_INVALID: 400, UNAUTHORIZED: 401, DENIED: 403, UNSUPPORTED: 405, TOOMANYREQUESTS: 429 };
  for (const [code, status] of Object.entries(want)) {
    const r = errorResponse(regError(code as never, { x: 1 }));
    assert.equal(r.status, status, code);
    const body = JSON.parse(r.body);
    assert.equal(body.errors[0].code, code);
    assert.equal(typeof body.errors[0].message, 'string');
    assert.deepEqual(body.errors[0].detail, { x: 1 });
  }
  const r = errorResponse(new Error('disk on fire'));
  assert.equal(r.status, 500);
  assert.deepEqual(JSON.parse(r.body), { errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] });
  const e416 = errorResponse(regError('BLOB_UPLOAD_INVALID', undefined, { status: 416, headers: { Range: '0-9' } }));
  assert.equal(e416.status, 416);
  assert.deepEqual(e416.headers, { Range: '0-9' });
});

test('pagination: sorted, after last, at most n, Link to the next page', () => {
  const all = ['c', 'a', 'e', 'b', 'd'];
  assert.deepEqual(paginate(all, undefined, null, '/v2/x/tags/list'), { items: ['a', 'b', 'c', 'd', 'e'] });
  assert.deepEqual(paginate(all, 2, null, '/v2/x/tags/list'), { items: ['a', 'b'], link: '</v2/x/tags/list?last=b&n=2>; rel="next"' });
  assert.deepEqual(paginate(all, 2, 'b', '/v2/_catalog'), { items: ['c', 'd'], link: '</v2/_catalog?last=d&n=2>; rel="next"' });
  assert.deepEqual(paginate(all, 2, 'd', '/v2/_catalog'), { items: ['e'] });
  assert.deepEqual(paginate(all, 5, null, '/p'), { items: ['a', 'b', 'c', 'd', 'e'] });
  assert.deepEqual(paginate(all, 0, null, '/p'), { items: [] });
  assert.equal(parseN(null), undefined);
  assert.equal(parseN('10'), 10);
  for (const bad of ['-1', 'x', '1.5']) assert.throws(() => parseN(bad), (e: RegistryError) => e.code === 'PAGINATION_NUMBER_INVALID' && e.status === 400);
});

test('routes: names with slashes, the fixed tails, 405 for a wrong method, 404 for no route', () => {
  assert.equal(matchRoute('GET', '/v2/').name, '');
  const m = matchRoute('GET', `/v2/a/b/c/manifests/${D('1')}`);
  assert.deepEqual([m.name, m.ref], ['a/b/c', D('1')]);
  assert.deepEqual([matchRoute('POST', '/v2/a/blobs/uploads/').name], ['a']);
  const u = matchRoute('PATCH', '/v2/x/blobs/uploads/abc');
  assert.deepEqual([u.name, u.ref], ['x', 'abc']);
  const b = matchRoute('GET', `/v2/blobs/blobs/${D('2')}`);
  assert.deepEqual([b.name, b.ref], ['blobs', D('2')]);
  assert.equal(matchRoute('GET', '/v2/a/tags/list').name, 'a');
  assert.equal(matchRoute('GET', `/v2/a/referrers/${encodeURIComponent(D('3'))}`).ref, D('3'));
  assert.throws(() => matchRoute('GET', '/v2/Upper/tags/list'), (e: RegistryError) => e.code === 'NAME_INVALID');
  assert.throws(() => matchRoute('POST', '/v2/a/tags/list'), (e: RegistryError) => e.code === 'UNSUPPORTED' && e.status === 405 && e.headers.Allow === 'GET');
  assert.throws(() => matchRoute('GET', '/v1/x'), (e: RegistryError) => e.status === 404);
});

test('upload ranges: Content-Range forms, the Range header, GET Range', () => {
  assert.deepEqual(parseContentRange('0-9'), { start: 0, end: 9 });
  assert.deepEqual(parseContentRange('bytes 10-19/*'), { start: 10, end: 19 });
  assert.equal(parseContentRange(undefined), undefined);
  assert.throws(() => parseContentRange('9-0'), (e: RegistryError) => e.code === 'BLOB_UPLOAD_INVALID');
  assert.throws(() => parseContentRange('abc'), (e: RegistryError) => e.code === 'BLOB_UPLOAD_INVALID');
  assert.equal(rangeHeader(0), '0-0');
  assert.equal(rangeHeader(10), '0-9');
  assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.equal(parseRange(undefined, 10), undefined);
  assert.throws(() => parseRange('bytes=10-', 10), (e: RegistryError) => e.status === 416 && e.headers['Content-Range'] === 'bytes */10');
});

test('manifests: media type from Content-Type or body, references, subject, artifactType', () => {
  const desc = (c: string, mediaType = 'application/octet-stream') => ({ mediaType, digest: D(c), size: 1 });
  const img = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: desc('c', 'application/vnd.example.sig'), layers: [desc('e')], subject: desc('5', MEDIA.ociManifest), annotations: { a: 'b' } };
  const info = parseManifest(Buffer.from(JSON.stringify(img)), `${MEDIA.ociManifest}; charset=utf-8`);
  assert.equal(info.mediaType, MEDIA.ociManifest);
  assert.deepEqual(info.blobs.map((b) => b.digest), [D('c'), D('e')]);
  assert.equal(info.subject?.digest, D('5'));
  assert.deepEqual(referrerDescriptor(info, D('9'), 123), { mediaType: MEDIA.ociManifest, digest: D('9'), size: 123, artifactType: 'application/vnd.example.sig', annotations: { a: 'b' } });
  const explicit = parseManifest(Buffer.from(JSON.stringify({ ...img, artifactType: 'application/x-a' })), undefined);
  assert.equal(referrerDescriptor(explicit, D('9'), 1).artifactType, 'application/x-a');
  const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [desc('6', MEDIA.ociManifest)] })), '');
  assert.equal(index.mediaType, MEDIA.ociIndex);
  assert.deepEqual(index.manifests.map((m) => m.digest), [D('6')]);
  const invalid = (body: string, ct?: string) => assert.throws(() => parseManifest(Buffer.from(body), ct), (e: RegistryError) => e.code === 'MANIFEST_INVALID');
  invalid('not json');
  invalid(JSON.stringify({ schemaVersion: 1 }));
  invalid(JSON.stringify({ ...img, mediaType: MEDIA.dockerManifest }), MEDIA.ociManifest);
  invalid(JSON.stringify({ ...img, layers: [{ mediaType: 'x', digest: 'sha256:nope', size: 1 }] }));
  invalid(JSON.stringify({ ...img, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }));
});

test('--addr forms', () => {
  assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseAddr(':0'), { host: undefined, port: 0 });
  assert.deepEqual(parseAddr('[::1]:5000'), { host: '::1', port: 5000 });
  assert.throws(() => parseAddr('localhost'));
  assert.throws(() => parseAddr('h:70000'));
});
