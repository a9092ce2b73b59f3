// The berth CLI against a real berthd, side by side with the docker CLI: same output,
// same exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

test('run: output, exit codes and --rm as docker gives them', async () => {
  const ok = await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'out\n');
  assert.equal(ok.stderr, 'err\n');
  assert.equal((await d.berth(['run', '--rm', 'busybox', 'sh', '-c', 'exit 42'])).code, 42);
  const missing = await d.berth(['run', '--rm', 'busybox', 'no-such-binary']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found/);
  const piped = await d.berth(['run', '--rm', '-i', 'busybox', 'tr', 'a-z', 'A-Z'], { input: 'shout\n' });
  assert.equal(piped.stdout, 'SHOUT\n');
  assert.equal((await d.berth(['ps', '-aq'])).stdout, '');
});

test('ps, images, inspect and logs print what docker prints', async () => {
  const id = (await d.berth(['run', '-d', '--name', 'side-by-side', '-l', 'x=y', 'busybox', 'sh', '-c', 'echo logged; sleep 600'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  for (const args of [
    ['ps', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Names}} {{.Labels}}'],
    ['ps', '-a', '--no-trunc', '--format', 'table {{.ID}}\t{{.Names}}\t{{.State}}'],
    ['images'],
    ['images', '--format', '{{json .}}'],
    ['inspect', '-f', '{{.Name}} {{.State.Running}} {{.Config.Cmd}} {{json .Config.Labels}}', 'side-by-side'],
    ['image', 'inspect', '-f', '{{.Id}} {{.Os}}/{{.Architecture}}', 'busybox'],
    ['history', '--no-trunc', 'busybox'],
    ['logs', 'side-by-side'],
  ]) {
    const [a, b] = await Promise.all([d.docker(args), d.berth(args)]);
    assert.equal(b.code, a.code, `${args.join(' ')}: ${b.stderr}`);
    assert.equal(b.stdout, a.stdout, args.join(' '));
  }
  assert.equal((await d.berth(['stop', '-t', '0', 'side-by-side'])).stdout, 'side-by-side\n');
  assert.equal((await d.berth(['wait', 'side-by-side'])).stdout, '137\n');
  assert.equal((await d.berth(['rm', 'side-by-side'])).stdout, 'side-by-side\n');
});

test('errors: the daemon\'s message and docker\'s exit codes', async () => {
  const [a, b] = await Promise.all([d.docker(['inspect', 'nothing-here']), d.berth(['inspect', 'nothing-here'])]);
  assert.equal(b.code, a.code);
  assert.match(b.stderr, /No such object: nothing-here|No such container: nothing-here/);
  const rm = await d.berth(['rm', 'nothing-here']);
  assert.equal(rm.code, 1);
  assert.equal(rm.stderr, 'Error response from daemon: No such container: nothing-here\n');
  const flag = await d.berth(['ps', '--bogus']);
  assert.equal(flag.code, 125);
  assert.match(flag.stderr, /unknown flag: --bogus/);
});

test('tag, save, load and rmi through the berth CLI', async () => {
  assert.equal((await d.berth(['tag', 'busybox', 'mine:v1'])).code, 0);
  const archive = join(d.dataRoot, '..', 'mine.tar');
  assert.equal((await d.berth(['save', '-o', archive, 'mine:v1'])).code, 0);
  const rmi = await d.berth(['rmi', 'mine:v1']);
  assert.equal(rmi.stdout, 'Untagged: mine:v1\n');
  const load = await d.berth(['load', '-i', archive]);
  assert.equal(load.code, 0, load.stderr);
  assert.equal(load.stdout, 'Loaded image: mine:v1\n');
  assert.equal((await d.berth(['run', '--rm', 'mine:v1', 'echo', 'loaded'])).stdout, 'loaded\n');
  assert.equal((await d.berth(['rmi', 'mine:v1'])).code, 0);
});
