// docker exec against a real berthd: the real docker CLI, runc and the exec-mode monitor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
const C = `exec-${process.pid}`;

before(async () => {
  d = await startDaemon({ loadBusybox: true });
  const r = await d.docker(['run', '-d', '--name', C, '--hostname', 'exechost', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await d?.docker(['rm', '-f', C]).catch(() => undefined);
  await d?.cleanup();
});

/** Lines of /proc/self/status matching a key, from inside an exec. */
async function statusField(args: string[], key: string): Promise<string> {
  const r = await d.docker(['exec', ...args, C, 'grep', `^${key}:`, '/proc/self/status']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split(':')[1]!.trim();
}

test('exec runs a command and passes its output and exit code through', async () => {
  const hi = await d.docker(['exec', C, 'echo', 'hi']);
  assert.deepEqual([hi.code, hi.stdout, hi.stderr], [0, 'hi\n', '']);
  const err = await d.docker(['exec', C, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([err.code, err.stdout, err.stderr], [3, 'out\n', 'err\n']);
});

test('-e, -u, -w', async () => {
  const env = await d.docker(['exec', '-e', 'FOO=bar', '-e', 'HOSTNAME=over', C, 'sh', '-c', 'echo $FOO $HOSTNAME $PATH']);
  assert.equal(env.stdout, 'bar over /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  const uid = await d.docker(['exec', '-u', '1000', C, 'id']);
  assert.equal(uid.stdout, 'uid=1000 gid=0(root) groups=0(root)\n');
  const nobody = await d.docker(['exec', '-u', 'nobody', C, 'id', '-un']);
  assert.equal(nobody.stdout, 'nobody\n');
  const bad = await d.docker(['exec', '-u', 'nosuchuser', C, 'id']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
  const wd = await d.docker(['exec', '-w', '/tmp', C, 'pwd']);
  assert.equal(wd.stdout, '/tmp\n');
});

test('-i feeds stdin and closes it at its end', async () => {
  const r = await d.docker(['exec', '-i', C, 'cat'], { input: 'hello\nworld\n' });
  assert.deepEqual([r.code, r.stdout], [0, 'hello\nworld\n']);
  const wc = await d.docker(['exec', '-i', C, 'wc', '-c'], { input: Buffer.alloc(200_000, 0x61) });
  assert.equal(wc.stdout.trim(), '200000');
});

test('-t gives the process a terminal', async () => {
  const r = await d.docker(['exec', '-t', C, 'tty']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n$/);
  const noTty = await d.docker(['exec', C, 'tty']);
  assert.equal(noTty.stdout, 'not a tty\n');
  const term = await d.docker(['exec', '-t', C, 'sh', '-c', 'echo $TERM']);
  assert.equal(term.stdout, 'xterm\r\n');
});

test('-d runs in the background', async () => {
  const r = await d.docker(['exec', '-d', C, 'sh', '-c', 'echo started > /tmp/bg; exec tail -f /dev/null']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  let seen = false;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = (await d.docker(['exec', C, 'ps', '-o', 'args'])).stdout.includes('tail -f /dev/null');
    if (!seen) await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(seen, 'the detached process runs');
  assert.equal((await d.docker(['exec', C, 'cat', '/tmp/bg'])).stdout, 'started\n');
  assert.equal((await d.docker(['exec', C, 'killall', 'tail'])).code, 0);
});

test('exec joins the container: hostname, pid namespace, mounts, cgroup', async () => {
  const host = await d.docker(['exec', C, 'hostname']);
  assert.equal(host.stdout, 'exechost\n');
  const pid1 = await d.docker(['exec', C, 'cat', '/proc/1/cmdline']);
  assert.equal(pid1.stdout, 'sleep\u00001000\u0000');
  const inspect = (await d.api('GET', `/containers/${C}/json`)).json();
  // Same mount namespace: a file the container's process sees through /proc/1/root.
  const marker = await d.docker(['exec', C, 'sh', '-c', 'echo m > /marker && cat /proc/1/root/marker']);
  assert.equal(marker.stdout, 'm\n');
  const mine = await d.docker(['exec', C, 'cat', '/proc/self/cgroup']);
  const init = await fsp.readFile(`/proc/${inspect.State.Pid}/cgroup`, 'utf8');
  // /proc/self/cgroup inside a cgroup namespace reads relative; the host view of the exec
  // is compared through the container's own: both must name the same groups.
  const hostView = await d.docker(['exec', C, 'cat', '/proc/1/cgroup']);
  assert.equal(mine.stdout, hostView.stdout);
  assert.ok(init.length > 0);
});

test('capabilities and seccomp as the container; --privileged gets the daemon bounding set', async () => {
  const inspect = (await d.api('GET', `/containers/${C}/json`)).json();
  const status = await fsp.readFile(`/proc/${inspect.State.Pid}/status`, 'utf8');
  const containerEff = /CapEff:\s*(\S+)/.exec(status)![1];
  assert.equal(await statusField([], 'CapEff'), containerEff);
  assert.equal(await statusField([], 'Seccomp'), '2');
  const hostBnd = /CapBnd:\s*(\S+)/.exec(await fsp.readFile('/proc/self/status', 'utf8'))![1];
  assert.equal(await statusField(['--privileged'], 'CapEff'), hostBnd);
  assert.equal(await statusField(['--privileged'], 'CapBnd'), hostBnd);
});

test('a command that does not exist: 127 and dockerd text', async () => {
  const r = await d.docker(['exec', C, 'no-such-cmd']);
  assert.equal(r.code, 127);
  assert.match(r.stdout, /OCI runtime exec failed: exec failed: .*executable file not found in \$PATH: unknown/);
});

test('exec inspect: ExitCode null while running, then the code; ProcessConfig', async () => {
  const created = await d.api('POST', `/containers/${C}/exec`, { Cmd: ['sh', '-c', 'sleep 0.3; exit 7'], User: 'nobody' });
  assert.equal(created.status, 201);
  const id = created.json().Id as string;
  assert.match(id, /^[0-9a-f]{64}$/);
  const before = (await d.api('GET', `/exec/${id}/json`)).json();
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  assert.deepEqual(before.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'sleep 0.3; exit 7'], privileged: false, user: 'nobody' });
  const listed = (await d.api('GET', `/containers/${C}/json`)).json();
  assert.ok(listed.ExecIDs.includes(id), 'the container lists its exec until it is done');
  const start = await d.api('POST', `/exec/${id}/start`, { Detach: true });
  assert.equal(start.status, 200);
  const running = (await d.api('GET', `/exec/${id}/json`)).json();
  assert.equal(running.ContainerID, listed.Id);
  let info = running;
  for (let i = 0; i < 200 && info.Running; i++) {
    await new Promise((res) => setTimeout(res, 25));
    info = (await d.api('GET', `/exec/${id}/json`)).json();
  }
  assert.equal(info.Running, false);
  assert.equal(info.ExitCode, 7);
  const after = (await d.api('GET', `/containers/${C}/json`)).json();
  assert.ok(!(after.ExecIDs ?? []).includes(id));
  assert.ok(running.Pid > 0 || info.Pid > 0);
  const again = await d.api('POST', `/exec/${id}/start`, { Detach: true });
  assert.equal(again.status, 409);
  assert.equal(again.json().message, `exec command ${id} has already run`);
  const missing = await d.api('GET', '/exec/nope/json');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().message, 'No such exec instance: nope');
});

test('create errors: no command, unknown container', async () => {
  const empty = await d.api('POST', `/containers/${C}/exec`, { Cmd: [] });
  assert.equal(empty.status, 400);
  assert.equal(empty.json().message, 'No exec command specified');
  const none = await d.api('POST', '/containers/no-such-container/exec', { Cmd: ['true'] });
  assert.equal(none.status, 404);
});

/** POST /exec/{id}/start over a raw connection that asks to upgrade, as the docker CLI does. */
function hijackStart(id: string, body: object) {
  const sock = connect(d.socket);
  const text = JSON.stringify(body);
  sock.write(`POST /v1.50/exec/${id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((res) => sock.on('close', () => res()));
  return { sock, closed, text: () => Buffer.concat(chunks).toString() };
}

test('a TTY session: ConsoleSize at start, detach keys end the session, the process runs on', async () => {
  const created = (await d.api('POST', `/containers/${C}/exec`, { Cmd: ['sh', '-c', 'stty size; exec cat'], Tty: true, AttachStdin: true, AttachStdout: true, DetachKeys: 'ctrl-x,x' })).json();
  const s = hijackStart(created.Id, { Detach: false, Tty: true, ConsoleSize: [21, 77] });
  for (let i = 0; i < 200 && !s.text().includes('21 77'); i++) await new Promise((res) => setTimeout(res, 25));
  assert.match(s.text(), /21 77\r\n/);
  s.sock.write('abc\n');
  for (let i = 0; i < 200 && !/abc\r\n.*abc\r\n/s.test(s.text()); i++) await new Promise((res) => setTimeout(res, 25));
  assert.match(s.text(), /abc\r\n.*abc\r\n/s, 'the terminal echoes and cat repeats');
  s.sock.write('\x18x');
  await s.closed;
  const info = (await d.api('GET', `/exec/${created.Id}/json`)).json();
  assert.equal(info.Running, true, 'detaching leaves the process running');
  assert.equal(info.DetachKeys, Buffer.from([24, 120]).toString('base64'));
  assert.equal((await d.docker(['exec', C, 'killall', 'cat'])).code, 0);
  for (let i = 0; i < 200 && (await d.api('GET', `/exec/${created.Id}/json`)).json().Running; i++) await new Promise((res) => setTimeout(res, 25));
  assert.equal((await d.api('GET', `/exec/${created.Id}/json`)).json().ExitCode, 143);
});

test('exec resize reaches the terminal', async () => {
  const created = (await d.api('POST', `/containers/${C}/exec`, { Cmd: ['sh', '-c', 'sleep 0.5; stty size'], Tty: true, AttachStdout: true })).json();
  const s = hijackStart(created.Id, { Detach: false, Tty: true });
  const resized = await d.api('POST', `/exec/${created.Id}/resize?h=33&w=101`);
  assert.equal(resized.status, 200);
  await s.closed;
  const text = s.text();
  assert.match(text, /^HTTP\/1.1 101 UPGRADED\r\nContent-Type: application\/vnd.docker.raw-stream/);
  assert.match(text, /33 101\r\n$/);
  const bad = await d.api('POST', `/exec/${created.Id}/resize?h=x&w=1`);
  assert.equal(bad.status, 400);
});

test('exec on a container that is not running: dockerd text, exit code 1', async () => {
  const name = `${C}-stopped`;
  assert.equal((await d.docker(['create', '--name', name, 'busybox', 'true'])).code, 0);
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  const r = await d.docker(['exec', name, 'echo', 'hi']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: container ${id} is not running\n`);
  await d.docker(['rm', '-f', name]);
});

test('exec on a paused container: 409 with dockerd text', async () => {
  const name = `${C}-paused`;
  assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).code, 0);
  assert.equal((await d.docker(['pause', name])).code, 0);
  const created = await d.api('POST', `/containers/${name}/exec`, { Cmd: ['true'] });
  assert.equal(created.status, 409);
  assert.equal(created.json().message, `Container ${name} is paused, unpause the container before exec`);
  await d.docker(['rm', '-f', name]);
});

test('exec processes die with their container; no exec files are left', async () => {
  const name = `${C}-dies`;
  assert.equal((await d.docker(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).code, 0);
  const pending = d.docker(['exec', name, 'sleep', '1000']);
  for (let i = 0; i < 100; i++) {
    const ps = await d.docker(['exec', name, 'ps', '-o', 'args']);
    if (ps.stdout.includes('sleep 1000\nsleep 1000') || ps.stdout.split('sleep 1000').length > 2) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal((await d.docker(['kill', name])).code, 0);
  const r = await pending;
  assert.equal(r.code, 137);
  await d.docker(['rm', '-f', name]);
  let left: string[] = [];
  for (let i = 0; i < 100; i++) {
    left = await fsp.readdir(join(d.execRoot, 'x')).catch(() => []);
    if (left.length === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  // Only the long-running container C's monitors may remain: none are running now.
  assert.deepEqual(left, []);
});
