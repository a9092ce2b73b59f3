import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressPool, type PoolState, chooseSubnet, defaultPoolCandidates, hostSubnets, parseBip } from '../../src/network/ipam.ts';
import { formatCidr, macFromIPv4, overlaps, parseCidr, parseIPv4 } from '../../src/network/subnets.ts';
import { readJson, writeJsonAtomic } from '../../src/util/atomic.ts';
import { EngineError } from '../../src/util/errors.ts';

const status = (status: number) => (err: unknown) => err instanceof EngineError && err.status === status;

test('default candidates follow Docker order', () => {
  const c = defaultPoolCandidates().map(formatCidr);
  assert.equal(c[0], '172.17.0.0/16');
  assert.equal(c[14], '172.31.0.0/16');
  assert.equal(c[15], '192.168.0.0/20');
  assert.equal(c[16], '192.168.16.0/20');
  assert.equal(c.at(-1), '192.168.240.0/20');
});

test('chooseSubnet skips subnets colliding with host routes and addresses, ignores default route', () => {
  const fakeRoutes = ['0.0.0.0/0', '172.17.0.0/16', '172.18.5.0/24', '172.19.0.7/32', '10.0.0.0/8'].map((r) => parseCidr(r));
  assert.equal(formatCidr(chooseSubnet(fakeRoutes)), '172.20.0.0/16');
  // A supernet covering all 172.x pools pushes the choice to 192.168.
  const wide = [parseCidr('172.16.0.0/12'), parseCidr('192.168.0.0/24')];
  assert.equal(formatCidr(chooseSubnet(wide)), '192.168.16.0/20');
  assert.throws(() => chooseSubnet([parseCidr('172.16.0.0/12'), parseCidr('192.168.0.0/16')]), status(500));
});

test('chooseSubnet against this host picks something overlapping no real route', async () => {
  const used = await hostSubnets();
  assert.ok(used.length > 0, 'host has at least a loopback address');
  const chosen = chooseSubnet(used);
  assert.ok(!used.filter((u) => u.prefix > 0).some((u) => overlaps(u, chosen)));
});

test('parseBip splits gateway and subnet', () => {
  const b = parseBip('172.26.5.1/16');
  assert.equal(formatCidr(b.subnet), '172.26.0.0/16');
  assert.equal(b.gateway, parseIPv4('172.26.5.1'));
  assert.throws(() => parseBip('172.26.0.0/16'), status(400));
  assert.throws(() => parseBip('nonsense'), status(400));
});

test('allocation skips network, gateway and reserved; release makes the address reusable', () => {
  const pool = AddressPool.create({ subnet: '10.9.0.0/29', reserved: ['10.9.0.3'] });
  assert.equal(pool.toJSON().gateway, '10.9.0.1');
  assert.equal(pool.allocate(), '10.9.0.2');
  assert.equal(pool.allocate(), '10.9.0.4');
  assert.equal(pool.allocate(), '10.9.0.5');
  assert.equal(pool.allocate(), '10.9.0.6');
  assert.throws(() => pool.allocate(), status(500)); // .7 is broadcast
  pool.release('10.9.0.4');
  pool.release('10.9.0.4'); // repeated release is harmless
  assert.equal(pool.allocate(), '10.9.0.4');
});

test('--ip requests: in subnet, not taken, not gateway', () => {
  const pool = AddressPool.create({ subnet: '10.9.1.0/24', gateway: '10.9.1.254' });
  assert.equal(pool.allocate('10.9.1.1'), '10.9.1.1');
  assert.throws(() => pool.allocate('10.9.1.1'), status(409));
  assert.throws(() => pool.allocate('10.9.1.254'), status(409));
  assert.throws(() => pool.allocate('10.9.2.1'), status(400));
  assert.throws(() => pool.allocate('10.9.1.255'), status(400));
  assert.equal(pool.allocate(), '10.9.1.2');
});

test('--ip-range limits dynamic allocation but not explicit --ip', () => {
  const pool = AddressPool.create({ subnet: '10.9.0.0/16', ipRange: '10.9.7.0/30' });
  assert.equal(pool.toJSON().gateway, '10.9.0.1');
  assert.equal(pool.allocate(), '10.9.7.0'); // inside a /16, .7.0 is a host address
  assert.equal(pool.allocate(), '10.9.7.1');
  assert.equal(pool.allocate(), '10.9.7.2');
  assert.equal(pool.allocate(), '10.9.7.3');
  assert.throws(() => pool.allocate(), status(500));
  assert.equal(pool.allocate('10.9.100.5'), '10.9.100.5');
  assert.throws(() => AddressPool.create({ subnet: '10.9.0.0/24', ipRange: '10.8.0.0/24' }), status(400));
  assert.throws(() => AddressPool.create({ subnet: '10.9.0.0/24', gateway: '10.9.1.1' }), status(400));
});

test('state survives a JSON round trip through an atomic file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ipam-'));
  try {
    const pool = AddressPool.create({ subnet: '172.30.0.0/16', ipRange: '172.30.4.0/24', reserved: ['172.30.4.1'] });
    pool.allocate();
    pool.allocate('172.30.9.9');
    const file = join(dir, 'pool.json');
    await writeJsonAtomic(file, pool.toJSON());
    const state = await readJson<PoolState>(file);
    assert.ok(state);
    const again = AddressPool.fromJSON(state);
    assert.deepEqual(again.toJSON(), pool.toJSON());
    assert.deepEqual(again.toJSON().allocated, ['172.30.4.0', '172.30.9.9']);
    assert.ok(again.isAllocated('172.30.9.9'));
    assert.equal(again.allocate(), '172.30.4.2'); // .4.1 stays reserved after reload
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MAC follows Docker: 02:42 + address octets', () => {
  assert.equal(macFromIPv4(parseIPv4('172.17.0.2')), '02:42:ac:11:00:02');
});

test('CIDR parsing clears host bits, rejects junk, and overlap is symmetric', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
  assert.throws(() => parseCidr('10.1.2.3/16', true), status(400));
  assert.throws(() => parseCidr('10.1.2/16'), status(400));
  assert.throws(() => parseCidr('10.1.2.256/24'), status(400));
  assert.throws(() => parseCidr('10.1.2.0/33'), status(400));
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
  assert.ok(overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.0.0.0/8')));
  assert.ok(!overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.6.0.0/16')));
});
