// berth explain and GET /containers/{id}/explain against a real berthd: the isolation facts
// are read from the kernel, so each assertion checks what runc really set up for a process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/capabilities.ts';
import type { ExplainReport } from '../../src/explain/types.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const plain = `ex-plain-${tag}`;
const limited = `ex-lim-${tag}`;
const hostPid = `ex-hpid-${tag}`;
const stopped = `ex-stop-${tag}`;
const joiner = `ex-join-${tag}`;
const priv = `ex-priv-${tag}`;
const published = `ex-pub-${tag}`;
const names = [priv, joiner, plain, limited, hostPid, stopped, published];

async function berthOk(args: string[]): Promise<string> {
  const r = await d.berth(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function explainJson(name: string): Promise<ExplainReport> {
  return JSON.parse(await berthOk(['explain', '--format', 'json', name])) as ExplainReport;
}

/** pid 1's namespace, or (where /proc/1 is not readable, as in a sandbox) this process's, as berthd decides. */
function hostInode(type: string): number {
  let link: string;
  try {
    link = readlinkSync(`/proc/1/ns/${type}`);
  } catch {
    link = readlinkSync(`/proc/self/ns/${type}`);
  }
  return Number(/\[(\d+)\]/.exec(link)![1]);
}

before(async () => {
  d = await startDaemon({ loadBusybox: true });
  await berthOk(['run', '-d', '--name', plain, 'busybox', 'sleep', '600']);
  await berthOk(['run', '-d', '--name', limited, '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', 'busybox', 'sleep', '600']);
  await berthOk(['run', '-d', '--name', hostPid, '--pid', 'host', 'busybox', 'sleep', '600']);
  await berthOk(['create', '--name', stopped, 'busybox', 'true']);
});
after(async () => {
  if (d) for (const n of names) await d.berth(['rm', '-f', n]).catch(() => undefined);
  await d?.cleanup();
});

test('a default container: private mnt/pid/net/ipc/uts namespaces, Docker\'s capabilities, seccomp filter, masked /proc/kcore', async () => {
  const r = await explainJson(plain);
  assert.equal(r.Name, plain);
  assert.ok(r.Pid > 0);
  for (const type of ['mnt', 'pid', 'net', 'ipc', 'uts'] as const) {
    const ns = r.Namespaces.find((n) => n.Type === type);
    assert.ok(ns, type);
    assert.equal(ns.HostInode, hostInode(type), `${type} host inode`);
    assert.ok(ns.Inode > 0, `${type} inode`);
    assert.notEqual(ns.Inode, ns.HostInode, `${type} differs from the host`);
    assert.equal(ns.Mode, 'private', type);
  }
  // No userns without remap: the user namespace is the host's.
  assert.equal(r.Namespaces.find((n) => n.Type === 'user')?.Mode, 'host');
  assert.deepEqual([...r.Capabilities.Effective].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.deepEqual([...r.Capabilities.Bounding].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.equal(r.Seccomp.Mode, 2);
  assert.equal(r.Seccomp.ModeName, 'filter');
  assert.equal(r.Seccomp.Profile, 'default');
  assert.ok(r.Seccomp.Rules > 0);
  // runc masks only what exists: this kernel may be built without /proc/kcore.
  const kcore = r.MaskedPaths.find((p) => p.Path === '/proc/kcore');
  if (existsSync('/proc/kcore')) assert.deepEqual(kcore, { Path: '/proc/kcore', State: 'masked', How: '/dev/null bind' });
  else assert.equal(kcore?.State, 'absent');
  assert.deepEqual(r.MaskedPaths.find((p) => p.Path === '/proc/keys'), { Path: '/proc/keys', State: 'masked', How: '/dev/null bind' });
  assert.deepEqual(r.MaskedPaths.find((p) => p.Path === '/proc/timer_list'), { Path: '/proc/timer_list', State: 'masked', How: '/dev/null bind' });
  assert.equal(r.MaskedPaths.find((p) => p.Path === '/sys/firmware')?.State, 'masked');
  assert.equal(r.ReadonlyPaths.find((p) => p.Path === '/proc/sys')?.State, 'readonly');
  assert.equal(r.ReadonlyPaths.find((p) => p.Path === '/proc/sysrq-trigger')?.State, existsSync('/proc/sysrq-trigger') ? 'readonly' : 'absent');
  assert.deepEqual(r.User.Uid, [0, 0, 0, 0]);
  assert.equal(r.User.Name, 'root');
  assert.deepEqual(r.User.UidMap, [{ ContainerId: 0, HostId: 0, Size: 4294967295 }]);
  const root = r.Mounts.find((m) => m.Destination === '/');
  assert.equal(root?.Type, 'overlay');
  assert.ok(r.Mounts.some((m) => m.Destination === '/proc' && m.Type === 'proc'));
  assert.ok(r.Cgroup.Path.endsWith(`${d.cgroupParent}/${(await berthOk(['inspect', '-f', '{{.Id}}', plain])).trim()}`), r.Cgroup.Path);
});

test('limits are read back from cgroupfs: --memory 64m, --pids-limit 50, --cpus 0.5', async () => {
  const r = await explainJson(limited);
  const value = (file: string) => r.Cgroup.Limits.find((l) => l.File === file);
  if (r.Cgroup.Version === 1) {
    assert.equal(value('memory.limit_in_bytes')?.Value, String(64 * 1024 * 1024));
    assert.equal(value('memory.limit_in_bytes')?.Meaning, '64MiB');
    assert.equal(value('cpu.cfs_period_us')?.Value, '100000');
    assert.equal(value('cpu.cfs_quota_us')?.Value, '50000');
    assert.equal(value('cpu.cfs_quota_us')?.Meaning, '0.5 CPUs');
    assert.ok(value('devices.list')?.Value.includes('c 1:3 rwm'), 'devices.list allows /dev/null');
  } else {
    assert.equal(value('memory.max')?.Value, String(64 * 1024 * 1024));
    assert.equal(value('cpu.max')?.Value, '50000 100000');
  }
  assert.equal(value('pids.max')?.Value, '50');
  // The human table shows the same values.
  const text = await berthOk(['explain', limited]);
  assert.match(text, /^NAMESPACES$/m);
  assert.match(text, /pids\.max\s+50\s+50 processes/);
  assert.match(text, /0\.5 CPUs/);
  assert.match(text, /\/proc\/keys\s+masked\s+\/dev\/null bind/);
  assert.match(text, /^pid\s+\d+\s+\d+\s+private$/m);
});

test('--pid host: the pid namespace is the host\'s', async () => {
  const r = await explainJson(hostPid);
  const pid = r.Namespaces.find((n) => n.Type === 'pid')!;
  assert.equal(pid.Mode, 'host');
  assert.equal(pid.Inode, hostInode('pid'));
  assert.equal(r.Namespaces.find((n) => n.Type === 'mnt')?.Mode, 'private');
});

test('--pid/--network container:X: both containers show the namespace shared with the other', async () => {
  await berthOk(['run', '-d', '--name', joiner, '--pid', `container:${plain}`, '--network', `container:${plain}`, 'busybox', 'sleep', '600']);
  const a = await explainJson(plain);
  const b = await explainJson(joiner);
  for (const type of ['pid', 'net'] as const) {
    const na = a.Namespaces.find((n) => n.Type === type)!;
    const nb = b.Namespaces.find((n) => n.Type === type)!;
    assert.equal(na.Inode, nb.Inode, type);
    assert.equal(na.Mode, 'shared');
    assert.deepEqual(na.SharedWith.map((s) => s.Name), [joiner]);
    assert.deepEqual(nb.SharedWith.map((s) => s.Name), [plain]);
  }
  assert.equal(b.Namespaces.find((n) => n.Type === 'mnt')?.Mode, 'private');
  assert.match(await berthOk(['explain', plain]), new RegExp(`^pid\\s+\\d+\\s+\\d+\\s+shared with ${joiner}$`, 'm'));
  await berthOk(['rm', '-f', joiner]);
});

test('--privileged with no-new-privileges: every capability, no seccomp filter, nothing masked, NoNewPrivs set', async () => {
  await berthOk(['run', '-d', '--name', priv, '--privileged', '--security-opt', 'no-new-privileges', 'busybox', 'sleep', '600']);
  const r = await explainJson(priv);
  assert.equal(r.Seccomp.Mode, 0);
  assert.equal(r.Seccomp.Profile, 'unconfined');
  assert.equal(r.Seccomp.Rules, 0);
  assert.equal(r.NoNewPrivs, true);
  assert.ok(r.Capabilities.Effective.includes('CAP_SYS_ADMIN'));
  assert.ok(r.Capabilities.Effective.length > DEFAULT_CAPABILITIES.length);
  assert.equal(r.MaskedPaths.find((p) => p.Path === '/proc/keys')?.State, 'none');
  assert.equal(r.ReadonlyPaths.find((p) => p.Path === '/proc/sys')?.State, 'none');
  // A Go template over the same data.
  assert.equal(await berthOk(['explain', '-f', '{{.Seccomp.Mode}} {{.Seccomp.Profile}} {{.NoNewPrivs}}', priv]), '0 unconfined true\n');
  await berthOk(['rm', '-f', priv]);
});

test('network: the interface in the container, its veth on the bridge, the route, the published port', async () => {
  await berthOk(['run', '-d', '--name', published, '-p', '127.0.0.1::80', 'busybox', 'sleep', '600']);
  const r = await explainJson(published);
  const eth0 = r.Network.Interfaces.find((i) => i.Name === 'eth0')!;
  const ip = JSON.parse(await berthOk(['inspect', '--format', '{{json .NetworkSettings.Networks.bridge}}', published])) as { IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string };
  assert.ok(eth0.Addresses.includes(`${ip.IPAddress}/${ip.IPPrefixLen}`), JSON.stringify(eth0));
  assert.equal(eth0.Mac, ip.MacAddress);
  assert.equal(eth0.Bridge, d.bridge, 'the host end is on the daemon\'s bridge');
  assert.match(eth0.HostPeer, /^veth[0-9a-f]{7}$/);
  assert.deepEqual(r.Network.Routes.find((x) => x.Destination === 'default'), { Destination: 'default', Gateway: ip.Gateway, Device: 'eth0' });
  const port = (await berthOk(['port', published, '80'])).trim();
  assert.deepEqual(r.Network.Published, [{ HostIp: '127.0.0.1', HostPort: Number(port.split(':').pop()), ContainerIp: ip.IPAddress, ContainerPort: 80, Proto: 'tcp' }]);
  const text = await berthOk(['explain', published]);
  assert.match(text, new RegExp(`Published:\\s+127\\.0\\.0\\.1:${port.split(':').pop()}->${ip.IPAddress.replaceAll('.', '\\.')}:80/tcp`));
});

test('the raw API: 200 with the report, 409 for a container that is not running, 404 for an unknown one', async () => {
  const ok = await d.api('GET', `/v1.50/containers/${plain}/explain`);
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.json().Name, plain);
  assert.ok(Array.isArray(ok.json().Namespaces));
  const id = (await berthOk(['inspect', '-f', '{{.Id}}', stopped])).trim();
  const notRunning = await d.api('GET', `/containers/${stopped}/explain`);
  assert.equal(notRunning.status, 409);
  assert.equal(notRunning.json().message, `Container ${id} is not running`);
  const missing = await d.api('GET', `/containers/nope-${tag}/explain`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json().message, `No such container: nope-${tag}`);
  const cli = await d.berth(['explain', stopped]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, new RegExp(`Container ${id} is not running`));
});
