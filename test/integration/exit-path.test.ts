// What an exit leaves behind, and when: the runtime's delete runs after the exit is
// reported (in the monitor), bundles and writable layers are deleted in the background,
// and whatever a daemon that went away did not finish is cleaned up when it comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let runcRoot: string;
before(async () => {
  d = await startDaemon();
  runcRoot = join(d.execRoot, 'runtime', 'runc');
});
after(async () => {
  await d?.cleanup();
});

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function cgroupDirs(id: string): string[] {
  const dirs: string[] = [];
  for (const h of ['pids', 'memory', 'cpu', 'devices', 'unified', '.']) dirs.push(join('/sys/fs/cgroup', h, d.cgroupParent, id));
  return dirs;
}

test('run --rm: the exit code comes back, and runtime state, bundle, layer and cgroups all go', async () => {
  const cidfile = join(d.dataRoot, '..', 'cid');
  const r = await d.docker(['run', '--rm', '--cidfile', cidfile, 'busybox', 'sh', '-c', 'echo out; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  const id = (await fsp.readFile(cidfile, 'utf8')).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await d.docker(['inspect', id])).code, 1, 'removed when the CLI returns');
  const leftovers = [
    join(runcRoot, id),
    join(d.execRoot, 'containers', id),
    join(d.execRoot, 's', id.slice(0, 16)),
    join(d.dataRoot, 'overlay2', 'active', id),
    ...cgroupDirs(id),
  ];
  await eventually(() => leftovers.every((p) => !existsSync(p)), 'leftovers of the run to go');
  await eventually(async () => (await fsp.readdir(join(d.execRoot, 'trash')).catch(() => [])).length === 0, 'the trash to empty');
  await eventually(async () => (await fsp.readdir(join(d.dataRoot, 'overlay2', 'tmp'))).length === 0, 'overlay tmp/ to empty');
});

test('a container started again right after each exit runs every time', async () => {
  assert.equal((await d.docker(['run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run'])).stdout, 'run\n');
  for (let i = 0; i < 3; i++) {
    const r = await d.docker(['start', '-a', 'again']);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await d.docker(['logs', 'again'])).stdout, 'run\n'.repeat(4));
  await d.docker(['rm', 'again']);
});

test('a restarted daemon deletes stopped runtime state it did not see deleted, and empties the trash', async () => {
  // Runtime state as a daemon killed at the wrong moment leaves it: a stopped container of
  // an id it knows (an exited container) and of one it does not.
  const known = (await d.docker(['create', 'busybox', 'true'])).stdout.trim();
  const lower = (await d.docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'busybox'])).stdout.trim();
  const bundle = join(d.dataRoot, '..', 'stale-bundle');
  await fsp.mkdir(bundle, { recursive: true });
  spawnSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(await fsp.readFile(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: lower, readonly: true };
  const stale = ['stale-unknown', known];
  for (const id of stale) {
    spec.linux.cgroupsPath = `${d.cgroupParent}/${id}`;
    await fsp.writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    assert.equal(spawnSync('runc', ['--root', runcRoot, 'create', '--bundle', bundle, id], { stdio: 'ignore' }).status, 0);
    spawnSync('runc', ['--root', runcRoot, 'kill', id, 'KILL'], { stdio: 'ignore' });
    await eventually(() => JSON.parse(spawnSync('runc', ['--root', runcRoot, 'state', id]).stdout.toString()).status === 'stopped', `${id} stopped`);
  }
  await fsp.mkdir(join(d.execRoot, 'trash', 'half-deleted', 'rootfs'), { recursive: true });

  await d.stop('SIGKILL');
  await d.restart();
  for (const id of stale) assert.equal(existsSync(join(runcRoot, id)), false, `runtime state of ${id} deleted`);
  assert.deepEqual(await fsp.readdir(join(d.execRoot, 'trash')).catch(() => []), [], 'trash emptied');
  // The known container is as it was, and runs.
  assert.equal((await d.docker(['start', '-a', known])).code, 0);
  await d.docker(['rm', known]);
  await fsp.rm(bundle, { recursive: true, force: true });
});
