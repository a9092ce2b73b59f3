// Containers through the real docker CLI: run, create/start, stop/kill, rm, wait, logs,
// inspect, ps, exit codes, isolation of namespaces and of the copy-on-write root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

test('run prints output and exits 0; --rm removes the container', async () => {
  const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello from berth']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello from berth\n');
  const ps = await d.docker(['ps', '-aq']);
  assert.equal(ps.stdout.trim(), '');
});

test('exit codes: the container exit code, 127 for a missing command, 137 after SIGKILL', async () => {
  const three = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(three.code, 3);
  const missing = await d.docker(['run', '--name', 'nocmd', 'busybox', 'nosuchcommand']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found in \$PATH/);
  const st = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'nocmd']);
  assert.equal(st.stdout.trim(), 'created 127');
  await d.docker(['rm', 'nocmd']);
  const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '600'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const kill = await d.docker(['kill', id]);
  assert.equal(kill.code, 0, kill.stderr);
  const wait = await d.docker(['wait', id]);
  assert.equal(wait.stdout.trim(), '137');
  const ins = await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', id]);
  assert.equal(ins.stdout.trim(), 'exited 137 false');
  assert.equal((await d.docker(['rm', id])).code, 0);
});

test('stdout and stderr stay apart, live and in logs', async () => {
  // The pauses fix the order in which the monitor sees the two pipes.
  const r = await d.docker(['run', '--name', 'streams', 'busybox', 'sh', '-c', 'echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'out\nout2\n');
  assert.equal(r.stderr, 'err\n');
  const logs = await d.docker(['logs', 'streams']);
  assert.equal(logs.stdout, 'out\nout2\n');
  assert.equal(logs.stderr, 'err\n');
  const tail = await d.docker(['logs', '--tail', '1', 'streams']);
  assert.equal(tail.stdout + tail.stderr, 'out2\n');
  const ts = await d.docker(['logs', '-t', 'streams']);
  assert.match(ts.stdout.split('\n')[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out$/);
  const logPath = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'streams'])).stdout.trim();
  const lines = (await fsp.readFile(logPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.stream, l.log]), [['stdout', 'out\n'], ['stderr', 'err\n'], ['stdout', 'out2\n']]);
  await d.docker(['rm', 'streams']);
});

test('create, start -a, restart, stop -t, wait, rm -f', async () => {
  const c = await d.docker(['create', '--name', 'lifecycle', 'busybox', 'sh', '-c', 'echo started; sleep 600']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'lifecycle'])).stdout.trim(), 'created');
  assert.equal((await d.docker(['start', 'lifecycle'])).code, 0);
  assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'lifecycle'])).stdout.trim(), 'running');
  const pid1 = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'lifecycle'])).stdout.trim();
  assert.equal((await d.docker(['restart', '-t', '1', 'lifecycle'])).code, 0);
  const pid2 = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'lifecycle'])).stdout.trim();
  assert.notEqual(pid1, pid2);
  const stop = await d.docker(['stop', '-t', '1', 'lifecycle']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'lifecycle');
  // sh as pid 1 ignores SIGTERM, so the stop timeout ends in SIGKILL.
  assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'lifecycle'])).stdout.trim(), '137');
  const logs = await d.docker(['logs', 'lifecycle']);
  assert.equal(logs.stdout, 'started\nstarted\n');
  assert.equal((await d.docker(['rm', '-f', 'lifecycle'])).code, 0);
  const gone = await d.docker(['inspect', 'lifecycle']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /No such (container|object): lifecycle/);
});

test('start -a streams output and returns the exit code', async () => {
  await d.docker(['create', '--name', 'attachme', 'busybox', 'sh', '-c', 'echo attached; exit 5']);
  const r = await d.docker(['start', '-a', 'attachme']);
  assert.equal(r.stdout, 'attached\n');
  assert.equal(r.code, 5);
  await d.docker(['rm', 'attachme']);
});

test('start -a of an exited container runs it again and streams its output', async () => {
  assert.equal((await d.docker(['run', '--name', 'again', 'busybox', 'echo', 'once more'])).stdout, 'once more\n');
  const r = await d.docker(['start', '-a', 'again']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'once more\n');
  assert.equal((await d.docker(['logs', 'again'])).stdout, 'once more\nonce more\n');
  await d.docker(['rm', 'again']);
});

test('start -i feeds stdin', async () => {
  await d.docker(['create', '-i', '--name', 'stdin', 'busybox', 'cat']);
  const r = await d.docker(['start', '-ai', 'stdin'], { input: 'through stdin\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'through stdin\n');
  await d.docker(['rm', 'stdin']);
});

test('run options: -e, --env-file, -w, --entrypoint, -u, -h, -l', async () => {
  const envFile = join(tmpdir(), `berth-env-${process.pid}`);
  await fsp.writeFile(envFile, '# comment\nFROM_FILE=yes\n');
  try {
    const r = await d.docker(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody', '-h', 'myhost', '-l', 'k=v', '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u) $(hostname)']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 yes /tmp 65534 myhost');
  } finally {
    await fsp.rm(envFile, { force: true });
  }
  await d.docker(['create', '--name', 'labelled', '-l', 'team=core', 'busybox', 'true']);
  const lbl = await d.docker(['inspect', '-f', '{{index .Config.Labels "team"}}', 'labelled']);
  assert.equal(lbl.stdout.trim(), 'core');
  const ps = await d.docker(['ps', '-a', '--filter', 'label=team=core', '--format', '{{.Names}}']);
  assert.equal(ps.stdout.trim(), 'labelled');
  await d.docker(['rm', 'labelled']);
});

test('namespaces: own pid, uts, ipc, mount and a network namespace with only lo', async () => {
  const r = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo $$; ps -o pid= | wc -l; ls /sys/class/net; cat /proc/self/mountinfo | head -1']);
  assert.equal(r.code, 0, r.stderr);
  const [pid, nprocs, net] = r.stdout.split('\n');
  assert.equal(pid, '1');
  assert.ok(Number(nprocs) <= 4, `ps saw ${nprocs} processes`);
  assert.equal(net, 'lo');
  const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '600'])).stdout.trim();
  const hostPid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  for (const ns of ['pid', 'uts', 'ipc', 'mnt', 'net']) {
    const mine = await fsp.readlink(`/proc/self/ns/${ns}`);
    const theirs = await fsp.readlink(`/proc/${hostPid}/ns/${ns}`);
    assert.notEqual(theirs, mine, `${ns} namespace is shared with the host`);
  }
  await d.docker(['rm', '-f', id]);
});

test('writes land in the container\'s own layer, never in the image or another container', async () => {
  await d.docker(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo mine > /etc/written; rm /bin/vi']);
  const other = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ls /etc/written 2>&1; ls /bin/vi']);
  assert.match(other.stdout, /No such file/);
  assert.match(other.stdout, /\/bin\/vi/);
  const upper = (await d.docker(['inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'writer'])).stdout.trim();
  assert.equal(await fsp.readFile(join(upper, 'etc', 'written'), 'utf8'), 'mine\n');
  await d.docker(['rm', 'writer']);
});

test('ps: -a, -q, -n, -s, filters and --format', async () => {
  await d.docker(['run', '--name', 'ps-exited', 'busybox', 'sh', '-c', 'exit 2']);
  const runningId = (await d.docker(['run', '-d', '--name', 'ps-running', 'busybox', 'sleep', '600'])).stdout.trim();
  const running = await d.docker(['ps', '--format', '{{.Names}}']);
  assert.equal(running.stdout.trim(), 'ps-running');
  const all = await d.docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.match(all.stdout, /ps-exited Exited \(2\) /);
  assert.match(all.stdout, /ps-running Up /);
  assert.equal((await d.docker(['ps', '-q'])).stdout.trim(), runningId.slice(0, 12));
  assert.equal((await d.docker(['ps', '-a', '-n', '1', '--format', '{{.Names}}'])).stdout.trim(), 'ps-running');
  assert.equal((await d.docker(['ps', '-a', '--filter', 'exited=2', '--format', '{{.Names}}'])).stdout.trim(), 'ps-exited');
  assert.equal((await d.docker(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout.trim(), 'ps-exited');
  assert.equal((await d.docker(['ps', '-a', '--filter', 'name=ps-run', '--format', '{{.Names}}'])).stdout.trim(), 'ps-running');
  assert.equal((await d.docker(['ps', '-a', '--filter', `id=${runningId.slice(0, 8)}`, '--format', '{{.Names}}'])).stdout.trim(), 'ps-running');
  assert.match((await d.docker(['ps', '-a', '--filter', 'ancestor=busybox', '--format', '{{.Names}}'])).stdout, /ps-running/);
  const table = await d.docker(['ps']);
  assert.match(table.stdout.split('\n')[0], /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  const sized = await d.docker(['ps', '-s', '--format', '{{.Size}}']);
  assert.match(sized.stdout, /B \(virtual/);
  const bad = await d.docker(['ps', '--filter', 'status=bogus']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'status=bogus'/i);
  await d.docker(['rm', '-f', 'ps-exited', 'ps-running']);
});

test('bad input gets Docker\'s errors and leaves nothing behind', async () => {
  const before = readdirSync(join(d.dataRoot, 'containers')).length;
  // docker create exits 1 on a daemon error, docker run 125.
  const noImage = await d.docker(['create', 'no-such-image-here']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /Unable to find image 'no-such-image-here:latest' locally/);
  const badName = await d.docker(['run', '--name', 'bad name!', 'busybox']);
  assert.equal(badName.code, 125);
  assert.match(badName.stderr, /Invalid container name \(bad name!\)/);
  const badRuntime = await d.docker(['create', '--runtime', 'nonexistent', 'busybox']);
  assert.equal(badRuntime.code, 1);
  assert.match(badRuntime.stderr, /unknown or invalid runtime name: nonexistent/);
  assert.equal(readdirSync(join(d.dataRoot, 'containers')).length, before);
  await d.docker(['create', '--name', 'taken', 'busybox']);
  const dup = await d.docker(['create', '--name', 'taken', 'busybox']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /Conflict. The container name "\/taken" is already in use by container/);
  const rmUnknown = await d.docker(['rm', 'nobody-here']);
  assert.equal(rmUnknown.code, 1);
  assert.match(rmUnknown.stderr, /No such container: nobody-here/);
  const runningId = (await d.docker(['run', '-d', 'busybox', 'sleep', '600'])).stdout.trim();
  const rmRunning = await d.docker(['rm', runningId]);
  assert.equal(rmRunning.code, 1);
  assert.match(rmRunning.stderr, /container is running: stop the container before removing or force remove/);
  // A start that fails (no such command) leaves no mount, cgroup or runtime state behind.
  const failed = await d.docker(['create', '--name', 'fails-to-start', 'busybox', 'no-such-command']);
  const failedId = failed.stdout.trim();
  assert.equal((await d.docker(['start', 'fails-to-start'])).code, 1);
  const mounts = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(failedId), 'the rootfs of a failed start is unmounted');
  for (const ctl of ['', 'memory', 'pids', 'cpu', 'unified']) { // v2 at the root, v1 per controller
    assert.ok(!existsSync(join('/sys/fs/cgroup', ctl, d.cgroupParent, failedId)), `no ${ctl} cgroup left`);
  }
  assert.ok(!existsSync(join(d.execRoot, 'runtime', 'runc', failedId)), 'no runtime state left');
  await d.docker(['rm', 'fails-to-start']);
  const killStopped = await d.docker(['kill', 'taken']);
  assert.match(killStopped.stderr, /is not running/);
  const badSignal = await d.docker(['kill', '-s', 'SIGFOO', runningId]);
  assert.notEqual(badSignal.code, 0);
  await d.docker(['rm', '-f', 'taken', runningId]);
  assert.equal(readdirSync(join(d.dataRoot, 'containers')).length, before);
  assert.deepEqual(readdirSync(join(d.execRoot, 'containers')).filter((x) => !x.startsWith('.')), []);
});
