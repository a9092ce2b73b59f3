// berth's own registry with berthd as its client, through the real docker CLI: what skopeo
// put into `berth registry serve` pulls and runs, with the digest the registry serves; what
// berthd pushes there (uploads, existing layers, cross-repository mounts) another berthd
// pulls and runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, dockerOk, run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { startBerthRegistry, type BerthRegistry } from '../helpers/berth-registry.ts';

let d: TestDaemon;
let reg: BerthRegistry;
let work: string;
before(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'berth-ownreg-'));
  reg = await startBerthRegistry(join(work, 'root'));
  d = await startDaemon({ loadBusybox: false });
});
after(async () => {
  await d?.cleanup();
  await reg?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

const ok = (args: string[]) => dockerOk(d, args);

test('docker pull through berthd from berth registry: the image skopeo pushed runs, under the served digest', async () => {
  const copy = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${BUSYBOX_TAR}`, `docker://${reg.host}/own/busybox:1`], { timeoutMs: 120_000 });
  assert.equal(copy.code, 0, copy.stderr);
  const head = await fetch(`${reg.base}/v2/own/busybox/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  const digest = head.headers.get('docker-content-digest');
  assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
  const out = await ok(['pull', `${reg.host}/own/busybox:1`]);
  assert.match(out, new RegExp(`Digest: ${digest}\\n`));
  assert.match(out, /Status: Downloaded newer image for /);
  assert.equal(await ok(['run', '--rm', `${reg.host}/own/busybox:1`, 'echo', 'from berth registry']), 'from berth registry\n');
  const [img] = JSON.parse(await ok(['image', 'inspect', `${reg.host}/own/busybox:1`]));
  assert.deepEqual(img.RepoDigests, [`${reg.host}/own/busybox@${digest}`]);
  // By digest too.
  await ok(['rmi', `${reg.host}/own/busybox:1`]);
  await ok(['pull', `${reg.host}/own/busybox@${digest}`]);
  assert.equal(await ok(['run', '--rm', `${reg.host}/own/busybox@${digest}`, 'true']), '');
});

test('docker push through berthd to berth registry: layers, then "Layer already exists", then a pull of it elsewhere runs', async () => {
  await ok(['load', '-i', BUSYBOX_TAR]);
  // A registry of its own: the one above already has busybox's layer (berthd would mount it).
  const reg = await startBerthRegistry(join(work, 'push-root'));
  try {
    await pushAndPull(reg);
  } finally {
    await reg.stop();
  }
});

async function pushAndPull(reg: BerthRegistry): Promise<void> {
  const ref = `${reg.host}/own/pushed:1`;
  await ok(['tag', 'busybox', ref]);
  const first = await ok(['push', ref]);
  assert.match(first, /: Pushed\n/);
  const digest = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(first)?.[1];
  assert.ok(digest, first);
  const head = await fetch(`${reg.base}/v2/own/pushed/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(head.headers.get('docker-content-digest'), digest);
  assert.match(await ok(['push', ref]), /: Layer already exists\n/);
  // Another repository of the same registry gets the layer by a mount.
  await ok(['tag', 'busybox', `${reg.host}/other/pushed:1`]);
  assert.match(await ok(['push', `${reg.host}/other/pushed:1`]), /Mounted from own\/pushed/);
  // A second daemon pulls what the first pushed and runs it.
  const d2 = await startDaemon({ loadBusybox: false });
  try {
    const pulled = await d2.docker(['pull', ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`Digest: ${digest}`));
    const ran = await d2.docker(['run', '--rm', ref, 'echo', 'round trip']);
    assert.equal(ran.stdout, 'round trip\n', ran.stderr);
  } finally {
    await d2.cleanup();
  }
}
