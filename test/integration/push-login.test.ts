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
import { startDaemon, run, BUSYBOX_TAR, REPO, type TestDaemon } from '../helpers/daemon.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { PtySession } from '../helpers/pty.ts';

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
  // The registry saw a cross-repository mount, and answered it 201.
  const mounts = (await reg.log()).split('\n').filter((l) => l.startsWith('127.0.0.1 - - ') && l.includes('"POST /v2/other/bb/blobs/uploads/?'));
  assert.equal(mounts.length, 1, mounts.join('\n'));
  assert.match(mounts[0], /from=bb/);
  assert.match(mounts[0], new RegExp(`mount=${raw.layers[0].digest.replace(':', '(:|%3A)')}`));
  assert.match(mounts[0], /" 201 /);
  const both = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout)[0];
  assert.deepEqual(both.RepoDigests.sort(), [`${reg.host}/bb@${m[1]}`, `${reg.host}/other/bb@${m[1]}`].sort());
});

test('docker push: the push event; docker\'s errors for a missing image or tag', async () => {
  const since = (Date.now() / 1000).toFixed(3);
  const p = await docker(['push', `${reg.host}/bb:1`]);
  assert.equal(p.code, 0, p.stderr);
  const ev = await docker(['events', '--since', since, '--until', (Date.now() / 1000 + 0.5).toFixed(3), '--filter', 'type=image', '--filter', 'event=push', '--format', '{{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.equal(ev.stdout, `${reg.host}/bb:1 ${reg.host}/bb\n`);

  const none = await docker(['push', `${reg.host}/nothing:1`]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, `The push refers to repository [${reg.host}/nothing]\n`);
  assert.equal(none.stderr, `An image does not exist locally with the tag: ${reg.host}/nothing\n`);
  const noTag = await docker(['push', `${reg.host}/bb:2`]);
  assert.equal(noTag.code, 1);
  assert.equal(noTag.stderr, `tag does not exist: ${reg.host}/bb:2\n`);
  const digest = await docker(['push', `${reg.host}/bb@sha256:${'a'.repeat(64)}`]);
  assert.equal(digest.stderr, 'cannot push a digest reference\n');
});

test('docker push without a login to a registry that wants one fails with docker\'s text; docker logout', async () => {
  const out = await docker(['logout', reg.host]);
  assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
  const cfg = JSON.parse(await fsp.readFile(join(dockerConfig, 'config.json'), 'utf8'));
  assert.deepEqual(cfg.auths, {});
  assert.equal((await docker(['tag', 'busybox', `${reg.host}/locked:1`])).code, 0);
  const p = await docker(['push', `${reg.host}/locked:1`]);
  assert.equal(p.code, 1);
  const short = JSON.parse((await docker(['image', 'inspect', 'busybox'])).stdout)[0].RootFS.Layers[0].slice(7, 19);
  assert.equal(p.stdout, `The push refers to repository [${reg.host}/locked]\n${short}: Preparing\n`);
  assert.equal(p.stderr, 'no basic auth credentials\n');
  // Nothing arrived.
  const r = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', 'alice:secret-pw', `docker://${reg.host}/locked:1`]);
  assert.notEqual(r.code, 0);
});

test('docker rmi, then docker pull of what was pushed, and a container runs from it', async () => {
  const login = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.equal(login.code, 0, login.stderr);
  const before = JSON.parse((await docker(['image', 'inspect', `${reg.host}/bb:1`])).stdout)[0];
  // The image goes entirely (busybox too), so the pull has to bring the layer.
  for (const t of [`${reg.host}/bb:1`, `${reg.host}/other/bb:x`, `${reg.host}/locked:1`, 'busybox']) assert.equal((await docker(['rmi', t])).code, 0);
  assert.notEqual((await docker(['image', 'inspect', before.Id])).code, 0);
  const pull = await docker(['pull', `${reg.host}/bb:1`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /: Pull complete\n/);
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/bb:1\n${reg.host}/bb:1\n$`));
  assert.equal((await docker(['tag', `${reg.host}/bb:1`, 'busybox'])).code, 0);
  const after1 = JSON.parse((await docker(['image', 'inspect', `${reg.host}/bb:1`])).stdout)[0];
  assert.equal(after1.Id, before.Id);
  const r = await docker(['run', '--rm', `${reg.host}/bb:1`, 'echo', 'pushed and pulled']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'pushed and pulled\n');
});

test('a pulled image pushed to another registry goes with the manifest it was pulled with', async () => {
  const pulled = await skopeo(`${reg.host}/bb:1`);
  assert.equal((await docker(['tag', 'busybox', `${openReg.host}/copy:1`])).code, 0);
  const p = await docker(['push', `${openReg.host}/copy:1`]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`: Pushed\\n1: digest: ${pulled.Digest} size: \\d+\\n$`));
  const copy = await skopeo(`${openReg.host}/copy:1`, false, 'x:y');
  assert.equal(copy.Digest, pulled.Digest);
  assert.deepEqual(copy.Layers, pulled.Layers);
});

test('a pulled image whose layer another tool compressed is pushed within its registry by mounting, with its own manifest', async () => {
  // skopeo recompresses busybox's layer with zstd into an OCI manifest; berth pulls that.
  const r = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--format', 'oci', '--dest-compress-format', 'zstd', `docker-archive:${BUSYBOX_TAR}`, `docker://${openReg.host}/zst:1`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const original = await skopeo(`${openReg.host}/zst:1`, true, 'x:y');
  assert.match(original.layers[0].mediaType, /zstd/);
  const pull = await docker(['pull', `${openReg.host}/zst:1`]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal((await docker(['tag', `${openReg.host}/zst:1`, `${openReg.host}/zst2:1`])).code, 0);
  const p = await docker(['push', `${openReg.host}/zst2:1`]);
  assert.equal(p.code, 0, p.stderr);
  const originalInfo = await skopeo(`${openReg.host}/zst:1`, false, 'x:y');
  assert.match(p.stdout, new RegExp(`: Mounted from zst\\n1: digest: ${originalInfo.Digest} size: \\d+\\n$`));
  assert.deepEqual(await skopeo(`${openReg.host}/zst2:1`, true, 'x:y'), original);
});

const berthOut = (s: string) => s.replace(/berth/g, 'docker');

test('berth login, push, pull and logout print what docker prints and share docker\'s config.json', async () => {
  // login: a wrong password, then the right one (stored as docker stores it).
  const bad = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
  const dbad = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'nope\n');
  assert.equal(bad.code, 1);
  assert.equal(berthOut(bad.stderr), dbad.stderr);
  await docker(['logout', reg.host]);
  const ok = await berth(['login', '-u', 'alice', '-p', 'secret-pw', reg.host]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  assert.equal(ok.stderr, `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n\nWARNING! Your credentials are stored unencrypted in '${join(dockerConfig, 'config.json')}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
  const cfg = await fsp.readFile(join(dockerConfig, 'config.json'), 'utf8');
  assert.equal(cfg, `{\n\t"auths": {\n\t\t"${reg.host}": {\n\t\t\t"auth": "${Buffer.from('alice:secret-pw').toString('base64')}"\n\t\t}\n\t}\n}`);
  // The same login again changes nothing and warns about nothing; without -u it uses the stored one.
  const again = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.deepEqual([again.code, again.stdout, again.stderr], [0, 'Login Succeeded\n', '']);
  const stored = await berth(['login', reg.host]);
  const dstored = await docker(['login', reg.host]);
  assert.deepEqual([stored.code, stored.stdout, stored.stderr], [dstored.code, dstored.stdout, dstored.stderr]);
  for (const args of [['login', '-p', 'x', reg.host], ['login', '--password-stdin', reg.host], ['login', '-u', 'a', '-p', 'x', '--password-stdin', reg.host], ['login', '-u', '', '-p', 'x', reg.host]]) {
    const b = await berth(args);
    const dk = await docker(args);
    assert.deepEqual([b.code, b.stdout, berthOut(b.stderr)], [dk.code, dk.stdout, dk.stderr], args.join(' '));
  }

  // push: docker's output, byte for byte apart from the digest docker printed for the same push.
  assert.equal((await docker(['tag', 'busybox', `${reg.host}/cli:1`])).code, 0);
  const bp = await berth(['push', `${reg.host}/cli:1`]);
  assert.equal(bp.code, 0, bp.stderr);
  const dp = await docker(['push', `${reg.host}/cli:1`]);
  assert.equal(bp.stdout.replace(/Mounted from \S+|Pushed/, 'X'), dp.stdout.replace(/Layer already exists/, 'X'));
  assert.match(bp.stdout, /: (Mounted from \S+|Pushed)\n1: digest: sha256:/);
  for (const args of [['push', '-q', `${reg.host}/cli:1`], ['push', `${reg.host}/cli`], ['push', '-a', `${reg.host}/cli`], ['push', '-a', `${reg.host}/cli:1`], ['push', `${reg.host}/cli:nope`], ['push', `${reg.host}/none`]]) {
    const b = await berth(args);
    const dk = await docker(args);
    assert.deepEqual([b.code, b.stdout, b.stderr], [dk.code, dk.stdout, dk.stderr], args.join(' '));
  }

  // pull: the same output as docker's, and the full reference at the end.
  assert.equal((await docker(['rmi', `${reg.host}/cli:1`])).code, 0);
  const bl = await berth(['pull', `${reg.host}/cli:1`]);
  assert.equal(bl.code, 0, bl.stderr);
  assert.match(bl.stdout, new RegExp(`^1: Pulling from cli\\nDigest: sha256:[a-f0-9]{64}\\nStatus: Downloaded newer image for ${reg.host}/cli:1\\n${reg.host}/cli:1\\n$`));
  for (const args of [['pull', `${reg.host}/cli:1`], ['pull', '-q', `${reg.host}/cli:1`], ['pull', `${reg.host}/cli`], ['pull', '-a', `${reg.host}/cli`], ['pull', `${reg.host}/cli:nope`]]) {
    const b = await berth(args);
    const dk = await docker(args);
    assert.deepEqual([b.code, b.stdout, b.stderr], [dk.code, dk.stdout, dk.stderr], args.join(' '));
  }

  // logout: gone for both CLIs; then a push fails as docker's does.
  const lo = await berth(['logout', reg.host]);
  assert.deepEqual([lo.code, lo.stdout], [0, `Removing login credentials for ${reg.host}\n`]);
  assert.deepEqual(JSON.parse(await fsp.readFile(join(dockerConfig, 'config.json'), 'utf8')).auths, {});
  const denied = await berth(['push', `${reg.host}/cli:1`]);
  const ddenied = await docker(['push', `${reg.host}/cli:1`]);
  assert.equal(denied.code, 1);
  assert.deepEqual([denied.stdout, denied.stderr], [ddenied.stdout, ddenied.stderr]);
  assert.equal(denied.stderr, 'no basic auth credentials\n');
});

test('on a terminal, berth push and pull draw what docker draws', async () => {
  const login = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.equal(login.code, 0, login.stderr);
  const env = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: dockerConfig };
  const onPty = async (cmd: string) => {
    const s = new PtySession(`stty rows 40 cols 150; ${cmd}`, env);
    assert.equal(await s.exit(60_000), 0, s.output);
    return s.output;
  };
  try {
    for (const args of [`push ${reg.host}/cli:1`, `pull ${reg.host}/cli:1`]) {
      const dk = await onPty(`docker ${args}`);
      const b = await onPty(`${REPO}/bin/berth ${args}`);
      assert.equal(b, dk);
      assert.match(b, args.startsWith('push') ? /\x1b\[1A\x1b\[2K\r[0-9a-f]{12}: Layer already exists \r\x1b\[1B/ : /Image is up to date/);
    }
  } finally {
    await docker(['logout', reg.host]);
  }
});

test('on a terminal, berth login prompts for the name and (unechoed) password as docker does', async () => {
  const env = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: dockerConfig };
  const session = async (cli: string) => {
    await docker(['logout', reg.host]);
    const s = new PtySession(`stty rows 40 cols 150; ${cli} login ${reg.host}`, env);
    let at = await s.waitFor('Username: ');
    s.send('alice\r');
    at = await s.waitFor('Password: ', at);
    s.send('secret-pw\r');
    assert.equal(await s.exit(60_000), 0, s.output);
    assert.ok(!s.output.includes('secret-pw'), 'the password is not echoed');
    return s.output.replace(/berth/g, 'docker');
  };
  const dk = await session('docker');
  const b = await session(`${REPO}/bin/berth`);
  assert.equal(b, dk);
  assert.match(b, /Login Succeeded/);
  await docker(['logout', reg.host]);
});

test('token auth: docker login stores the identity token the registry gave; push goes with it', async () => {
  const treg = await startRegistry({ auth: 'token', users: { bob: 'pw-b' } });
  try {
    const login = await docker(['login', '-u', 'bob', '--password-stdin', treg.host], 'pw-b\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    // An identity token instead of the password: no warning about a stored password.
    assert.equal(login.stderr, '');
    const entry = JSON.parse(await fsp.readFile(join(dockerConfig, 'config.json'), 'utf8')).auths[treg.host];
    assert.match(entry.identitytoken, /^[0-9a-f]{32}$/);
    assert.equal(entry.auth, Buffer.from('bob:').toString('base64'));
    assert.equal((await docker(['tag', 'busybox', `${treg.host}/tok:1`])).code, 0);
    const p = await berth(['push', `${treg.host}/tok:1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /: Pushed\n1: digest: sha256:/);
    // The push traded the refresh token for its access.
    assert.ok(treg.token!.requests.some((r) => r.method === 'POST' && r.params.grant_type === 'refresh_token' && String(r.params.scope).includes('repository:tok:') && r.user === 'bob'));
    assert.equal((await docker(['rmi', `${treg.host}/tok:1`])).code, 0);
    await docker(['logout', treg.host]);
  } finally {
    await treg.stop();
  }
});

test('chunked uploads (BERTH_PUSH_CHUNK_SIZE): the layer goes in PATCHes of that size and arrives whole', async () => {
  process.env.BERTH_PUSH_CHUNK_SIZE = String(256 * 1024);
  let d2: TestDaemon | undefined;
  try {
    d2 = await startDaemon();
  } finally {
    delete process.env.BERTH_PUSH_CHUNK_SIZE;
  }
  try {
    assert.equal((await d2.docker(['tag', 'busybox', `${openReg.host}/chunked:1`])).code, 0);
    const p = await d2.docker(['push', `${openReg.host}/chunked:1`], { timeoutMs: 120_000 });
    assert.equal(p.code, 0, p.stderr);
    const raw = await skopeo(`${openReg.host}/chunked:1`, true, 'x:y');
    const size: number = raw.layers[0].size;
    const patches = (await openReg.log()).split('\n').filter((l) => l.startsWith('127.0.0.1 - - ') && /"PATCH \/v2\/chunked\/blobs\/uploads\//.test(l));
    assert.equal(patches.length, Math.ceil(size / (256 * 1024)));
    const inspect = JSON.parse((await d2.docker(['image', 'inspect', 'busybox'])).stdout)[0];
    assert.equal(raw.config.digest, inspect.Id);
  } finally {
    await d2.cleanup();
  }
});

test('after a berthd restart, what berth knows of the registry still spares the upload', async () => {
  const login = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.equal(login.code, 0, login.stderr);
  try {
    assert.equal(await d.stop('SIGTERM'), 0);
    await d.restart();
    const remote = await skopeo(`${reg.host}/bb:1`);
    const p = await docker(['push', `${reg.host}/bb:1`]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`: Layer already exists\\n1: digest: ${remote.Digest} size: \\d+\\n$`));
    const inspect = JSON.parse((await docker(['image', 'inspect', `${reg.host}/bb:1`])).stdout)[0];
    assert.ok(inspect.RepoDigests.includes(`${reg.host}/bb@${remote.Digest}`));
  } finally {
    await docker(['logout', reg.host]);
  }
});
