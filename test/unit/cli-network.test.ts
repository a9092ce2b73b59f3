// berth network * and berth port side by side with the real docker CLI (28.x) against the
// same scripted daemon: same requests (bodies included), same output, same exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithDocker, DOCKER, requestLines, routeOf, asBerth, type Comparison, type Handler, type Recorded } from './cli-harness.ts';

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';
const NID = '3f1c2a9b8d7e6f50' + 'b'.repeat(48);
const NET = (name: string, id: string, driver: string, labels: Record<string, string> = {}) => ({
  Name: name, Id: id, Created: '2026-11-24T01:02:03.123456789Z', Scope: 'local', Driver: driver, EnableIPv4: true, EnableIPv6: false,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.99.0.0/24', Gateway: '10.99.0.1' }] }, Internal: false, Attachable: false,
  Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: labels,
});
const NETS = [NET('n10', 'c'.repeat(64), 'bridge', { a: '1' }), NET('n2', NID, 'bridge'), NET('bridge', 'd'.repeat(64), 'bridge'), NET('host', 'e'.repeat(64), 'host'), NET('none', 'f'.repeat(64), 'null')];

/** A scripted /networks API over NETS (no state: each run sees the same answers). */
const networks: Handler = (r) => {
  const route = routeOf(r.url);
  const err = (status: number, message: string) => ({ status, body: { message } });
  if (r.method === 'GET' && route === '/networks') return { status: 200, body: NETS };
  if (r.method === 'POST' && route === '/networks/create') {
    const b = JSON.parse(r.body.toString());
    if (NETS.some((n) => n.Name === b.Name)) return err(409, `network with name ${b.Name} already exists`);
    return { status: 201, body: { Id: NID, Warning: '' } };
  }
  if (r.method === 'POST' && route === '/networks/prune') return { status: 200, body: { NetworksDeleted: ['n10', 'n2'] } };
  const m = /^\/networks\/([^/]+)(\/connect|\/disconnect)?$/.exec(route);
  if (!m) return undefined;
  const ref = decodeURIComponent(m[1]);
  const n = NETS.find((x) => x.Id === ref || x.Name === ref);
  if (!n) return err(404, `network ${ref} not found`);
  if (m[2]) {
    const b = JSON.parse(r.body.toString());
    if (b.Container === 'ghost') return err(404, 'No such container: ghost');
    return { status: 200 };
  }
  if (r.method === 'GET') return { status: 200, body: n };
  if (r.method === 'DELETE') {
    if (['bridge', 'host', 'none'].includes(n.Name)) return err(403, `${n.Name} is a pre-defined network and cannot be removed`);
    return { status: 204 };
  }
  return undefined;
};

const containers: Handler = (r) => {
  const route = routeOf(r.url);
  if (r.method !== 'GET' || !route.startsWith('/containers/')) return undefined;
  if (route === '/containers/web/json') {
    return { status: 200, body: { Id: 'a'.repeat(64), Name: '/web', NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }], '9000/tcp': null } } } };
  }
  if (route === '/containers/bare/json') return { status: 200, body: { Id: 'b'.repeat(64), Name: '/bare', NetworkSettings: { Ports: {} } } };
  return { status: 404, body: { message: `No such container: ${route.split('/')[2]}` } };
};

function assertSame(c: Comparison, label: string): void {
  assert.equal(c.berth.code, c.docker.code, `${label}: exit status`);
  assert.equal(c.berth.stdout, c.docker.stdout, `${label}: stdout`);
  assert.equal(c.berth.stderr, asBerth(c.docker.stderr), `${label}: stderr`);
  const lines = (reqs: Recorded[]) => requestLines(reqs);
  assert.deepEqual(lines(c.berth.requests), lines(c.docker.requests), `${label}: requests`);
  const bodies = (reqs: Recorded[]) => reqs.filter((q) => q.body.length).map((q) => JSON.parse(q.body.toString()));
  assert.deepEqual(bodies(c.berth.requests), bodies(c.docker.requests), `${label}: bodies`);
}

async function same(args: string[], opts: { stdin?: string } = {}): Promise<Comparison> {
  const c = await compareWithDocker(args, [networks, containers], opts);
  assertSame(c, args.join(' '));
  return c;
}

test('network create: request bodies and errors as docker', { skip }, async () => {
  const ok = await same(['network', 'create', '--subnet', '10.99.0.0/24', '--gateway', '10.99.0.254', '--ip-range', '10.99.0.128/25', '--internal', '--attachable', '--label', 'a=1', '--label', 'b', '-o', 'com.docker.network.bridge.name=bt1', 'x1']);
  assert.equal(ok.berth.stdout, NID + '\n');
  await same(['network', 'create', 'x2']);
  await same(['network', 'create', '-d', 'bridge', '--ipv6', '--ipv4=false', '--aux-address', 'h=10.1.0.9', '--subnet', '10.1.0.0/16', '--ipam-opt', 'k=v', 'x3']);
  await same(['network', 'create', 'n2']);
  await same(['network', 'create', '--gateway', '10.0.0.1', 'x4']);
  await same(['network', 'create', '--subnet', '10.2.0.0/16', '--gateway', '10.3.0.1', 'x5']);
  await same(['network', 'create', '--subnet', '10.2.0.0/16', '--subnet', '10.2.1.0/24', 'x6']);
  await same(['network', 'create']);
  await same(['network', 'create', 'a', 'b']);
});

test('network ls: tables, --format, -q, --no-trunc, filters', { skip }, async () => {
  await same(['network', 'ls']);
  await same(['network', 'list', '-q']);
  await same(['network', 'ls', '--no-trunc']);
  await same(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.Label "a"}} {{.CreatedAt}}']);
  await same(['network', 'ls', '--format', 'table {{.ID}}\t{{.Name}}\t{{.IPv4}}']);
  await same(['network', 'ls', '--format', 'json']);
  await same(['network', 'ls', '-f', 'driver=bridge', '--filter', 'label=a']);
  await same(['network', 'ls', 'extra']);
});

test('network inspect, rm, prune, connect, disconnect', { skip }, async () => {
  await same(['network', 'inspect', 'n2']);
  await same(['network', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'n2', 'host']);
  await same(['network', 'inspect', '-v', 'n2']);
  await same(['network', 'inspect', 'nope']);
  await same(['network', 'inspect', 'n2', 'nope']);
  await same(['network', 'rm', 'n2']);
  await same(['network', 'rm', 'n2', 'bridge', 'nope', 'n10']);
  await same(['network', 'remove', '-f', 'nope']);
  await same(['network', 'rm']);
  await same(['network', 'prune', '-f']);
  await same(['network', 'prune', '-f', '--filter', 'until=1h', '--filter', 'label=a']);
  await same(['network', 'prune'], { stdin: 'y\n' });
  await same(['network', 'prune'], { stdin: 'n\n' });
  await same(['network', 'connect', 'n2', 'web']);
  await same(['network', 'connect', '--ip', '10.99.0.9', '--alias', 'a1', '--alias', 'a2', '--link', 'db:d', '--driver-opt', 'k=v', 'n2', 'web']);
  await same(['network', 'connect', 'n2', 'ghost']);
  await same(['network', 'connect', 'nope', 'web']);
  await same(['network', 'connect', 'n2']);
  await same(['network', 'disconnect', 'n2', 'web']);
  await same(['network', 'disconnect', '-f', 'n2', 'ghost']);
  await same(['network', 'disconnect', 'nope', 'web']);
});

test('port: all mappings, one port, none, and errors', { skip }, async () => {
  await same(['port', 'web']);
  await same(['port', 'web', '80']);
  await same(['port', 'web', '53/udp']);
  await same(['port', 'web', '81']);
  await same(['port', 'web', '9000']);
  await same(['port', 'bare']);
  await same(['port', 'ghost']);
  await same(['container', 'port', 'web', '80/tcp']);
  await same(['port']);
});

test('help of every network subcommand and of port reads as docker\'s', { skip }, async () => {
  for (const args of [['network'], ...['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect'].map((c) => ['network', c]), ['port'], ['container', 'port']]) {
    const c = await compareWithDocker([...args, '--help'], []);
    assert.equal(c.berth.code, c.docker.code, args.join(' '));
    assert.equal(c.berth.stdout, asBerth(c.docker.stdout), args.join(' '));
  }
  // Named alone, a group shows its help on stderr (and succeeds), as docker does.
  const bare = await compareWithDocker(['network'], []);
  assert.deepEqual([bare.berth.code, bare.berth.stdout, bare.berth.stderr], [bare.docker.code, '', asBerth(bare.docker.stderr)]);
  assert.match(bare.berth.stderr, /^Usage:  berth network COMMAND/);
});
