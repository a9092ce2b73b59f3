// docker login/logout and docker push through berthd, against a real registry (Debian's
// docker-registry 2.8 with htpasswd Basic auth, started here with its own storage and
// port), checked with skopeo: the layers and digest that arrived, "Layer already exists"
// on a second push, a cross-repository mount for another repository of the same registry,
// RepoDigests, the push event, docker's errors; then rmi, pull back and run. The berth CLI's
// login/push/pull/logout are compared with docker's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { startDaemon, run, type TestDaemon } from '../helpers/daemon.ts';
import { rawGet, startRegistry, type TestRegistry } from '../helpers/registry.ts';

let d: TestDaemon;
let reg: TestRegistry;
let openReg: TestRegistry;
let dockerConfig: string;

before(async () => {
  reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'secret-pw' } });
  openReg = await startRegistry();
  d = await startDaemon();
  dockerConfig = join(d.dataRoot, '..', 'docker-config');
});

after(async () => {
  await d?.cleanup();
  await reg?.stop();
  await openReg?.stop();
});

const docker = (args: string[], input?: string) => d.docker(args, { input, timeoutMs: 120_000 });
const berth = (args: string[], input?: string) => d.berth(args, { input, timeoutMs: 120_000 });

async function skopeo(ref: string, raw = false, creds = 'alice:secret-pw'): Promise<any> {
  const r = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, ...(raw ? ['--raw'] : []), `docker://${ref}`]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function diffIdOfGzipBlob(host: string, repo: string, digest: string): Promise<string> {
  const auth = 'Basic ' + Buffer.from('alice:secret-pw').toString('base64');
  const res = await fetch(`http://${host}/v2/${repo}/blobs/${digest}`, { headers: { Authorization: auth } });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal('sha256:' + createHash('sha256').update(bytes).digest('hex'), digest);
  const h = createHash('sha256');
  for await (const c of Readable.from([bytes]).pipe(createGunzip())) h.update(c as Buffer);
  return 'sha256:' + h.digest('hex');
}

test('docker login: wrong password fails with dockerd\'s text, the right one succeeds and is stored', async () => {
  const bad = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `Error response from daemon: login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized\n`);
  const ok = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  assert.match(ok.stderr, /WARNING! Your credentials are stored unencrypted/);
  const cfg = JSON.parse(await fsp.readFile(join(dockerConfig, 'config.json'), 'utf8'));
  assert.equal(cfg.auths[reg.host].auth, Buffer.from('alice:secret-pw').toString('base64'));
});

test('docker push: layers, digest and RepoDigests; a second push finds the layer; another repository mounts it', async () => {
  assert.equal((await docker(['tag', 'busybox', `${reg.host}/bb:1`])).code, 0);
  const p = await docker(['push', `${reg.host}/bb:1`]);
  assert.equal(p.code, 0, p.stderr);
  const inspect = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout)[0];
  const diffId: string = inspect.RootFS.Layers[0];
  const short = diffId.slice(7, 19);
  const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/m.exec(p.stdout);
  assert.ok(m, p.stdout);
  assert.equal(p.stdout, `The push refers to repository [${reg.host}/bb]\n${short}: Preparing\n${short}: Pushed\n1: digest: ${m[1]} size: ${m[2]}\n`);
  // What arrived: a schema2 manifest whose one gzip layer unpacks to the image's layer.
  const raw = await skopeo(`${reg.host}/bb:1`, true);
  assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(raw.config.digest, inspect.Id);
  assert.equal(raw.layers.length, 1);
  assert.equal(raw.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  assert.equal(await diffIdOfGzipBlob(reg.host, 'bb', raw.layers[0].digest), diffId);
  const info = await skopeo(`${reg.host}/bb:1`);
  assert.equal(info.Digest, m[1]);
  const after1 = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout)[0];
  assert.deepEqual(after1.RepoDigests, [`${reg.host}/bb@${m[1]}`]);

  const again = await docker(['push', `${reg.host}/bb:1`]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `The push refers to repository [${reg.host}/bb]\n${short}: Preparing\n${short}: Layer already exists\n1: digest: ${m[1]} size: ${m[2]}\n`);

  assert.equal((await docker(['tag', 'busybox', `${reg.host}/other/bb:x`])).code, 0);
  const mount = await docker(['push', `${reg.host}/other/bb:x`]);
  assert.equal(mount.code, 0, mount.stderr);
  assert.equal(mount.stdout, `The push refers to repository [${reg.host}/other/bb]\n${short}: Preparing\n${short}: Mounted from bb\nx: digest: ${m[1]} size: ${m[2]}\n`);
  const log = await reg.log();
  assert.match(log, /POST \/v2\/other\/bb\/blobs\/uploads\/\?from=bb&amp;mount=|mount=sha256/);
  const both = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout)[0];
  assert.deepEqual(both.RepoDigests.sort(), [`${reg.host}/bb@${m[1]}`, `${reg.host}/other/bb@${m[1]}`].sort());
});
