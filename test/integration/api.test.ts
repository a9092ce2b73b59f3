// The Engine API surface itself: ping, versions, errors, as the docker CLI and raw HTTP see them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: false });
});
after(async () => {
  await d?.cleanup();
});

test('ping answers GET and HEAD with the API version headers', async () => {
  const get = await d.api('GET', '/_ping');
  assert.equal(get.status, 200);
  assert.equal(get.body, 'OK');
  assert.equal(get.headers['api-version'], '1.50');
  assert.equal(get.headers['ostype'], 'linux');
  const head = await d.api('HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.headers['api-version'], '1.50');
  assert.equal((await d.api('GET', '/v1.24/_ping')).status, 200);
});

test('versioned and unversioned paths; too-new and too-old versions refused like dockerd', async () => {
  const v = await d.api('GET', '/v1.50/version');
  assert.equal(v.status, 200);
  assert.equal(v.json().ApiVersion, '1.50');
  assert.equal(v.json().MinAPIVersion, '1.24');
  assert.equal((await d.api('GET', '/version')).status, 200);
  const tooNew = await d.api('GET', '/v1.51/version');
  assert.equal(tooNew.status, 400);
  assert.equal(tooNew.json().message, 'client version 1.51 is too new. Maximum supported API version is 1.50');
  const tooOld = await d.api('GET', '/v1.23/version');
  assert.equal(tooOld.status, 400);
  assert.match(tooOld.json().message, /client version 1.23 is too old. Minimum supported API version is 1.24/);
});

test('errors are {"message"} with Docker status codes', async () => {
  const missing = await d.api('GET', '/containers/nope/json');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such container: nope' });
  const img = await d.api('GET', '/images/nope:latest/json');
  assert.equal(img.status, 404);
  assert.match(img.json().message, /No such image: nope:latest/);
  const badJson = await d.api('POST', '/containers/create', '{not json');
  assert.equal(badJson.status, 400);
  const noImage = await d.api('POST', '/containers/create', { Image: 'nothere' });
  assert.equal(noImage.status, 404);
  assert.equal((await d.api('GET', '/no/such/route')).status, 404);
});

test('docker version and info work against berthd', async () => {
  const v = await d.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), '1.50 linux');
  const info = await d.docker(['info', '--format', '{{.Driver}} {{.OSType}} {{.DefaultRuntime}}']);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(info.stdout.trim(), 'overlay2 linux runc');
});

test('the API socket is owner and group only', async () => {
  const { statSync } = await import('node:fs');
  assert.equal(statSync(d.socket).mode & 0o777, 0o660);
});

test('a second daemon on the same exec-root is refused', async () => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { REPO } = await import('../helpers/daemon.ts');
  const other = spawnSync(join(REPO, 'bin', 'berthd'), ['--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', `unix://${d.socket}.2`, '--config-file', '/nonexistent.json'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(other.status, 1);
  assert.match(other.stderr, /pid file found, ensure berthd is not running or delete .*berthd\.pid/);
  assert.equal((await d.api('GET', '/_ping')).status, 200);
});
