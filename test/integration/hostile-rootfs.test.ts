// A container owns its root filesystem: what berthd reads from it on the host (the user
// database for `exec -u` and `berth explain`) must not hang on a FIFO, read a device, or
// follow a link out to the host's files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: true });
});
after(async () => {
  await d?.cleanup();
});

async function running(name: string, script: string): Promise<void> {
  const r = await d.docker(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `${script}; touch /ready; sleep 300`]);
  assert.equal(r.code, 0, r.stderr);
  for (let i = 0; i < 100; i++) {
    if ((await d.docker(['exec', name, 'test', '-e', '/ready'])).code === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${name} did not get ready`);
}

test('a FIFO as /etc/passwd: exec -u fails at once instead of hanging, explain answers', async () => {
  await running('fifo-passwd', 'rm /etc/passwd && mkfifo /etc/passwd');
  try {
    const ex = await d.docker(['exec', '-u', 'nobody', 'fifo-passwd', 'id'], { timeoutMs: 15_000 });
    assert.notEqual(ex.code, 0);
    assert.match(ex.stderr, /not a regular file/);
    const explain = await d.berth(['explain', '--format', 'json', 'fifo-passwd'], { timeoutMs: 15_000 });
    assert.equal(explain.code, 0, explain.stderr);
    assert.equal(JSON.parse(explain.stdout).User.Uid[0], 0);
  } finally {
    await d.docker(['rm', '-f', 'fifo-passwd']);
  }
});

test('an /etc/passwd linking to a host path is resolved inside the container, never on the host', async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-hostile-'));
  const marker = `hostonly${randomBytes(3).toString('hex')}`;
  await fsp.writeFile(join(dir, 'passwd'), `${marker}:x:0:0::/:/bin/sh\n`);
  try {
    await running('link-passwd', `ln -sf ${join(dir, 'passwd')} /etc/passwd`);
    const explain = await d.berth(['explain', '--format', 'json', 'link-passwd']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.notEqual(JSON.parse(explain.stdout).User.Name, marker);
    const ex = await d.docker(['exec', '-u', marker, 'link-passwd', 'id']);
    assert.notEqual(ex.code, 0, 'the host file is not the container\'s user database');
  } finally {
    await d.docker(['rm', '-f', 'link-passwd']);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
