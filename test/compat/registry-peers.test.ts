// Cross-checks of berth's registry with real peers that are not berth: a real Docker daemon
// (Debian's docker.io, started here with its own roots and no firewall changes) pushes to
// and pulls from `berth registry serve`, and skopeo moves images between berth's registry
// and Debian's reference registry. Run by scripts/test-compat.sh, which installs the peers;
// a peer that is missing skips its test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_TAR, run } from '../helpers/daemon.ts';
import { startBerthRegistry, type BerthRegistry } from '../helpers/berth-registry.ts';
import { startRegistry } from '../helpers/registry.ts';
import { startReferenceDockerd, type ReferenceDockerd } from '../../bench/lib/reference-dockerd.ts';

let work: string;
let reg: BerthRegistry;
before(async () => {
  work = await fsp.mkdtemp(join(tmpdir(), 'berth-compat-'));
  reg = await startBerthRegistry(join(work, 'registry'));
});
after(async () => {
  await reg?.stop();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

test('a real Docker daemon pushes to berth registry and pulls back what it pushed', { skip: !existsSync('/usr/sbin/dockerd') && 'docker.io is not installed' }, async () => {
  const dk: ReferenceDockerd | undefined = await startReferenceDockerd(join(work, 'dockerd'), BUSYBOX_TAR);
  assert.ok(dk, 'the reference dockerd started');
  const docker = (args: string[]) => run('docker', ['-H', dk.host, ...args], { timeoutMs: 120_000 });
  try {
    const ref = `${reg.host}/compat/busybox:1`;
    assert.equal((await docker(['tag', 'busybox', ref])).code, 0);
    const push = await docker(['push', ref]);
    assert.equal(push.code, 0, push.stderr);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    // The registry serves the manifest Docker pushed, under the digest Docker reported.
    const head = await fetch(`${reg.base}/v2/compat/busybox/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), digest);
    // A second push finds every layer there.
    const again = await docker(['push', ref]);
    assert.match(again.stdout, /Layer already exists/);
    assert.equal((await docker(['rmi', ref, 'busybox'])).code, 0);
    const pull = await docker(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    const ran = await docker(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled from berth']);
    assert.equal(ran.stdout, 'pulled from berth\n', ran.stderr);
  } finally {
    await dk.stop();
  }
});

test('skopeo copies an image from berth registry to the reference registry and back, digests unchanged', { skip: !existsSync('/usr/bin/docker-registry') && 'docker-registry is not installed' }, async () => {
  const ref = await startRegistry();
  try {
    const skopeo = (args: string[]) => run('skopeo', [args[0]!, '--quiet', ...args.slice(1)], { timeoutMs: 120_000 });
    const digestOn = async (base: string, repo: string, tag: string) =>
      (await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })).headers.get('docker-content-digest');
    let r = await skopeo(['copy', '--dest-tls-verify=false', `docker-archive:${BUSYBOX_TAR}`, `docker://${reg.host}/peers/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    r = await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/peers/busybox:1`, `docker://${ref.host}/peers/busybox:1`]);
    assert.equal(r.code, 0, r.stderr);
    r = await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${ref.host}/peers/busybox:1`, `docker://${reg.host}/peers/back:1`]);
    assert.equal(r.code, 0, r.stderr);
    const first = await digestOn(reg.base, 'peers/busybox', '1');
    assert.match(first ?? '', /^sha256:/);
    assert.equal(await digestOn(`http://${ref.host}`, 'peers/busybox', '1'), first);
    assert.equal(await digestOn(reg.base, 'peers/back', '1'), first);
  } finally {
    await ref.stop();
  }
});
