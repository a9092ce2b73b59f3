import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { deleteBridge, ensureBridge } from '../../src/network/bridge.ts';
import { addNamedNetns, deleteNamedNetns, getLink, inNetns, ip, mustRun, runTool } from '../../src/network/netns.ts';
import { PortPublisher, portMap, portRequests, type PublishedPort } from '../../src/network/ports.ts';
import { localPortRange } from '../../src/network/ports-sockets.ts';
import { formatIPv4 } from '../../src/network/subnets.ts';
import { attachVeth, detachVeth, hostVethName } from './network-kit.ts';
import { EngineError } from '../../src/util/errors.ts';
import { Cleanup, freeTestSubnet, uniq } from './network-kit.ts';

// ---- pure: specs -> requests, published -> NetworkSettings.Ports ---------------------------

test('portRequests: bindings, -P, ranges, defaults', () => {
  assert.deepEqual(portRequests({ '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, false, { '80/tcp': {} }), [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 },
  ]);
  // No protocol means tcp; HostPort "" is random; two bindings for one port both count.
  assert.deepEqual(portRequests({ '53': [{ HostIp: '127.0.0.1', HostPort: '' }, { HostPort: '5353' }] }, false, null), [
    { proto: 'tcp', containerPort: 53, hostIp: '127.0.0.1', hostPort: 0 },
    { proto: 'tcp', containerPort: 53, hostIp: '0.0.0.0', hostPort: 5353 },
  ]);
  assert.deepEqual(portRequests({ '80/tcp': [{ HostPort: '8000-8010' }] }, false, undefined), [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8000, hostPortEnd: 8010 },
  ]);
  // -P publishes every exposed port that has no binding on a random port; bound ones keep theirs.
  assert.deepEqual(portRequests({ '80/tcp': [{ HostPort: '8080' }], '9/udp': null }, true, { '443/tcp': {}, '80/tcp': {}, '53/udp': {} }), [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 },
    { proto: 'udp', containerPort: 9, hostIp: '0.0.0.0', hostPort: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPort: 0 },
    { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPort: 0 },
  ].sort((a, b) => a.containerPort - b.containerPort));
  // Without -P, exposed-only ports are not published.
  assert.deepEqual(portRequests(null, false, { '80/tcp': {} }), []);
  assert.deepEqual(portRequests({ '80/tcp': [] }, false, { '80/tcp': {} }), []);
});

test('portRequests: dockerd error texts, status 400', () => {
  const bad = (fn: () => unknown, message: string) =>
    assert.throws(fn, (err: unknown) => err instanceof EngineError && err.status === 400 && err.message === message);
  bad(() => portRequests({ 'abc/tcp': [] }, false, null), 'invalid port specification: "abc"');
  bad(() => portRequests({ '0/tcp': [] }, false, null), 'invalid port specification: "0"');
  bad(() => portRequests({ '70000/tcp': [] }, false, null), 'invalid port specification: "70000"');
  bad(() => portRequests({ '80-81/tcp': [] }, false, null), 'invalid port specification: "80-81"');
  bad(() => portRequests({ '80/tcp': [{ HostPort: 'x80' }] }, false, null), 'invalid port specification: "x80"');
  bad(() => portRequests({ '80/tcp': [{ HostPort: '8010-8000' }] }, false, null), 'invalid port specification: "8010-8000"');
  bad(() => portRequests({ '80/tcp': [{ HostPort: '99999' }] }, false, null), 'invalid port specification: "99999"');
  bad(() => portRequests({ '80/foo': [] }, false, null), 'invalid proto: foo');
  bad(() => portRequests({ '80/tcp': [{ HostIp: '1.2.3', HostPort: '80' }] }, false, null), 'invalid IP address: 1.2.3');
});

test('portMap: every exposed or published key, null when not published', () => {
  const published: PublishedPort[] = [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 },
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8081 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPort: 40000 },
  ];
  assert.deepEqual(portMap({ '80/tcp': {}, '2377/tcp': {}, '53/udp': {} }, published), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }],
    '2377/tcp': null,
    '53/udp': [{ HostIp: '0.0.0.0', HostPort: '40000' }],
  });
  assert.deepEqual(portMap(null, []), {});
  assert.deepEqual(portMap({ '22': {} }, []), { '22/tcp': null });
});

// ---- real kernel: a bridge, a "container" netns with TCP+UDP echo servers -------------------

// Echoes TCP on 80 and UDP on 53, then says ready.
const ECHO = `const s = require('net').createServer((c) => c.pipe(c));
const u = require('dgram').createSocket('udp4');
u.on('message', (m, r) => u.send(m, r.port, r.address));
s.listen(80, '0.0.0.0', () => u.bind(53, '0.0.0.0', () => console.log('ready')));`;

interface Fixture { id: string; bridge: string; ns: string; containerIp: string; gateway: string; client: string; table: string; cleanup: Cleanup }

async function fixture(): Promise<Fixture> {
  const id = uniq();
  const bridge = `bt${id}`;
  const ns = `bt-${id}-p`;
  const client = `bt-${id}-q`; // a second container on the bridge
  const cleanup = new Cleanup();
  try {
    const subnet = await freeTestSubnet();
    const gw = formatIPv4(subnet.base + 1);
    const containerIp = formatIPv4(subnet.base + 2);
    cleanup.push(() => deleteBridge(bridge));
    await ensureBridge({ name: bridge, address: `${gw}/24`, network: `net-${id}` });
    cleanup.push(() => deleteNamedNetns(ns));
    await addNamedNetns(ns);
    cleanup.push(() => detachVeth(hostVethName(`ctr-${id}`, `net-${id}`)));
    await attachVeth({ containerId: `ctr-${id}`, network: `net-${id}`, bridge, netns: ns, address: containerIp, prefix: 24, gateway: gw });
    cleanup.push(() => deleteNamedNetns(client));
    await addNamedNetns(client);
    cleanup.push(() => detachVeth(hostVethName(`cli-${id}`, `net-${id}`)));
    await attachVeth({ containerId: `cli-${id}`, network: `net-${id}`, bridge, netns: client, address: formatIPv4(subnet.base + 3), prefix: 24, gateway: gw });
    const server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => stop(server));
    let out = '';
    server.stdout!.setEncoding('utf8');
    server.stdout!.on('data', (d: string) => { out += d; });
    while (!out.includes('ready')) {
      if (server.exitCode !== null) throw new Error('echo server died');
      await once(server.stdout!, 'data');
    }
    return { id, bridge, ns, containerIp, gateway: gw, client, table: `berth-ports-t${id}`, cleanup };
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** The host's first global IPv4 address outside the test's own links. */
async function hostAddress(f: Fixture): Promise<string> {
  const links = JSON.parse(await ip(['-j', '-4', 'addr', 'show'])) as Array<{ ifname: string; addr_info: Array<{ local: string; scope: string }> }>;
  for (const l of links) {
    if (l.ifname === f.bridge || l.ifname === 'lo') continue;
    const a = l.addr_info.find((x) => x.scope === 'global');
    if (a) return a.local;
  }
  throw new Error('no global IPv4 address on this host');
}

function tcpRoundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect({ host, port }, () => s.write(text));
    s.setEncoding('utf8');
    s.setTimeout(5000, () => s.destroy(new Error(`no answer from ${host}:${port}`)));
    s.on('data', (d: string) => { got += d; if (got.length >= text.length) { s.destroy(); resolve(got); } });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
  });
}

function udpRoundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error(`no UDP answer from ${host}:${port}`)); }, 5000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(m.toString()); });
    s.on('error', (err) => { clearTimeout(timer); s.close(); reject(err); });
    s.send(text, port, host);
  });
}

/** A host TCP listener standing in for "another program" on that port (0: any free port). */
async function hostListener(port: number, host = '0.0.0.0'): Promise<Server> {
  const srv = createServer((c) => c.destroy());
  srv.listen({ port, host });
  await once(srv, 'listening');
  return srv;
}

async function closeServer(srv: Server): Promise<void> {
  if (srv.listening) await new Promise<void>((r) => srv.close(() => r()));
}

async function portOf(srv: Server): Promise<number> {
  return (srv.address() as { port: number }).port;
}

/** Whether a host program could take the port now. */
async function canBind(port: number): Promise<boolean> {
  try { await closeServer(await hostListener(port)); return true; } catch { return false; }
}

async function tableText(table: string): Promise<string> {
  const r = await runTool('nft', ['list', 'table', 'ip', table]);
  return r.code === 0 ? r.stdout : '';
}

async function ourTables(id: string): Promise<string[]> {
  return (await mustRun('nft', ['list', 'tables'])).split('\n').filter((l) => l.includes(id));
}

function isError(re: RegExp) {
  return (err: unknown) => err instanceof EngineError && re.test(err.message);
}

async function assertAllGone(f: Fixture): Promise<void> {
  assert.deepEqual(await ourTables(f.id), []);
  assert.equal(await getLink(f.bridge), undefined);
  assert.ok(!existsSync(`/run/netns/${f.ns}`));
  assert.ok(!existsSync(`/run/netns/${f.client}`));
}

/** Another container connecting through the host (the prerouting path). */
async function tcpFromNetns(ns: string, addr: string, port: number, text: string): Promise<string> {
  const [cmd, args] = inNetns(ns, 'busybox', ['nc', '-w', '3', addr, String(port)]);
  return (await runTool(cmd, args, text)).stdout;
}

test('TCP and UDP published ports round-trip from 127.0.0.1 and the host address; unpublish frees them', async () => {
  const f = await fixture();
  const pub = new PortPublisher({ table: f.table });
  f.cleanup.push(() => pub.close(true));
  try {
    // A fixed port known free right now, and a random one for each protocol.
    const probe = await hostListener(0);
    const fixed = await portOf(probe);
    await closeServer(probe);
    const target = { containerId: `ctr-${f.id}`, endpointName: `c-${f.id}`, containerIp: f.containerIp, bridge: f.bridge };
    const got = await pub.publish(target, [
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: fixed },
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 0 },
      { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPort: 0 },
    ]);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: fixed });
    const range = await localPortRange();
    for (const p of got.slice(1)) assert.ok(p.hostPort >= range.low && p.hostPort <= range.high, `${p.hostPort} in ip_local_port_range`);
    const [, randomTcp, randomUdp] = got.map((p) => p.hostPort) as [number, number, number];

    const hostIp = await hostAddress(f);
    assert.equal(await tcpRoundTrip('127.0.0.1', fixed, 'via loopback'), 'via loopback');
    assert.equal(await tcpRoundTrip(hostIp, fixed, 'via host address'), 'via host address');
    assert.equal(await tcpRoundTrip('127.0.0.1', randomTcp, 'random tcp'), 'random tcp');
    assert.equal(await udpRoundTrip('127.0.0.1', randomUdp, 'udp loopback'), 'udp loopback');
    assert.equal(await udpRoundTrip(hostIp, randomUdp, 'udp host address'), 'udp host address');
    assert.equal(await tcpFromNetns(f.client, f.gateway, fixed, 'from a container\n'), 'from a container\n');
    assert.equal(await tcpFromNetns(f.client, hostIp, fixed, 'to the host address\n'), 'to the host address\n');
    assert.equal(await runTool('cat', [`/proc/sys/net/ipv4/conf/${f.bridge}/route_localnet`]).then((r) => r.stdout.trim()), '1');

    // The port is held: another program cannot take it, nor can another container.
    assert.equal(await canBind(fixed), false);
    const other = { containerId: `other-${f.id}`, endpointName: `o-${f.id}`, containerIp: f.containerIp, bridge: f.bridge };
    await assert.rejects(pub.publish(other, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: fixed }]),
      isError(new RegExp(`^driver failed programming external connectivity on endpoint o-${f.id} \\(other-${f.id}\\): Bind for 0\\.0\\.0\\.0:${fixed} failed: port is already allocated$`)));
    // A specific address overlaps 0.0.0.0 too.
    await assert.rejects(pub.publish(other, [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: fixed }]),
      isError(/Bind for 127\.0\.0\.1:\d+ failed: port is already allocated$/));
    assert.doesNotMatch(await tableText(f.table), new RegExp(`other-${f.id}`));

    const rules = await tableText(f.table);
    assert.match(rules, new RegExp(`tcp dport ${fixed} dnat (ip )?to ${f.containerIp.replaceAll('.', '\\.')}:80`));
    assert.match(rules, new RegExp(`udp dport ${randomUdp} dnat (ip )?to ${f.containerIp.replaceAll('.', '\\.')}:53`));

    await pub.unpublish(target.containerId);
    await pub.unpublish(target.containerId); // unknown now: a no-op
    assert.equal(await canBind(fixed), true, 'the port is free again');
    assert.equal(await canBind(randomTcp), true);
    assert.equal(await tableText(f.table), '', 'no rules left: the table is gone');
    await assert.rejects(tcpRoundTrip('127.0.0.1', fixed, 'x'));
  } finally {
    await f.cleanup.run();
  }
  await assertAllGone(f);
});

test('a port held by a host program fails with dockerd\'s error; nothing of the call remains', async () => {
  const f = await fixture();
  const pub = new PortPublisher({ table: f.table });
  f.cleanup.push(() => pub.close(true));
  const squatter = await hostListener(0);
  f.cleanup.push(() => closeServer(squatter));
  try {
    const busy = await portOf(squatter);
    const probe = await hostListener(0);
    const free = await portOf(probe);
    await closeServer(probe);
    const target = { containerId: `ctr-${f.id}`, endpointName: `c-${f.id}`, containerIp: f.containerIp, bridge: f.bridge };
    // Nothing asked: nothing made (not even an empty table).
    assert.deepEqual(await pub.publish(target, []), []);
    assert.equal(await tableText(f.table), '');
    await assert.rejects(pub.publish(target, [
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: free }, // succeeds, then must be undone
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: busy },
    ]), isError(new RegExp(`^driver failed programming external connectivity on endpoint c-${f.id} \\(ctr-${f.id}\\): failed to bind host port for 0\\.0\\.0\\.0:${busy}:${f.containerIp.replaceAll('.', '\\.')}:80/tcp: address already in use$`)));
    assert.equal(await canBind(free), true, 'the first port was released');
    assert.equal(await tableText(f.table), '', 'no rule was installed');

    // A failure after the sockets are bound (no such bridge) releases them too.
    await assert.rejects(pub.publish({ ...target, bridge: `bx${f.id}` }, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: free }]),
      isError(/^driver failed programming external connectivity on endpoint c-\w+ \(ctr-\w+\): /));
    assert.equal(await canBind(free), true);
    assert.equal(await tableText(f.table), '');

    // A range skips the busy port and takes the next free one.
    const got = await pub.publish(target, [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: busy, hostPortEnd: busy + 20 }]);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.hostPort > busy && got[0]!.hostPort <= busy + 20);
    assert.equal(got[0]!.hostIp, '127.0.0.1');
    assert.equal(await tcpRoundTrip('127.0.0.1', got[0]!.hostPort, 'ranged'), 'ranged');
    assert.match(await tableText(f.table), new RegExp(`ip daddr 127\\.0\\.0\\.1 tcp dport ${got[0]!.hostPort} dnat`));
  } finally {
    await f.cleanup.run();
  }
  await assertAllGone(f);
});

test('rules outlive the daemon; restore re-holds the ports; close(true) removes the table', async () => {
  const f = await fixture();
  let pub = new PortPublisher({ table: f.table });
  f.cleanup.push(() => pub.close(true));
  try {
    const target = { containerId: `ctr-${f.id}`, endpointName: `c-${f.id}`, containerIp: f.containerIp, bridge: f.bridge };
    const ports = await pub.publish(target, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 0 }]);
    const port = ports[0]!.hostPort;

    // "berthd stops": sockets go, rules stay, traffic still flows.
    await pub.close(false);
    assert.equal(await tcpRoundTrip('127.0.0.1', port, 'daemon down'), 'daemon down');
    assert.equal(await canBind(port), true);

    // "berthd starts again" with the container's record.
    pub = new PortPublisher({ table: f.table });
    await pub.restore([{ containerId: target.containerId, containerIp: f.containerIp, bridge: f.bridge, ports }]);
    assert.equal(await canBind(port), false, 'held again');
    assert.equal(await tcpRoundTrip('127.0.0.1', port, 'restored'), 'restored');
    await assert.rejects(pub.publish({ ...target, containerId: `x-${f.id}` }, [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: port }]),
      isError(/port is already allocated$/));

    await pub.close(true);
    assert.equal(await tableText(f.table), '');
    assert.equal(await canBind(port), true);
  } finally {
    await f.cleanup.run();
  }
  await assertAllGone(f);
});

test('a published port is reached from another host (prerouting) and by the container itself (hairpin)', async () => {
  const f = await fixture();
  const pub = new PortPublisher({ table: f.table });
  f.cleanup.push(() => pub.close(true));
  const nsOut = `bt-${f.id}-o`;
  const uplink = `bo${f.id}`;
  try {
    // The "other host": its own namespace on a private /30 from the root namespace.
    const link = await freeTestSubnet(30);
    const hostSide = formatIPv4(link.base + 1);
    const outSide = formatIPv4(link.base + 2);
    f.cleanup.push(() => deleteNamedNetns(nsOut));
    await addNamedNetns(nsOut);
    f.cleanup.push(() => runTool('ip', ['link', 'del', 'dev', uplink]));
    await ip(['link', 'add', 'name', uplink, 'type', 'veth', 'peer', 'name', `bp${f.id}`]);
    await ip(['link', 'set', 'dev', `bp${f.id}`, 'netns', nsOut]);
    await ip(['addr', 'add', `${hostSide}/30`, 'dev', uplink]);
    await ip(['link', 'set', 'dev', uplink, 'up']);
    await ip(['addr', 'add', `${outSide}/30`, 'dev', `bp${f.id}`], nsOut);
    await ip(['link', 'set', 'dev', `bp${f.id}`, 'up'], nsOut);
    const forward = (await runTool('cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim();
    if (forward !== '1') {
      f.cleanup.push(() => runTool('sysctl', ['-w', `net.ipv4.ip_forward=${forward}`]));
      await mustRun('sysctl', ['-w', 'net.ipv4.ip_forward=1']);
    }

    // A random port asked first still leaves the fixed one to its own request; results keep the request order.
    const probe = await hostListener(0);
    const fixed = await portOf(probe);
    await closeServer(probe);
    const target = { containerId: `ctr-${f.id}`, endpointName: `c-${f.id}`, containerIp: f.containerIp, bridge: f.bridge };
    const got = await pub.publish(target, [
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 0 },
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: fixed },
    ]);
    assert.equal(got[1]!.hostPort, fixed);
    assert.notEqual(got[0]!.hostPort, fixed);

    assert.equal(await tcpFromNetns(nsOut, hostSide, fixed, 'from elsewhere\n'), 'from elsewhere\n');
    // The container reaching itself through the host needs hairpin mode on its bridge port
    // (the bridge's netfilter hook sends the rewritten frame back out the port it came in on).
    await ip(['link', 'set', 'dev', hostVethName(`ctr-${f.id}`, `net-${f.id}`), 'type', 'bridge_slave', 'hairpin', 'on']);
    assert.equal(await tcpFromNetns(f.ns, f.gateway, got[0]!.hostPort, 'to myself\n'), 'to myself\n');

    await pub.unpublish(target.containerId);
    assert.equal(await tcpFromNetns(nsOut, hostSide, fixed, 'gone\n'), '');
  } finally {
    await f.cleanup.run();
  }
  await assertAllGone(f);
  assert.ok(!existsSync(`/run/netns/${nsOut}`));
  assert.equal(await getLink(uplink), undefined);
});
