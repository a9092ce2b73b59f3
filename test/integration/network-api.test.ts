// Networks through a real berthd: the docker CLI and berth create, list, inspect, remove and
// prune network records; the predefined networks refuse removal; records survive a restart.
// (No kernel objects yet: the data plane is wired in a later round.)
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

test('docker network create/ls/inspect/rm/prune against berthd', async () => {
  const created = await d.docker(['network', 'create', '--subnet', '10.99.0.0/24', 'n1']);
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);

  const ls = await d.docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
  assert.equal(ls.stdout, 'bridge bridge local\nhost host local\nn1 bridge local\nnone null local\n');
  const [a, b] = await Promise.all([d.docker(['network', 'ls']), d.berth(['network', 'ls'])]);
  assert.equal(b.stdout, a.stdout);

  const ins = await d.docker(['network', 'inspect', '-f', '{{.Id}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Internal}}', 'n1']);
  assert.equal(ins.stdout, `${id} 10.99.0.0/24 10.99.0.1 false\n`);
  const byPrefix = await d.berth(['network', 'inspect', '-f', '{{.Name}}', id.slice(0, 6)]);
  assert.equal(byPrefix.stdout, 'n1\n');

  const dup = await d.docker(['network', 'create', 'n1']);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, 'Error response from daemon: network with name n1 already exists\n');
  const overlap = await d.docker(['network', 'create', '--subnet', '10.99.0.0/16', 'n2']);
  assert.equal(overlap.code, 1);
  assert.equal(overlap.stderr, 'Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n');

  for (const name of ['bridge', 'host', 'none']) {
    const rm = await d.docker(['network', 'rm', name]);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, `Error response from daemon: ${name} is a pre-defined network and cannot be removed\nexit status 1\n`);
  }

  // Records are files on disk: a restarted daemon sees the same network.
  assert.equal(await d.stop(), 0);
  await d.restart();
  assert.equal((await d.berth(['network', 'inspect', '-f', '{{.Id}}', 'n1'])).stdout, `${id}\n`);

  const rm = await d.docker(['network', 'rm', 'n1']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, 'n1\n');
  const gone = await d.docker(['network', 'inspect', 'n1']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /network n1 not found/);

  assert.equal((await d.docker(['network', 'create', 'p1'])).code, 0);
  assert.equal((await d.berth(['network', 'create', '--label', 'k=v', 'p2'])).code, 0);
  const pruned = await d.docker(['network', 'prune', '-f', '--filter', 'label=k=v']);
  assert.equal(pruned.stdout, 'Deleted Networks:\np2\n\n');
  const rest = await d.berth(['network', 'prune', '-f']);
  assert.equal(rest.stdout, 'Deleted Networks:\np1\n\n');
  assert.equal((await d.berth(['network', 'ls', '-q'])).stdout.trim().split('\n').length, 3);
});

test('connect and disconnect: recorded for a stopped container, refused with Docker\'s errors', async () => {
  const c = await d.api('POST', '/containers/create?name=netc', { Image: 'busybox', Cmd: ['true'] });
  assert.equal(c.status, 201, c.body);
  assert.equal((await d.api('POST', '/networks/create', { Name: 'cn', IPAM: { Config: [{ Subnet: '10.98.0.0/24' }] } })).status, 201);
  assert.equal((await d.docker(['network', 'connect', '--alias', 'db', 'cn', 'netc'])).code, 0);
  const nets = (await d.api('GET', '/containers/netc/json')).json().NetworkSettings.Networks;
  assert.deepEqual(Object.keys(nets), ['bridge', 'cn']);
  assert.deepEqual(nets.cn.Aliases, ['db']);
  assert.equal(nets.cn.IPAddress, '', 'no address until it runs');
  const again = await d.docker(['network', 'connect', 'cn', 'netc']);
  assert.equal(again.stderr, 'Error response from daemon: endpoint with name netc already exists in network cn\n');
  const unknown = await d.docker(['network', 'connect', 'cn', 'nosuch']);
  assert.equal(unknown.stderr, 'Error response from daemon: No such container: nosuch\n');
  assert.equal((await d.docker(['network', 'disconnect', 'cn', 'netc'])).code, 0);
  const dis = await d.docker(['network', 'disconnect', 'cn', 'netc']);
  assert.match(dis.stderr, /^Error response from daemon: container [0-9a-f]{64} is not connected to network cn\n$/);
  assert.deepEqual((await d.api('GET', '/networks/cn')).json().Containers, {});
  assert.equal((await d.berth(['network', 'rm', 'cn'])).stdout, 'cn\n');
  assert.equal((await d.api('DELETE', `/containers/${c.json().Id}`)).status, 204);
});

test('network events: create, connect and disconnect of a container run, destroy', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  assert.equal((await d.docker(['network', 'create', 'evnet'])).code, 0);
  const run = await d.docker(['run', '--rm', '--name', 'evc', '--network', 'evnet', 'busybox', 'true']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await d.docker(['network', 'rm', 'evnet'])).code, 0);
  const until = Math.floor(Date.now() / 1000) + 1;
  const ev = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'type=network', '--filter', 'network=evnet', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{if .Actor.Attributes.container}}container{{end}}']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.deepEqual(ev.stdout.trim().split('\n').map((l) => l.trim()), ['create evnet bridge', 'connect evnet bridge container', 'disconnect evnet bridge container', 'destroy evnet bridge']);
});
