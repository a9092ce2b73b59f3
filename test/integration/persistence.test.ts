// A kill -9 of berthd loses nothing: records, images and tags are all found again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

test('a restart after kill -9 finds containers, images and tags', async () => {
  await d.docker(['tag', 'busybox', 'kept:1']);
  await d.docker(['create', '--name', 'kept-created', '-l', 'a=b', 'busybox', 'echo', 'hi']);
  await d.docker(['run', '--name', 'kept-exited', 'busybox', 'sh', '-c', 'echo before; exit 4']);
  const runningId = (await d.docker(['run', '-d', '--name', 'kept-running', 'busybox', 'sh', '-c', 'sleep 2; echo late; exit 6'])).stdout.trim();
  await d.stop('SIGKILL');
  await d.restart();
  const ps = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
  assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['kept-created', 'kept-exited', 'kept-running']);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'kept-exited'])).stdout.trim(), '4');
  assert.equal((await d.docker(['logs', 'kept-exited'])).stdout, 'before\n');
  assert.match((await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, /kept:1/);
  // The container that kept running while the daemon was down is still tracked: its exit
  // (written by its monitor) is picked up, with the output produced meanwhile.
  const code = await d.docker(['wait', runningId]);
  assert.equal(code.stdout.trim(), '6');
  assert.equal((await d.docker(['logs', runningId])).stdout, 'late\n');
  assert.equal((await d.docker(['start', '-a', 'kept-created'])).stdout, 'hi\n');
  await d.docker(['rm', '-f', 'kept-created', 'kept-exited', 'kept-running']);
});

test('SIGTERM stops running containers and the daemon exits 0', async () => {
  // sleep as pid 1 ignores SIGTERM: the stop timeout (1 s here, 10 s by default) ends in SIGKILL.
  const id = (await d.docker(['run', '-d', '--stop-timeout', '1', 'busybox', 'sleep', '600'])).stdout.trim();
  const pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  assert.ok(pid > 0);
  assert.equal(await d.stop('SIGTERM'), 0);
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  await d.restart();
  const st = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]);
  assert.equal(st.stdout.trim(), 'exited 137');
  await d.docker(['rm', id]);
});
