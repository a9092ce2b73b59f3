// The network options of `docker run` and `docker network connect/disconnect` against
// berthd, each checked from inside the container (ip, /etc files, traffic) as well as in
// inspect: --ip, --mac-address, --dns*, --add-host, --link, --network none|host|container:X,
// connect/disconnect of a running container, and NetworkSettings across a stop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { until } from '../helpers/until.ts';
import { freeTestSubnet } from '../unit/network-kit.ts';
import { formatIPv4 } from '../../src/network/subnets.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const n = (name: string) => `no-${tag}-${name}`;
const httpd = (body: string) => ['sh', '-c', `mkdir -p /w && echo ${body} > /w/index.html && exec httpd -f -p 80 -h /w`];
const GET = `printf 'GET / HTTP/1.0\\r\\n\\r\\n'`;
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}


async function sh(ref: string, script: string): Promise<{ code: number; out: string }> {
  const r = await d.docker(['exec', ref, 'sh', '-c', script], { timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

const endpoint = (ref: string, network: string, field: string) => ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").${field}}}`, ref]);

test('--ip and --mac-address on a user network with --subnet: inspect and the interface agree', async (t) => {
  const subnet = await freeTestSubnet(24);
  const cidr = `${formatIPv4(subnet.base)}/24`;
  const ip = formatIPv4(subnet.base + 77);
  const mac = '02:42:de:ad:be:ef';
  const net = n('fixed');
  t.after(async () => {
    await d.docker(['rm', '-f', n('fixed-c'), n('fixed-dup')]);
    await d.docker(['network', 'rm', net]);
  });
  await ok(['network', 'create', '--subnet', cidr, net]);
  await ok(['run', '-d', '--name', n('fixed-c'), '--network', net, '--ip', ip, '--mac-address', mac, 'busybox', 'sleep', '600']);
  assert.equal(await endpoint(n('fixed-c'), net, 'IPAddress'), ip);
  assert.equal(await endpoint(n('fixed-c'), net, 'IPPrefixLen'), '24');
  assert.equal(await endpoint(n('fixed-c'), net, 'MacAddress'), mac);
  assert.equal(await endpoint(n('fixed-c'), net, 'Gateway'), formatIPv4(subnet.base + 1));
  const inside = await sh(n('fixed-c'), 'ip -o -4 addr show eth0; ip -o link show eth0; ip route');
  assert.equal(inside.code, 0, inside.out);
  assert.match(inside.out, new RegExp(`inet ${re(ip)}/24 `));
  assert.match(inside.out, new RegExp(`link/ether ${mac} `));
  assert.match(inside.out, new RegExp(`^default via ${re(formatIPv4(subnet.base + 1))} dev eth0`, 'm'));
  const listed = await ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}', net]);
  assert.equal(listed, `${n('fixed-c')} ${ip}/24 ${mac}`);
  // The address is taken: a second container asking for it is refused.
  const dup = await d.docker(['run', '-d', '--name', n('fixed-dup'), '--network', net, '--ip', ip, 'busybox', 'sleep', '600']);
  assert.notEqual(dup.code, 0, dup.stdout);
  assert.match(dup.stderr, /[Aa]ddress already in use|already allocated|in use/, dup.stderr);
});

test('--ip on the default bridge is refused with dockerd\'s message', async (t) => {
  t.after(async () => { await d.docker(['rm', '-f', n('bridge-ip')]); });
  const gw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
  const wanted = gw.replace(/\.\d+$/, '.200');
  const r = await d.docker(['run', '-d', '--name', n('bridge-ip'), '--network', 'bridge', '--ip', wanted, 'busybox', 'true']);
  assert.equal(r.code, 125, r.stdout);
  assert.match(r.stderr, /Error response from daemon: [\s\S]*user specified IP address is supported on user defined networks only/, r.stderr);
  assert.equal((await d.docker(['inspect', n('bridge-ip')])).code, 1, 'nothing was created');
});

test('--dns, --dns-search and --dns-option land in /etc/resolv.conf', async (t) => {
  const net = n('dnsnet');
  t.after(async () => { await d.docker(['network', 'rm', net]); });
  const r = await d.docker(['run', '--rm', '--dns', '1.2.3.4', '--dns-search', 'example.com', '--dns-option', 'ndots:3', 'busybox', 'cat', '/etc/resolv.conf']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^nameserver 1\.2\.3\.4$/m);
  assert.equal(r.stdout.match(/^nameserver /gm)?.length, 1, `only the given server: ${r.stdout}`);
  assert.match(r.stdout, /^search example\.com$/m);
  assert.match(r.stdout, /^options ndots:3$/m);
  // On a user network the embedded server stays the resolver; the search and options are the user's.
  await ok(['network', 'create', net]);
  const u = await d.docker(['run', '--rm', '--network', net, '--dns', '1.2.3.4', '--dns-search', 'example.com', '--dns-option', 'ndots:3', 'busybox', 'cat', '/etc/resolv.conf']);
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stdout, /^nameserver 127\.0\.0\.11$/m);
  assert.doesNotMatch(u.stdout, /^nameserver 1\.2\.3\.4$/m);
  assert.match(u.stdout, /^search example\.com$/m);
  assert.match(u.stdout, /^options ndots:3$/m);
  assert.doesNotMatch(u.stdout, /ndots:0/, `the user's ndots replaces the default: ${u.stdout}`);
});

test('--add-host, with host-gateway as the default bridge gateway, lands in /etc/hosts', async () => {
  const gw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
  assert.match(gw, /^\d+\.\d+\.\d+\.\d+$/);
  const r = await d.docker(['run', '--rm', '--add-host', 'foo:10.1.2.3', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; ping -c 1 -W 2 gw']);
  assert.equal(r.code, 0, `${r.stdout} ${r.stderr}`);
  assert.match(r.stdout, /^10\.1\.2\.3\s+foo$/m);
  assert.match(r.stdout, new RegExp(`^${re(gw)}\\s+gw$`, 'm'));
  // The name works and the gateway answers (it is the host, on the bridge).
  assert.match(r.stdout, /1 packets received/, r.stdout);
});

test('--link on the default bridge: the alias in /etc/hosts, and traffic by it', async (t) => {
  t.after(async () => { await d.docker(['rm', '-f', n('linked-web'), n('linker')]); });
  await ok(['run', '-d', '--name', n('linked-web'), '--hostname', 'webhost', 'busybox', ...httpd('linked-page')]);
  const webIp = await endpoint(n('linked-web'), 'bridge', 'IPAddress');
  assert.match(webIp, /^\d+\.\d+\.\d+\.\d+$/);
  await ok(['run', '-d', '--name', n('linker'), '--link', `${n('linked-web')}:db`, 'busybox', 'sleep', '600']);
  const hosts = await sh(n('linker'), 'cat /etc/hosts');
  const line = hosts.out.split('\n').find((l) => /\bdb\b/.test(l));
  assert.ok(line, hosts.out);
  assert.deepEqual(line.split(/\s+/), [webIp, 'db', 'webhost', n('linked-web')]);
  const got = await until('the linked server', async () => {
    const r = await sh(n('linker'), `${GET} | nc -w 2 db 80`);
    return r.out.includes('linked-page') && r.out;
  });
  assert.match(got, /^HTTP\/1\.[01] 200 OK/);
  // A link to a container that does not run is refused.
  await ok(['stop', '-t', '0', n('linked-web')]);
  const refused = await d.docker(['run', '--rm', '--link', `${n('linked-web')}:db`, 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /cannot link to a non running container/);
});

test('--network none has only lo; --network host sees the host\'s interfaces', async () => {
  const none = await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ip -o link show; echo ---; ip -o -4 addr show']);
  assert.equal(none.code, 0, none.stderr);
  const [links, addrs] = none.stdout.split('---\n');
  assert.deepEqual(links!.trim().split('\n').map((l) => l.split(': ')[1]), ['lo']);
  assert.deepEqual(addrs!.trim().split('\n').map((l) => l.split(/\s+/)[3]), ['127.0.0.1/8']);

  const host = await d.docker(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ip -o link show; ip -o -4 addr show; echo ---; cat /etc/hostname']);
  assert.equal(host.code, 0, host.stderr);
  const own = Object.entries(networkInterfaces()).find(([name, as]) => name === 'eth0' && as?.some((a) => a.family === 'IPv4'));
  assert.ok(own, 'the host has eth0');
  const hostIp = own[1]!.find((a) => a.family === 'IPv4')!.address;
  assert.match(host.stdout, /^\d+: eth0[:@]/m);
  assert.match(host.stdout, new RegExp(`inet ${re(hostIp)}/`));
  assert.match(host.stdout, new RegExp(`^\\d+: ${re(d.bridge)}:`, 'm'), 'the default bridge is visible');
});

test('--network container:X shares X\'s address and interfaces', async (t) => {
  t.after(async () => { await d.docker(['rm', '-f', n('shared')]); });
  await ok(['run', '-d', '--name', n('shared'), 'busybox', ...httpd('shared-page')]);
  const ip = await endpoint(n('shared'), 'bridge', 'IPAddress');
  const r = await d.docker(['run', '--rm', '--network', `container:${n('shared')}`, 'busybox', 'sh', '-c', `ip -o -4 addr show eth0; sleep 0.5; ${GET} | nc -w 2 127.0.0.1 80`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`inet ${re(ip)}/`));
  assert.match(r.stdout, /shared-page/, 'its localhost is X\'s');
  assert.equal(await ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}', n('shared')]), 'bridge');
});

test('network connect adds eth1 to a running container and its name resolves there; disconnect removes it', async (t) => {
  const net = n('late');
  const names = [n('joiner'), n('resident')];
  t.after(async () => {
    await d.docker(['rm', '-f', ...names]);
    await d.docker(['network', 'rm', net]);
  });
  await ok(['network', 'create', net]);
  await ok(['run', '-d', '--name', n('resident'), '--network', net, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('joiner'), 'busybox', ...httpd('joined-page')]);
  assert.doesNotMatch((await sh(n('joiner'), 'ip -o link show')).out, /eth1/);

  await ok(['network', 'connect', '--alias', 'late-alias', net, n('joiner')]);
  const ip = await endpoint(n('joiner'), net, 'IPAddress');
  const subnet = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', net]);
  assert.equal(subnet.split('.').slice(0, 2).join('.'), ip.split('.').slice(0, 2).join('.'), `${ip} in ${subnet}`);
  const eth1 = await sh(n('joiner'), 'ip -o -4 addr show eth1');
  assert.equal(eth1.code, 0, eth1.out);
  assert.match(eth1.out, new RegExp(`inet ${re(ip)}/`));
  assert.equal(await endpoint(n('joiner'), 'bridge', 'IPAddress') !== '', true, 'still on the default bridge');
  for (const name of [n('joiner'), 'late-alias']) {
    const look = await sh(n('resident'), `nslookup ${name} 127.0.0.11`);
    assert.equal(look.code, 0, look.out);
    assert.match(look.out, new RegExp(`Address:\\s+${re(ip)}\\s*$`, 'm'));
  }
  const page = await until('the connected server', async () => {
    const r = await sh(n('resident'), `${GET} | nc -w 2 ${n('joiner')} 80`);
    return r.out.includes('joined-page') && r.out;
  });
  assert.match(page, /200 OK/);

  await ok(['network', 'disconnect', net, n('joiner')]);
  assert.deepEqual(Object.keys(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', n('joiner')]))), ['bridge']);
  assert.doesNotMatch((await sh(n('joiner'), 'ip -o link show')).out, /eth1/);
  assert.equal(await ok(['network', 'inspect', '-f', '{{len .Containers}}', net]), '1');
  const gone = await sh(n('resident'), `nslookup ${n('joiner')} 127.0.0.11`);
  assert.notEqual(gone.code, 0, gone.out);
  assert.ok(!gone.out.includes(ip), gone.out);
});

test('inspect shows IPAddress, Gateway and MacAddress while running, and clears the address after stop', async (t) => {
  t.after(async () => { await d.docker(['rm', '-f', n('settings')]); });
  await ok(['run', '-d', '--name', n('settings'), 'busybox', 'sleep', '600']);
  const gw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
  const [ip, gateway, mac, prefix] = (await ok(['inspect', '-f', '{{with .NetworkSettings.Networks.bridge}}{{.IPAddress}} {{.Gateway}} {{.MacAddress}} {{.IPPrefixLen}}{{end}}', n('settings')])).split(' ');
  assert.match(ip!, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(gateway, gw);
  assert.match(mac!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(prefix, '16');
  const inside = await sh(n('settings'), 'ip -o -4 addr show eth0; ip -o link show eth0');
  assert.match(inside.out, new RegExp(`inet ${re(ip!)}/16 `));
  assert.match(inside.out, new RegExp(`link/ether ${re(mac!)} `));
  // The legacy top-level fields of the default bridge agree.
  assert.equal(await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}', n('settings')]), `${ip} ${gw}`);

  await ok(['stop', '-t', '0', n('settings')]);
  const after = await ok(['inspect', '-f', '{{with .NetworkSettings.Networks.bridge}}[{{.IPAddress}}] [{{.Gateway}}] {{.NetworkID}}{{end}}', n('settings')]);
  assert.match(after, /^\[\] \[\] [0-9a-f]{64}$/, 'still attached to bridge, without an address');
  assert.equal(await ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}|{{.NetworkSettings.IPAddress}}', n('settings')]), '|');
  assert.ok(!(await ok(['network', 'inspect', '-f', '{{json .Containers}}', 'bridge'])).includes(n('settings')), 'the endpoint is released');
});

test('disconnecting the network of the default route moves it to the remaining network', async (t) => {
  // libnetwork's Leave picks the sandbox's new gateway endpoint and reprograms the route.
  const net = n('gwmove');
  t.after(async () => {
    await d.docker(['rm', '-f', n('gwmove-c')]);
    await d.docker(['network', 'rm', net]);
  });
  await ok(['network', 'create', net]);
  await ok(['run', '-d', '--name', n('gwmove-c'), 'busybox', 'sleep', '600']);
  await ok(['network', 'connect', net, n('gwmove-c')]);
  const bridgeGw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
  const netGw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', net]);
  assert.match((await sh(n('gwmove-c'), 'ip route')).out, new RegExp(`^default via ${re(bridgeGw)} dev eth0`, 'm'));
  await ok(['network', 'disconnect', 'bridge', n('gwmove-c')]);
  const routes = (await sh(n('gwmove-c'), 'ip route')).out;
  assert.doesNotMatch(routes, /eth0/, routes);
  assert.match(routes, new RegExp(`^default via ${re(netGw)} dev eth1`, 'm'), `no default route through the remaining network: ${routes}`);
});

test('rename: the new name resolves, the old one does not, and network inspect shows the new name', async (t) => {
  const net = n('ren');
  t.after(async () => {
    await d.docker(['rm', '-f', n('ren-old'), n('ren-new'), n('ren-cli')]);
    await d.docker(['network', 'rm', net]);
  });
  await ok(['network', 'create', net]);
  const id = await ok(['run', '-d', '--name', n('ren-old'), '--network', net, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('ren-cli'), '--network', net, 'busybox', 'sleep', '600']);
  const ip = await endpoint(n('ren-old'), net, 'IPAddress');
  await ok(['rename', n('ren-old'), n('ren-new')]);
  const look = await sh(n('ren-cli'), `nslookup ${n('ren-new')} 127.0.0.11`);
  assert.equal(look.code, 0, look.out);
  assert.match(look.out, new RegExp(`Address:\\s+${re(ip)}\\s*$`, 'm'));
  const old = await sh(n('ren-cli'), `nslookup ${n('ren-old')} 127.0.0.11`);
  assert.notEqual(old.code, 0, old.out);
  const rev = await sh(n('ren-cli'), `nslookup ${ip} 127.0.0.11`);
  assert.match(rev.out, new RegExp(`name = ${re(n('ren-new'))}\\.${re(net)}`), rev.out);
  assert.equal(await ok(['network', 'inspect', '-f', `{{(index .Containers "${id}").Name}}`, net]), n('ren-new'));
});

test('a container on two user networks resolves the names of both, and no others', async (t) => {
  const [a, b, c] = [n('two-a'), n('two-b'), n('two-c')];
  const names = [n('both'), n('only-b'), n('only-c')];
  t.after(async () => {
    await d.docker(['rm', '-f', ...names]);
    for (const net of [a, b, c]) await d.docker(['network', 'rm', net]);
  });
  for (const net of [a, b, c]) await ok(['network', 'create', net]);
  await ok(['run', '-d', '--name', n('only-b'), '--network', b, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('only-c'), '--network', c, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('both'), '--network', a, 'busybox', 'sleep', '600']);
  await ok(['network', 'connect', b, n('both')]);
  const ipB = await endpoint(n('only-b'), b, 'IPAddress');
  const look = await sh(n('both'), `nslookup ${n('only-b')} 127.0.0.11`);
  assert.equal(look.code, 0, look.out);
  assert.match(look.out, new RegExp(`Address:\\s+${re(ipB)}\\s*$`, 'm'));
  const other = await sh(n('both'), `nslookup ${n('only-c')} 127.0.0.11`);
  assert.notEqual(other.code, 0, other.out);
  assert.ok(!other.out.includes(await endpoint(n('only-c'), c, 'IPAddress')), other.out);
});
