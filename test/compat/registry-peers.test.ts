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
