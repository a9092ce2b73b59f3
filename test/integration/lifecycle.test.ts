// The container lifecycle with the real docker CLI against berthd: restart policies (and
// what a daemon restart does with them), pause/unpause, rename, update, prune, and the
// error texts dockerd gives. One in-process engine checks the order of lifecycle events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, cleanupRoots, BUSYBOX_TAR, type TestDaemon } from '../helpers/daemon.ts';
import { until as untilHelper } from '../helpers/until.ts';
import { Engine } from '../../src/daemon/engine.ts';
import { DEFAULTS } from '../../src/daemon/config.ts';
import { load } from '../../src/image/archive.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const n = (name: string) => `lc-${tag}-${name}`;

before(async () => {
  d = await startDaemon({ loadBusybox: true });
});
after(async () => {
  await d?.cleanup();
});

async function inspect(ref: string, format: string): Promise<string> {
  const r = await d.docker(['inspect', '-f', format, ref]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const until = <T>(what: string, fn: () => Promise<T | undefined | false>) => untilHelper(what, fn, 30_000, 50);

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function cgroupFile(controller: string, id: string, file: string): string {
  // cgroup v1 hybrid here; v2 keeps every controller in one tree.
  const v1 = join('/sys/fs/cgroup', controller, d.cgroupParent, id, file);
  return existsSync(join('/sys/fs/cgroup', controller)) ? v1 : join('/sys/fs/cgroup', d.cgroupParent, id, file);
}

test('on-failure:2 restarts exactly twice, then stays exited', async () => {
  const id = await ok(['run', '-d', '--name', n('onfail'), '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
  await until('the last exit', async () => (await inspect(id, '{{.State.Status}}')) === 'exited');
  assert.equal(await inspect(id, '{{.RestartCount}} {{.State.ExitCode}} {{.State.Restarting}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}'), '2 1 false on-failure:2');
  // A manual start resets the count, as in dockerd.
  await ok(['start', id]);
  await until('the last exit after a manual start', async () => (await inspect(id, '{{.State.Status}} {{.RestartCount}}')) === 'exited 2');
  await ok(['rm', id]);
});

test('always: back after every exit, waiting shows as Restarting; stop and rm -f end it', async () => {
  const id = await ok(['run', '-d', '--name', n('always'), '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3']);
  // The back-off doubles from 100 ms: the waits soon last long enough to be seen.
  const status = await until('a restarting container', async () => {
    const r = await d.docker(['ps', '--filter', `id=${id}`, '--format', '{{.Status}}|{{.State}}']);
    return r.stdout.startsWith('Restarting') ? r.stdout.trim() : undefined;
  });
  assert.match(status, /^Restarting \(3\) .* ago\|restarting$/);
  assert.equal(await inspect(id, '{{.State.Running}} {{.State.Restarting}} {{.State.Pid}}'), 'true true 0');
  assert.ok(Number(await inspect(id, '{{.RestartCount}}')) >= 1);
  // Starting a container that waits for its restart changes nothing (it counts as running).
  assert.equal((await d.docker(['start', id])).code, 0);
  await ok(['stop', id]);
  assert.equal(await inspect(id, '{{.State.Status}} {{.State.Restarting}} {{.State.ExitCode}}'), 'exited false 3');
  const count = await inspect(id, '{{.RestartCount}}');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await inspect(id, '{{.State.Status}} {{.RestartCount}}'), `exited ${count}`, 'a stopped container stays down');

  // A long-running one comes back after its process exits, and `stop` stops it for good.
  const longId = await ok(['run', '-d', '--name', n('always-long'), '--restart', 'always', 'busybox', 'sleep', '600']);
  const pid = Number(await inspect(longId, '{{.State.Pid}}'));
  process.kill(pid, 'SIGKILL');
  await until('the policy restart', async () => (await inspect(longId, '{{.RestartCount}} {{.State.Status}}')) === '1 running');
  assert.notEqual(Number(await inspect(longId, '{{.State.Pid}}')), pid);
  await ok(['stop', '-t', '1', longId]);
  assert.equal(await inspect(longId, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');

  // rm -f while waiting for a restart.
  await ok(['start', id]);
  await until('restarting again', async () => (await inspect(id, '{{.State.Status}}')) === 'restarting');
  await ok(['rm', '-f', id, longId]);
  assert.equal((await d.docker(['inspect', id])).code, 1);
});

test('policies across a daemon restart: always and unless-stopped come back unless stopped by hand', async () => {
  const run = (name: string, policy: string) => ok(['run', '-d', '--name', n(name), '--stop-timeout', '1', '--restart', policy, 'busybox', 'sleep', '600']);
  const unless = await run('us-running', 'unless-stopped');
  const unlessStopped = await run('us-stopped', 'unless-stopped');
  const alwaysStopped = await run('al-stopped', 'always');
  const onFailure = await run('of-running', 'on-failure');
  const none = await run('no-running', 'no');
  await ok(['stop', '-t', '1', unlessStopped, alwaysStopped]);
  assert.equal(await d.stop('SIGTERM'), 0);
  await d.restart();
  const state = (id: string) => inspect(id, '{{.State.Status}}');
  assert.equal(await state(unless), 'running', 'unless-stopped running at shutdown');
  assert.equal(await state(unlessStopped), 'exited', 'unless-stopped stopped by hand stays down');
  assert.equal(await state(alwaysStopped), 'running', 'always comes back even when stopped by hand');
  assert.equal(await state(onFailure), 'running', 'on-failure: the shutdown left a failing exit code (137)');
  assert.equal(await state(none), 'exited');
  assert.equal(await inspect(unless, '{{.RestartCount}}'), '0');

  // An exit while the daemon was down (killed) gets the policy at the next start.
  const pid = Number(await inspect(unless, '{{.State.Pid}}'));
  await d.stop('SIGKILL');
  process.kill(pid, 'SIGKILL');
  await until('the container process to go', async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  await d.restart();
  assert.equal(await state(unless), 'running');
  assert.notEqual(Number(await inspect(unless, '{{.State.Pid}}')), pid);
  await ok(['rm', '-f', unless, unlessStopped, alwaysStopped, onFailure, none]);
});

test('pause and unpause: the cgroup freezes, states and dockerd texts', async () => {
  const id = await ok(['run', '-d', '--name', n('pause'), 'busybox', 'sleep', '600']);
  await ok(['pause', n('pause')]);
  const freezer = existsSync('/sys/fs/cgroup/freezer') ? cgroupFile('freezer', id, 'freezer.state') : cgroupFile('', id, 'cgroup.freeze');
  assert.match(await fsp.readFile(freezer, 'utf8'), /^(FROZEN|1)\s*$/);
  assert.equal(await inspect(id, '{{.State.Status}} {{.State.Running}} {{.State.Paused}}'), 'paused true true');
  assert.match(await ok(['ps', '--filter', `id=${id}`, '--format', '{{.Status}}']), /^Up .* \(Paused\)$/);
  const info = JSON.parse(await ok(['info', '--format', '{{json .}}']));
  assert.ok(info.ContainersPaused >= 1);

  const again = await d.docker(['pause', id]);
  assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
  assert.match((await d.docker(['start', id])).stderr, /cannot start a paused container, try unpause instead/);
  assert.match((await d.docker(['rm', n('pause')])).stderr, new RegExp(`cannot remove container "${n('pause')}": container is paused and must be unpaused first`));

  await ok(['unpause', id]);
  assert.match(await fsp.readFile(freezer, 'utf8'), /^(THAWED|0)\s*$/);
  assert.equal(await inspect(id, '{{.State.Status}} {{.State.Paused}}'), 'running false');
  assert.match((await d.docker(['unpause', id])).stderr, new RegExp(`Container ${id} is not paused`));

  // A paused container stops (dockerd thaws it after the signal).
  await ok(['pause', id]);
  await ok(['stop', '-t', '1', id]);
  assert.equal(await inspect(id, '{{.State.Status}} {{.State.Paused}}'), 'exited false');
  assert.match((await d.docker(['pause', id])).stderr, new RegExp(`container ${id} is not running`));
  // ... and so does a forced remove.
  await ok(['start', id]);
  await ok(['pause', id]);
  await ok(['rm', '-f', id]);
  assert.equal((await d.docker(['inspect', id])).code, 1);
});

test('rename: the new name works, the old does not; dockerd refusals', async () => {
  const id = await ok(['create', '--name', n('old'), 'busybox', 'true']);
  await ok(['create', '--name', n('taken'), 'busybox', 'true']);
  await ok(['rename', n('old'), n('new')]);
  assert.equal(await inspect(id, '{{.Name}}'), `/${n('new')}`);
  assert.match((await d.docker(['inspect', n('old')])).stderr, /No such object/);
  assert.match((await d.docker(['rename', n('new'), n('new')])).stderr, /Renaming a container with the same name as its current name/);
  assert.match((await d.docker(['rename', n('new'), n('taken')])).stderr, new RegExp(`Error when allocating new name: Conflict. The container name "/${n('taken')}" is already in use by container`));
  assert.match((await d.docker(['rename', n('new'), 'bad name'])).stderr, /Error when allocating new name: Invalid container name \(\/bad name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
  // The name is free again after a rename.
  await ok(['create', '--name', n('old'), 'busybox', 'true']);
  await ok(['rm', n('old'), n('new'), n('taken')]);
});

test('update: restart policy and live limits, with dockerd texts', async () => {
  const id = await ok(['run', '-d', '--name', n('upd'), 'busybox', 'sleep', '600']);
  assert.equal(await ok(['update', '--restart', 'on-failure:3', id]), id);
  assert.equal(await inspect(id, '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'on-failure:3');
  assert.match((await d.docker(['update', '--restart', 'always:2', id])).stderr, /maximum retry count can only be used with 'on-failure'/);

  await ok(['update', '--memory', '64m', '--memory-swap', '128m', '--cpu-shares', '256', '--pids-limit', '50', id]);
  assert.equal(await inspect(id, '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}'), `${64 << 20} ${128 << 20} 256 50`);
  if (existsSync('/sys/fs/cgroup/memory')) {
    assert.equal((await fsp.readFile(cgroupFile('memory', id, 'memory.limit_in_bytes'), 'utf8')).trim(), String(64 << 20));
    assert.equal((await fsp.readFile(cgroupFile('pids', id, 'pids.max'), 'utf8')).trim(), '50');
  } else {
    assert.equal((await fsp.readFile(cgroupFile('', id, 'memory.max'), 'utf8')).trim(), String(64 << 20));
  }
  assert.match((await d.docker(['update', '--memory', '4m', id])).stderr, /Minimum memory limit allowed is 6MB/);
  assert.match((await d.docker(['update', '--memory', '512m', id])).stderr, new RegExp(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`));

  const rm = await ok(['create', '--rm', '--name', n('upd-rm'), 'busybox', 'true']);
  assert.match((await d.docker(['update', '--restart', 'always', rm])).stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
  await ok(['rm', '-f', id, rm]);
});

test('container prune: stopped ones matching the label filter go', async () => {
  const a = await ok(['create', '-l', `prune=${tag}`, 'busybox', 'true']);
  const b = await ok(['run', '-l', `prune=${tag}`, 'busybox', 'true']);
  const other = await ok(['create', '-l', `prune=${tag}-other`, 'busybox', 'true']);
  const running = await ok(['run', '-d', '-l', `prune=${tag}`, 'busybox', 'sleep', '600']);
  const out = await ok(['container', 'prune', '-f', '--filter', `label=prune=${tag}`]);
  assert.match(out, /Deleted Containers:/);
  assert.ok(out.includes(a) && out.includes(b), out);
  assert.ok(!out.includes(other) && !out.includes(running), out);
  const left = (await ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}}'])).split('\n');
  assert.ok(left.includes(other) && left.includes(running) && !left.includes(a) && !left.includes(b));
  assert.match((await d.docker(['container', 'prune', '-f', '--filter', 'name=x'])).stderr, /invalid filter 'name'/);
  const r = await d.api('POST', `/containers/prune?filters=${encodeURIComponent(JSON.stringify({ 'label!': [`prune=${tag}`] }))}`);
  assert.equal(r.status, 200);
  assert.ok(r.json().ContainersDeleted.includes(other));
  await ok(['rm', '-f', running]);
});

test('kill and rm: dockerd error texts', async () => {
  const id = await ok(['create', '--name', n('texts'), 'busybox', 'sleep', '600']);
  assert.match((await d.docker(['kill', n('texts')])).stderr, new RegExp(`cannot kill container: ${n('texts')}: container ${id} is not running`));
  assert.match((await d.docker(['kill', 'nope-' + tag])).stderr, new RegExp(`cannot kill container: nope-${tag}: No such container: nope-${tag}`));
  await ok(['start', id]);
  assert.match((await d.docker(['rm', n('texts')])).stderr, new RegExp(`cannot remove container "${n('texts')}": container is running: stop the container before removing or force remove`));
  assert.match((await d.docker(['kill', '-s', 'NOPE', id])).stderr, /Invalid signal: NOPE/);
  await ok(['kill', id]);
  assert.equal(await inspect(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
  await ok(['rm', id]);
});

test('stop and restart honour --stop-signal and the signal and t parameters', async () => {
  const script = "trap 'exit 42' USR1; trap 'exit 21' HUP; sleep 600 & wait";
  const id = await ok(['run', '-d', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', script]);
  await ok(['stop', id]);
  assert.equal(await inspect(id, '{{.State.ExitCode}}'), '42');
  await ok(['start', id]);
  await ok(['stop', '--signal', 'HUP', id]);
  assert.equal(await inspect(id, '{{.State.ExitCode}}'), '21');
  // -t 0: the stop signal and at once SIGKILL; the container runs again.
  await ok(['restart', '-t', '0', id]);
  assert.equal(await inspect(id, '{{.State.Status}}'), 'running');
  await ok(['rm', '-f', id]);
});

test('events in dockerd order: stop is kill, die, stop; rm -f is kill, die, destroy', async () => {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-lc-events-'));
  const cgroupParent = `/berth-test-lc-${randomBytes(4).toString('hex')}`;
  const execRoot = join(base, 'exec');
  let engine: Engine | undefined;
  try {
    engine = await Engine.open({ ...DEFAULTS, dataRoot: join(base, 'data'), execRoot, cgroupParent, hosts: [] });
    await load(engine.images, createReadStream(BUSYBOX_TAR));
    const seen: string[] = [];
    engine.containers.events = (action, rec, attrs) => {
      seen.push(`${action}${attrs && Object.keys(attrs).length ? ' ' + JSON.stringify(attrs) : ''} ${rec.Id.slice(0, 6)}`);
    };
    const svc = engine.containers;
    // A shell that ends on SIGTERM (sleep as pid 1 would ignore it).
    const { Id } = await svc.create({ Image: 'busybox', Cmd: ['sh', '-c', "trap 'exit 143' TERM; sleep 600 & wait"] }, n('ev'));
    const short = Id.slice(0, 6);
    await svc.start(Id);
    await svc.stop(Id, { timeout: 5 });
    await svc.start(Id);
    await svc.pause(Id);
    await svc.unpause(Id);
    await svc.rename(Id, n('ev2'));
    await svc.update(Id, { RestartPolicy: { Name: 'unless-stopped' } });
    await svc.pause(Id);
    await svc.restart(Id, { timeout: 5 }); // a paused container is thawed after the signal
    await svc.remove(Id, { force: true });
    const strip = (s: string) => s.replace(/"execDuration":"\d+"/, '"execDuration":"N"');
    assert.deepEqual(seen.map(strip), [
      `create ${short}`,
      `start ${short}`,
      `kill {"signal":"15"} ${short}`,
      `die {"exitCode":"143","execDuration":"N"} ${short}`,
      `stop ${short}`,
      `start ${short}`,
      `pause ${short}`,
      `unpause ${short}`,
      `rename {"oldName":"/${n('ev')}"} ${short}`,
      `update ${short}`,
      `pause ${short}`,
      `kill {"signal":"15"} ${short}`,
      `die {"exitCode":"143","execDuration":"N"} ${short}`,
      `stop ${short}`,
      `start ${short}`,
      `restart ${short}`,
      `kill {"signal":"9"} ${short}`,
      `die {"exitCode":"137","execDuration":"N"} ${short}`,
      `destroy ${short}`,
    ]);
  } finally {
    if (engine) {
      for (const c of engine.containers.store.list()) await engine.containers.remove(c.Id, { force: true }).catch(() => undefined);
      await engine.settled();
    }
    await cleanupRoots(base, execRoot, cgroupParent);
  }
});
