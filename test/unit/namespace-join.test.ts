// The create-time checks and start-time resolution of namespace modes, against a
// lookup of container records (no daemon): dockerd's texts and statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptNamespaceModes, checkNamespaceConflicts, resolveNamespaceJoins, type ContainerLookup } from '../../src/container/namespace-join.ts';
import { initialState, type ContainerRecord } from '../../src/container/record.ts';
import type { HostConfig } from '../../src/runtime/types.ts';
import { EngineError } from '../../src/util/errors.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function rec(id: string, name: string, hc: HostConfig, running: boolean, pid = 4242): ContainerRecord {
  const state = { ...initialState(), ...(running ? { Status: 'running' as const, Running: true, Pid: pid } : {}) };
  return {
    Id: id, Created: '', Path: 'sleep', Args: [], State: state, Image: '', ResolvConfPath: `/d/${id}/resolv.conf`,
    HostnamePath: `/d/${id}/hostname`, HostsPath: `/d/${id}/hosts`, LogPath: '', Name: `/${name}`, RestartCount: 0,
    Driver: 'overlay2', Platform: 'linux', Runtime: 'runc', Config: { Hostname: `host-${name}` }, HostConfig: hc,
  };
}

function lookup(...recs: ContainerRecord[]): ContainerLookup {
  return { find: (ref) => recs.find((r) => r.Id === ref || r.Name === `/${ref}` || r.Id.startsWith(ref)) };
}

function throwsWith(fn: () => unknown, status: number, text: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EngineError, String(err));
    assert.equal(err.message, text);
    assert.equal(err.status, status);
    return true;
  });
}

test('create: invalid modes and network conflicts refused with dockerd texts', () => {
  throwsWith(() => checkNamespaceConflicts({}, { IpcMode: 'bogus' }), 400, 'invalid IPC mode: bogus');
  throwsWith(() => checkNamespaceConflicts({}, { PidMode: 'container:' }), 400, 'invalid PID mode: container:');
  throwsWith(() => checkNamespaceConflicts({}, { UTSMode: 'private' }), 400, 'invalid UTS mode: private');
  throwsWith(() => checkNamespaceConflicts({}, { CgroupnsMode: 'x' as 'host' }), 400, 'invalid cgroup namespace mode: x');
  throwsWith(() => checkNamespaceConflicts({}, { NetworkMode: 'container:' }), 400, 'Invalid network mode: invalid container format container:<name|id>');
  throwsWith(() => checkNamespaceConflicts({ Hostname: 'h' }, { NetworkMode: 'container:x' }), 400, 'conflicting options: hostname and the network mode');
  throwsWith(() => checkNamespaceConflicts({ Hostname: 'h' }, { UTSMode: 'host' }), 400, 'conflicting options: hostname and the UTS mode');
  throwsWith(() => checkNamespaceConflicts({}, { NetworkMode: 'host', Links: ['a:b'] }), 400, "conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  assert.deepEqual(checkNamespaceConflicts({ Hostname: 'h' }, { NetworkMode: 'host', IpcMode: 'container:x', PidMode: 'host' }), []);
  assert.deepEqual(checkNamespaceConflicts({}, { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } } as HostConfig), [
    'Published ports are discarded when using host network mode',
  ]);
});

test('create: defaults filled in and container:<name> stored as container:<id>', () => {
  const l = lookup(rec(A, 'donor', {}, false));
  const hc: HostConfig = { PidMode: 'container:donor', IpcMode: 'container:aaaa', NetworkMode: 'container:donor' };
  adaptNamespaceModes(hc, l);
  assert.deepEqual([hc.PidMode, hc.IpcMode, hc.NetworkMode], [`container:${A}`, `container:${A}`, `container:${A}`]);
  assert.ok(hc.CgroupnsMode === 'host' || hc.CgroupnsMode === 'private');
  const plain: HostConfig = {};
  adaptNamespaceModes(plain, l, { ipcMode: 'shareable', cgroupnsMode: 'private' });
  assert.deepEqual([plain.IpcMode, plain.CgroupnsMode], ['shareable', 'private']);
  throwsWith(() => adaptNamespaceModes({ PidMode: 'container:gone' }, l), 400, 'No such container: gone');
});

test('start: paths of a running container; errors for a stopped, missing or private one', () => {
  const donor = rec(A, 'donor', { IpcMode: 'shareable' }, true, 777);
  const joiner = rec(B, 'joiner', { PidMode: `container:${A}`, IpcMode: `container:${A}`, NetworkMode: `container:${A}` }, false);
  const joins = resolveNamespaceJoins(joiner, lookup(donor, joiner));
  assert.deepEqual(joins.namespacePaths, { network: '/proc/777/ns/net', ipc: '/proc/777/ns/ipc', pid: '/proc/777/ns/pid' });
  assert.equal(joins.network?.hostname, 'host-donor');
  assert.equal(joins.network?.hostsPath, `/d/${A}/hosts`);
  assert.deepEqual(joins.shm, { container: A });

  const stopped = rec(A, 'donor', { IpcMode: 'shareable' }, false);
  const only = (hc: HostConfig) => rec(B, 'joiner', hc, false);
  throwsWith(() => resolveNamespaceJoins(only({ PidMode: `container:${A}` }), lookup(stopped)), 500, `failed to join PID namespace: container ${A} is not running`);
  throwsWith(() => resolveNamespaceJoins(only({ IpcMode: `container:${A}` }), lookup(stopped)), 409, `failed to join IPC namespace: container ${A} is not running`);
  throwsWith(() => resolveNamespaceJoins(only({ NetworkMode: `container:${A}` }), lookup(stopped)), 409, `cannot join network of a non running container: ${A}`);
  throwsWith(() => resolveNamespaceJoins(only({ NetworkMode: `container:${A}` }), lookup()), 404, `No such container: ${A}`);
  const priv = rec(A, 'donor', { IpcMode: 'private' }, true);
  throwsWith(
    () => resolveNamespaceJoins(only({ IpcMode: `container:${A}` }), lookup(priv)),
    400,
    `failed to join IPC namespace: container ${A}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`,
  );
  // A donor that itself joined the host's IPC namespace shares the host's /dev/shm.
  const viaHost = resolveNamespaceJoins(only({ IpcMode: `container:${A}` }), lookup(rec(A, 'donor', { IpcMode: 'host' }, true)));
  assert.deepEqual(viaHost.shm, { host: true });
});
