// Namespace modes through the real docker CLI, proven from inside the containers: what
// `ps`, `hostname`, the IPC sysctls and the namespace links show under private, host and
// container:<X> modes, and dockerd's refusals when X is missing or not running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: true });
});
after(async () => {
  await d?.cleanup();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A detached `sleep` container; returns its full id. */
async function sleeper(name: string, ...opts: string[]): Promise<string> {
  return (await ok(['run', '-d', '--name', name, ...opts, 'busybox', 'sleep', '600'])).trim();
}

async function inspect(ref: string, format: string): Promise<string> {
  return (await ok(['inspect', '-f', format, ref])).trim();
}

test('pid: private sees only its own processes, host sees the host init, container:X sees X', async () => {
  const own = await ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$; ps -o comm= | sort -u | tr "\\n" " "']);
  const [pid, comms] = own.split('\n');
  assert.equal(pid, '1');
  assert.ok(!/sleep|berthd|systemd|init/.test(comms), `a private pid namespace shows ${comms}`);

  const hostInit = (await fsp.readFile('/proc/1/comm', 'utf8')).trim();
  const host = await ok(['run', '--rm', '--pid', 'host', 'busybox', 'sh', '-c', 'cat /proc/1/comm; ps -o pid= | wc -l']);
  const [init, count] = host.trim().split('\n');
  assert.equal(init, hostInit);
  assert.ok(Number(count) > 10, `--pid host saw only ${count} processes`);
  assert.equal(await inspect((await ok(['create', '--pid', 'host', 'busybox'])).trim(), '{{.HostConfig.PidMode}}'), 'host');

  const x = await sleeper('pid-donor');
  const joined = await ok(['run', '--rm', '--pid', 'container:pid-donor', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; readlink /proc/1/ns/pid; readlink /proc/self/ns/pid']);
  const [cmd, theirs, mine] = joined.trim().split('\n');
  assert.equal(cmd.trim(), 'sleep 600');
  assert.equal(theirs, mine);
  const xPid = Number(await inspect(x, '{{.State.Pid}}'));
  assert.equal(mine, await fsp.readlink(`/proc/${xPid}/ns/pid`));
  // dockerd keeps the other container by id, so a rename does not break the link.
  const y = (await ok(['create', '--pid', 'container:pid-donor', 'busybox', 'true'])).trim();
  assert.equal(await inspect(y, '{{.HostConfig.PidMode}}'), `container:${x}`);
  await ok(['rm', '-f', x, y]);
  await ok(['container', 'prune', '-f']);
});

test('uts: the container\'s own hostname; --uts host shows the host\'s; -h with --uts host refused', async () => {
  const id = (await ok(['create', 'busybox', 'hostname'])).trim();
  await ok(['start', id]);
  assert.equal((await ok(['wait', id])).trim(), '0');
  assert.equal((await ok(['logs', id])).trim(), id.slice(0, 12));
  await ok(['rm', id]);
  assert.equal((await ok(['run', '--rm', '-h', 'box1', 'busybox', 'hostname'])).trim(), 'box1');
  assert.equal((await ok(['run', '--rm', '--uts', 'host', 'busybox', 'hostname'])).trim(), hostname());
  const both = await d.docker(['run', '--rm', '--uts', 'host', '-h', 'x', 'busybox', 'true']);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /conflicting options: hostname and the UTS mode/);
});

test('ipc: private by default, shareable can be joined, private cannot, none has no /dev/shm', async () => {
  // kernel.shmmax is per IPC namespace: a distinctive value marks the donor's namespace.
  const mark = '123456789';
  const donor = await sleeper('ipc-donor', '--ipc', 'shareable', '--sysctl', `kernel.shmmax=${mark}`);
  assert.equal(await inspect(donor, '{{.HostConfig.IpcMode}}'), 'shareable');
  // /dev/shm (POSIX shared memory) is shared along with the namespace, as dockerd's IPC mounts.
  await ok(['exec', donor, 'sh', '-c', 'echo from-donor > /dev/shm/marker']);
  const joined = await ok(['run', '--rm', '--ipc', 'container:ipc-donor', 'busybox', 'sh', '-c', 'cat /proc/sys/kernel/shmmax; readlink /proc/self/ns/ipc; cat /dev/shm/marker']);
  const [value, ns, marker] = joined.trim().split('\n');
  assert.equal(value, mark);
  assert.equal(marker, 'from-donor');
  const alone = await d.docker(['run', '--rm', 'busybox', 'cat', '/dev/shm/marker']);
  assert.notEqual(alone.code, 0, 'another container sees the donor\'s /dev/shm');
  const donorPid = Number(await inspect(donor, '{{.State.Pid}}'));
  assert.equal(ns, await fsp.readlink(`/proc/${donorPid}/ns/ipc`));

  const other = (await ok(['run', '--rm', 'busybox', 'cat', '/proc/sys/kernel/shmmax'])).trim();
  assert.notEqual(other, mark, 'another container sees the donor\'s IPC namespace');
  assert.notEqual((await fsp.readFile('/proc/sys/kernel/shmmax', 'utf8')).trim(), mark, 'the host sees the donor\'s IPC namespace');
  const host = await ok(['run', '--rm', '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc']);
  assert.equal(host.trim(), await fsp.readlink('/proc/self/ns/ipc'));

  const priv = await sleeper('ipc-private');
  assert.equal(await inspect(priv, '{{.HostConfig.IpcMode}}'), 'private');
  const refused = await d.docker(['run', '--rm', '--ipc', 'container:ipc-private', 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`failed to join IPC namespace: container ${priv}: non-shareable IPC \\(hint: use IpcMode:shareable for the donor container\\)`));

  const none = await d.docker(['run', '--rm', '--ipc', 'none', 'busybox', 'ls', '/dev/shm']);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr + none.stdout, /No such file or directory/);
  await ok(['rm', '-f', donor, priv]);
  await ok(['container', 'prune', '-f']);
});

test('network container:X shares X\'s network namespace, hostname and /etc files; conflicts refused', async () => {
  const x = await sleeper('net-donor', '-h', 'donorhost');
  const xPid = Number(await inspect(x, '{{.State.Pid}}'));
  const out = await ok(['run', '--rm', '--network', 'container:net-donor', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; hostname; cat /etc/hostname']);
  const [net, name, file] = out.trim().split('\n');
  assert.equal(net, await fsp.readlink(`/proc/${xPid}/ns/net`));
  assert.notEqual(net, await fsp.readlink('/proc/self/ns/net'));
  assert.equal(name, 'donorhost');
  assert.equal(file, 'donorhost');
  const y = (await ok(['create', '--network', 'container:net-donor', 'busybox', 'true'])).trim();
  assert.equal(await inspect(y, '{{.HostConfig.NetworkMode}}'), `container:${x}`);
  await ok(['start', y]);
  assert.equal((await ok(['wait', y])).trim(), '0');
  assert.equal(await inspect(y, '{{.Config.Hostname}}'), 'donorhost');

  const conflicts: Array<[string[], string]> = [
    [['-h', 'other'], 'conflicting options: hostname and the network mode'],
    [['-p', '8080:80'], 'conflicting options: port publishing and the container type network mode'],
    [['--expose', '80'], 'conflicting options: port exposing and the container type network mode'],
    [['--dns', '1.1.1.1'], 'conflicting options: dns and the network mode'],
    [['--add-host', 'a:1.2.3.4'], 'conflicting options: custom host-to-IP mapping and the network mode'],
  ];
  for (const [opts, text] of conflicts) {
    const r = await d.docker(['create', '--network', 'container:net-donor', ...opts, 'busybox', 'true']);
    assert.notEqual(r.code, 0, opts.join(' '));
    assert.ok(r.stderr.includes(text), `${opts.join(' ')}: ${r.stderr}`);
  }
  await ok(['rm', '-f', x, y]);
});

test('network host: the host\'s network namespace and hostname', async () => {
  const out = await ok(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; hostname']);
  const [net, name] = out.trim().split('\n');
  assert.equal(net, await fsp.readlink('/proc/self/ns/net'));
  assert.equal(name, hostname());
  const published = await d.docker(['create', '--network', 'host', '-p', '8080:80', 'busybox', 'true']);
  assert.equal(published.code, 0, published.stderr);
  assert.match(published.stderr, /Published ports are discarded when using host network mode/);
  await ok(['rm', published.stdout.trim()]);
});

test('cgroupns: the host\'s by default on cgroup v1 (full path), private shows /', async () => {
  const v2 = (await fsp.statfs('/sys/fs/cgroup')).type === 0x63677270;
  const id = (await ok(['run', '-d', 'busybox', 'sleep', '600'])).trim();
  assert.equal(await inspect(id, '{{.HostConfig.CgroupnsMode}}'), v2 ? 'private' : 'host');
  await ok(['rm', '-f', id]);
  const hostNs = await ok(['run', '--rm', '--cgroupns', 'host', 'busybox', 'cat', '/proc/self/cgroup']);
  assert.ok(hostNs.includes(`${d.cgroupParent}/`), `host cgroupns: ${hostNs}`);
  const priv = await ok(['run', '--rm', '--cgroupns', 'private', 'busybox', 'cat', '/proc/self/cgroup']);
  assert.ok(!priv.includes(d.cgroupParent), `private cgroupns: ${priv}`);
  for (const line of priv.trim().split('\n')) assert.match(line, /:\/$/, `private cgroupns: ${line}`);
});

test('container:X refused when X is missing (at create) or not running (at start)', async () => {
  for (const flag of ['--pid', '--ipc', '--network']) {
    const r = await d.docker(['create', flag, 'container:nosuchbox', 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container: nosuchbox/);
  }
  const x = (await ok(['create', '--name', 'stopped-donor', '--ipc', 'shareable', 'busybox', 'sleep', '600'])).trim();
  const cases: Array<[string, string]> = [
    ['--pid', `failed to join PID namespace: container ${x} is not running`],
    ['--ipc', `failed to join IPC namespace: container ${x} is not running`],
    ['--network', `cannot join network of a non running container: ${x}`],
  ];
  for (const [flag, text] of cases) {
    const r = await d.docker(['run', '--name', `joiner${flag}`, flag, 'container:stopped-donor', 'busybox', 'true']);
    assert.notEqual(r.code, 0, flag);
    assert.ok(r.stderr.includes(text), `${flag}: ${r.stderr}`);
    assert.equal(await inspect(`joiner${flag}`, '{{.State.Running}}'), 'false');
  }
  // Once X runs, the same containers start.
  await ok(['start', 'stopped-donor']);
  for (const [flag] of cases) {
    await ok(['start', `joiner${flag}`]);
    assert.equal((await ok(['wait', `joiner${flag}`])).trim(), '0');
  }
  await ok(['rm', '-f', 'stopped-donor', 'joiner--pid', 'joiner--ipc', 'joiner--network']);
});

test('userns: without a remap the host\'s user namespace, with --userns host too; invalid modes refused by the API', async () => {
  const hostUser = await fsp.readlink('/proc/self/ns/user');
  assert.equal((await ok(['run', '--rm', 'busybox', 'readlink', '/proc/self/ns/user'])).trim(), hostUser);
  const id = (await ok(['create', '--userns', 'host', 'busybox', 'readlink', '/proc/self/ns/user'])).trim();
  assert.equal(await inspect(id, '{{.HostConfig.UsernsMode}}'), 'host');
  await ok(['start', id]);
  assert.equal((await ok(['wait', id])).trim(), '0');
  assert.equal((await ok(['logs', id])).trim(), hostUser);
  await ok(['rm', id]);
  // The docker CLI checks modes itself; other API clients get dockerd's 400s.
  for (const [field, value, text] of [
    ['PidMode', 'bogus', 'invalid PID mode: bogus'],
    ['IpcMode', 'bogus', 'invalid IPC mode: bogus'],
    ['UTSMode', 'private', 'invalid UTS mode: private'],
    ['CgroupnsMode', 'bogus', 'invalid cgroup namespace mode: bogus'],
  ] as const) {
    const r = await d.api('POST', '/v1.50/containers/create', { Image: 'busybox', HostConfig: { [field]: value } });
    assert.equal(r.status, 400, `${field}: ${r.body}`);
    assert.equal(r.json().message, text);
  }
});

test('ipc: a System V segment the host made is invisible in a private IPC namespace, visible with --ipc host', async () => {
  const made = await run('ipcmk', ['-M', '4096']);
  assert.equal(made.code, 0, made.stderr);
  const shmid = /(\d+)\s*$/.exec(made.stdout)![1]!;
  // /proc/sysvipc/shm lists the segments of the reader's IPC namespace: key, shmid, ...
  const ids = (text: string) => text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).filter(Boolean);
  try {
    assert.ok(ids(await fsp.readFile('/proc/sysvipc/shm', 'utf8')).includes(shmid), 'the host sees its segment');
    assert.ok(!ids(await ok(['run', '--rm', 'busybox', 'cat', '/proc/sysvipc/shm'])).includes(shmid), 'private: not visible');
    assert.ok(ids(await ok(['run', '--rm', '--ipc', 'host', 'busybox', 'cat', '/proc/sysvipc/shm'])).includes(shmid), '--ipc host: visible');
  } finally {
    await run('ipcrm', ['-m', shmid]);
  }
});
