import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkService } from '../../src/network/service.ts';
import { EngineError } from '../../src/util/errors.ts';

async function withSvc(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; svc: NetworkService }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-net-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, svc: await NetworkService.open(dir) };
}

async function rejects(p: Promise<unknown> | (() => unknown), status: number, message: string | RegExp): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.status, status);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('predefined networks exist, keep their ids across reopen and cannot be removed', async (t) => {
  const { dir, svc } = await withSvc(t);
  const names = svc.list().map((n) => `${n.Name}:${n.Driver}`);
  assert.deepEqual(names, ['bridge:bridge', 'host:host', 'none:null']);
  const ids = svc.list().map((n) => n.Id);
  assert.ok(ids.every((id) => /^[0-9a-f]{64}$/.test(id)));
  const again = await NetworkService.open(dir);
  assert.deepEqual(again.list().map((n) => n.Id), ids);
  for (const n of ['bridge', 'host', 'none']) await rejects(svc.remove(n), 403, `${n} is a pre-defined network and cannot be removed`);
  await rejects(svc.create({ Name: 'host' }), 403, 'operation is not permitted on predefined host network ');
  await rejects(svc.create({ Name: 'x', Driver: 'host' }), 403, 'only one instance of "host" network is allowed');
  assert.equal(svc.inspect('bridge').IPAM.Config[0].Subnet, '172.17.0.0/16');
});

test('create with subnet, gateway, ip-range, labels and options; conflicts and overlap', async (t) => {
  const { svc } = await withSvc(t);
  const { Id } = await svc.create({ Name: 'n1', IPAM: { Config: [{ Subnet: '10.99.0.5/24', Gateway: '10.99.0.254', IPRange: '10.99.0.128/25' }] }, Internal: true, Attachable: true, Labels: { a: '1' }, Options: { 'com.docker.network.bridge.name': 'bt1' } });
  const n = svc.inspect('n1');
  assert.equal(n.Id, Id);
  assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.254', IPRange: '10.99.0.128/25' }]);
  assert.equal(n.Internal, true);
  assert.equal(n.Attachable, true);
  assert.equal(n.Scope, 'local');
  assert.equal(n.Options['com.docker.network.bridge.name'], 'bt1');
  assert.equal(svc.inspect(Id.slice(0, 5)).Name, 'n1');
  await rejects(svc.create({ Name: 'n1' }), 409, 'network with name n1 already exists');
  await rejects(svc.create({ Name: 'n2', IPAM: { Config: [{ Subnet: '10.99.0.0/16' }] } }), 403, 'invalid pool request: Pool overlaps with other one on this address space');
  await rejects(svc.create({ Name: 'n2', IPAM: { Config: [{ Subnet: '10.98.0.0/24', Gateway: '10.1.0.1' }] } }), 400, /gateway/);
  await rejects(svc.create({ Name: 'n2', IPAM: { Config: [{ Subnet: 'nope' }] } }), 400, 'invalid CIDR address: nope');
  await rejects(svc.create({ Name: 'n2', Driver: 'overlay2x' }), 404, 'plugin "overlay2x" not found');
  await rejects(() => svc.inspect('missing'), 404, 'network missing not found');
  const auto = await svc.create({ Name: 'auto' });
  const sub = svc.inspect(auto.Id).IPAM.Config[0];
  assert.equal(sub.Subnet, '172.18.0.0/16');
  assert.equal(sub.Gateway, '172.18.0.1');
});

test('the allocator is injected and told the subnets in use', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-net-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let seen: string[] = [];
  const svc = await NetworkService.open(dir, (inUse) => {
    seen = inUse;
    return { Subnet: '10.200.0.0/24', Gateway: '10.200.0.1' };
  });
  await svc.create({ Name: 'a' });
  assert.deepEqual(seen, ['172.17.0.0/16']);
  assert.equal(svc.inspect('a').IPAM.Config[0].Subnet, '10.200.0.0/24');
});

test('list filters', async (t) => {
  const { svc } = await withSvc(t);
  const a = await svc.create({ Name: 'alpha', Labels: { env: 'prod' } });
  await svc.create({ Name: 'beta', Labels: { env: 'dev' } });
  const names = (f: Record<string, string[]>) => svc.list(f).map((n) => n.Name);
  assert.deepEqual(names({ name: ['al'] }), ['alpha']);
  assert.deepEqual(names({ id: [a.Id.slice(0, 8)] }), ['alpha']);
  assert.deepEqual(names({ label: ['env'] }), ['alpha', 'beta']);
  assert.deepEqual(names({ label: ['env=dev'] }), ['beta']);
  assert.deepEqual(names({ driver: ['null'] }), ['none']);
  assert.deepEqual(names({ type: ['custom'] }), ['alpha', 'beta']);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
  assert.deepEqual(names({ scope: ['swarm'] }), []);
  await svc.connect('alpha', { id: 'c'.repeat(64), name: '/web' });
  assert.deepEqual(names({ dangling: ['true'] }), ['beta']);
  assert.throws(() => svc.list({ bogus: ['x'] }), /invalid filter 'bogus'/);
  assert.throws(() => svc.list({ type: ['x'] }), /invalid filter/);
});

test('connect records endpoints; remove refused while connected; disconnect', async (t) => {
  const { svc } = await withSvc(t);
  await svc.create({ Name: 'n1', IPAM: { Config: [{ Subnet: '10.99.0.0/24' }] } });
  const cid = 'a'.repeat(64);
  const ep = await svc.connect('n1', { id: cid, name: '/web' });
  assert.equal(ep.IPv4Address, '10.99.0.2/24');
  assert.equal(ep.MacAddress, '02:42:0a:63:00:02');
  assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
  const ep2 = await svc.connect('n1', { id: 'b'.repeat(64), name: '/db' }, { ipv4Address: '10.99.0.50' });
  assert.equal(ep2.IPv4Address, '10.99.0.50/24');
  assert.deepEqual(svc.inspect('n1').Containers[cid], ep);
  await rejects(svc.connect('n1', { id: cid, name: '/web' }), 403, 'endpoint with name web already exists in network n1');
  await rejects(svc.connect('host', { id: cid, name: '/web' }), 400, /host network/);
  await rejects(svc.remove('n1'), 403, /^error while removing network: network n1 has active endpoints/);
  await svc.disconnect('n1', cid);
  await svc.disconnect('n1', 'b'.repeat(64));
  await rejects(svc.disconnect('n1', cid), 403, `container ${cid} is not connected to network n1`);
  await svc.disconnect('n1', cid, true);
  await svc.remove('n1');
  await rejects(svc.remove('n1'), 404, 'network n1 not found');
});

test('prune removes unused custom networks, honouring until and label', async (t) => {
  const { svc } = await withSvc(t);
  await svc.create({ Name: 'old', Labels: { keep: 'no' } });
  await svc.create({ Name: 'used' });
  await svc.create({ Name: 'kept', Labels: { keep: 'yes' } });
  await svc.connect('used', { id: 'd'.repeat(64), name: '/x' });
  assert.deepEqual((await svc.prune({ until: ['1h'] })).NetworksDeleted, []);
  assert.deepEqual((await svc.prune({ label: ['keep=no'] })).NetworksDeleted, ['old']);
  assert.deepEqual((await svc.prune({ 'label!': ['keep=yes'] })).NetworksDeleted, []);
  assert.deepEqual((await svc.prune({})).NetworksDeleted, ['kept']);
  assert.deepEqual(svc.list().map((n) => n.Name), ['bridge', 'host', 'none', 'used']);
  await assert.rejects(svc.prune({ name: ['x'] }), /invalid filter 'name'/);
});

test('records are one atomic file each; torn temp files are dropped on open', async (t) => {
  const { dir, svc } = await withSvc(t);
  const { Id } = await svc.create({ Name: 'n1' });
  const files = (await readdir(dir)).sort();
  assert.equal(files.length, 4);
  assert.ok(files.includes(`${Id}.json`));
  assert.equal(JSON.parse(await readFile(join(dir, `${Id}.json`), 'utf8')).Name, 'n1');
  // A crash mid-write leaves a temp file beside the records: it must not become a network.
  await writeFile(join(dir, `${Id}.json.tmp-123-deadbeef`), '{"Name":"torn');
  const again = await NetworkService.open(dir);
  assert.deepEqual(again.list().map((n) => n.Name), ['bridge', 'host', 'n1', 'none']);
  assert.equal((await readdir(dir)).length, 4);
});
