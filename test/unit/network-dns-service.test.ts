// The per-network embedded DNS with real bridges, namespaces, veths and nft: containers
// ask 127.0.0.11 inside their netns and are answered by the listener on the gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLASS_IN, RCODE, TYPE, decodeMessage, encodeMessage } from '../../src/network/dns-codec.ts';
import { NetworkDns } from '../../src/network/network-dns.ts';
import type { DnsDirectory } from '../../src/network/network-dns.ts';
import { parseResolvConf } from '../../src/network/network-dns-upstreams.ts';
import { redirectRuleset } from '../../src/network/network-dns-redirect.ts';
import { deleteBridge, ensureBridge } from '../../src/network/bridge.ts';
import { addNamedNetns, deleteNamedNetns } from '../../src/network/netns.ts';
import { attachVeth, detachVeth } from './network-kit.ts';
import { formatIPv4 } from '../../src/network/subnets.ts';
import { Cleanup, freeTestSubnet, uniq } from './network-kit.ts';

interface Box { id: string; name: string; aliases: string[]; ips: Map<string, string>; ns: string }
interface Net { id: string; gateway: string; bridge: string; prefix: number; host: (n: number) => string }

const cleanup = new Cleanup();
const u = uniq();
let dir = '';
let stateFile = '';
let clientScript = '';
const nets: Record<'a' | 'b', Net> = {} as Record<'a' | 'b', Net>;
const boxes: Box[] = [];
let upstreamList: Array<{ address: string; port: number }> = [];
const upstreamSeen: string[] = [];
let dns: NetworkDns;
const directoryCalls: string[] = [];

// What berthd's container store would answer: names of containers sharing the network,
// and only when the asker really is on that network.
const directory: DnsDirectory = {
  lookup(networkId, clientIp, name) {
    directoryCalls.push(`${networkId} ${clientIp} ${name}`);
    if (!boxes.some((b) => b.ips.get(networkId) === clientIp)) return [];
    const out: string[] = [];
    for (const b of boxes) {
      const ip = b.ips.get(networkId);
      if (!ip) continue;
      if ([b.name, b.id.slice(0, 12), ...b.aliases].some((n) => n.toLowerCase() === name)) out.push(ip);
    }
    return out;
  },
  reverse(networkId, clientIp, ip) {
    if (!boxes.some((b) => b.ips.get(networkId) === clientIp)) return [];
    const b = boxes.find((x) => x.ips.get(networkId) === ip);
    return b ? [b.name] : [];
  },
};

const newDns = () => new NetworkDns({ directory, stateFile, upstreams: () => upstreamList });

/** A host-side upstream on loopback: reachable only because the listener forwards from the host namespace. */
async function startUpstream(): Promise<{ port: number; close: () => Promise<void> }> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  udp.on('message', (m, rinfo) => {
    const q = decodeMessage(m);
    const name = q.questions[0]!.name;
    upstreamSeen.push(name);
    const known = name === 'example.test';
    udp.send(encodeMessage({
      id: q.id, flags: { ...q.flags, qr: true, ra: true, rcode: known ? RCODE.NOERROR : RCODE.NXDOMAIN },
      questions: q.questions, authority: [], additional: [],
      answers: known ? [{ name, type: TYPE.A, class: CLASS_IN, ttl: 60, data: '198.51.100.7' }] : [],
    }), rinfo.port, rinfo.address);
  });
  return { port: udp.address().port, close: () => new Promise<void>((r) => udp.close(() => r())) };
}

// The resolver client run inside a namespace: prints {rcode, answers} or {error}.
const CLIENT = `
import dgram from 'node:dgram';
import net from 'node:net';
import { encodeMessage, decodeMessage, emptyFlags, CLASS_IN } from ${JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, '../../src/network/dns-codec.ts')).href)};
const [transport, name, type] = process.argv.slice(2);
const q = encodeMessage({ id: 4242, flags: { ...emptyFlags(), rd: true }, questions: [{ name, type: Number(type), class: CLASS_IN }], answers: [], authority: [], additional: [] });
const done = (buf) => {
  const m = decodeMessage(buf);
  console.log(JSON.stringify({ rcode: m.flags.rcode, answers: m.answers.map((a) => String(a.data)) }));
  process.exit(0);
};
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(0); }, 4000);
if (transport === 'udp') {
  const s = dgram.createSocket('udp4');
  s.on('message', done);
  s.send(q, 53, '127.0.0.11');
} else {
  const c = net.connect({ host: '127.0.0.11', port: 53 });
  let buf = Buffer.alloc(0);
  c.on('error', (e) => { console.log(JSON.stringify({ error: e.code })); process.exit(0); });
  c.on('connect', () => { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); c.write(Buffer.concat([l, q])); });
  c.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2)); });
}
`;

/** Runs without blocking our event loop: the server answering lives in this process. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('error', reject);
    c.on('close', () => resolve(out + err));
  });
}

interface Answer { rcode?: number; answers?: string[]; error?: string }
async function ask(box: Box, name: string, transport: 'udp' | 'tcp' = 'udp', type: number = TYPE.A): Promise<Answer> {
  const out = await run('nsenter', [`--net=/run/netns/${box.ns}`, process.execPath, clientScript, transport, name, String(type)]);
  try { return JSON.parse(out) as Answer; } catch { return { error: out }; }
}

const box = (name: string) => boxes.find((b) => b.name === name)!;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-netdns-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  stateFile = path.join(dir, 'dns-ports.json');
  clientScript = path.join(dir, 'client.mjs');
  writeFileSync(clientScript, CLIENT);
  for (const k of ['a', 'b'] as const) {
    const sub = await freeTestSubnet();
    const host = (n: number) => formatIPv4((sub.base + n) >>> 0);
    const n: Net = { id: `net${k}${u}`, gateway: host(1), bridge: `btdns${k}${u}`, prefix: sub.prefix, host };
    cleanup.push(() => deleteBridge(n.bridge));
    await ensureBridge({ name: n.bridge, address: `${n.gateway}/${n.prefix}`, network: n.id });
    nets[k] = n;
  }
  // c1, c2 on a; c3 on b; c4 on b (eth0) then a (eth1)
  const plan: Array<[string, string[], Array<'a' | 'b'>]> = [['c1', [], ['a']], ['c2', ['c2-alias'], ['a']], ['c3', [], ['b']], ['c4', [], ['b', 'a']]];
  let i = 10;
  for (const [name, aliases, on] of plan) {
    const b: Box = { id: `${u}${name}`.padEnd(64, '0').replace(/[^0-9a-f]/g, 'e'), name, aliases, ips: new Map(), ns: `btdns-${u}-${name}` };
    cleanup.push(() => deleteNamedNetns(b.ns));
    await addNamedNetns(b.ns);
    for (const [j, k] of on.entries()) {
      const n = nets[k];
      const ip = n.host(i++);
      const ep = await attachVeth({ containerId: b.id, network: n.id, bridge: n.bridge, netns: b.ns, address: ip, prefix: n.prefix, ifname: `eth${j}`, gateway: j === 0 ? n.gateway : undefined });
      cleanup.push(() => detachVeth(ep.hostIfname));
      b.ips.set(n.id, ip);
    }
    boxes.push(b);
  }
  const up = await startUpstream();
  cleanup.push(() => up.close());
  upstreamList = [{ address: '127.0.0.1', port: up.port }];
  // something already holds gateway b's port 53 (UDP only): b must fall back to a random port
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(53, nets.b.gateway, () => r()));
  cleanup.push(() => new Promise<void>((r) => blocker.close(() => r())));
  dns = newDns();
  cleanup.push(() => dns.close());
  await Promise.all([dns.serveNetwork(nets.a.id, nets.a.gateway), dns.serveNetwork(nets.b.id, nets.b.gateway)]);
  await dns.serveNetwork(nets.a.id, nets.a.gateway); // idempotent
  // issued in parallel, as a daemon may: the first call (eth0's network) still wins 127.0.0.11
  await Promise.all(boxes.flatMap((b) => [...b.ips].map(([netId, ip], j) => dns.attachContainer(b.ns, netId, ip, `eth${j}`))));
});

after(() => cleanup.run());

test('ports: 53 when free on the gateway, else a random one; remembered in the state file', () => {
  assert.equal(dns.portOf(nets.a.id), 53);
  const pb = dns.portOf(nets.b.id);
  assert.ok(pb !== undefined && pb !== 53 && pb > 0);
  assert.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { [nets.a.id]: 53, [nets.b.id]: pb });
});

test('container names, aliases and short ids resolve at 127.0.0.11, case-insensitively', async () => {
  const c2 = box('c2').ips.get(nets.a.id)!;
  assert.deepEqual(await ask(box('c1'), 'c2'), { rcode: RCODE.NOERROR, answers: [c2] });
  assert.deepEqual(await ask(box('c1'), 'C2-Alias'), { rcode: RCODE.NOERROR, answers: [c2] });
  assert.deepEqual(await ask(box('c1'), box('c2').id.slice(0, 12)), { rcode: RCODE.NOERROR, answers: [c2] });
  // the server saw the container's own address, not 127.0.0.1
  assert.ok(directoryCalls.includes(`${nets.a.id} ${box('c1').ips.get(nets.a.id)} c2`), directoryCalls.join('\n'));
  // a real resolver, too
  const bb = await run('nsenter', [`--net=/run/netns/${box('c2').ns}`, '/bin/busybox', 'nslookup', '-type=a', 'c1', '127.0.0.11']);
  assert.match(bb, new RegExp(box('c1').ips.get(nets.a.id)!.replace(/\./g, '\\.')));
});

test('AAAA for our names is empty NOERROR; PTR names our addresses; TCP works', async () => {
  const c2 = box('c2').ips.get(nets.a.id)!;
  assert.deepEqual(await ask(box('c1'), 'c2', 'udp', TYPE.AAAA), { rcode: RCODE.NOERROR, answers: [] });
  const rev = c2.split('.').reverse().join('.') + '.in-addr.arpa';
  assert.deepEqual(await ask(box('c1'), rev, 'udp', TYPE.PTR), { rcode: RCODE.NOERROR, answers: ['c2'] });
  assert.deepEqual(await ask(box('c1'), 'c2', 'tcp'), { rcode: RCODE.NOERROR, answers: [c2] });
  assert.ok(directoryCalls.includes(`${nets.a.id} ${box('c1').ips.get(nets.a.id)} c2`));
});

test('other names go to the host upstream (loopback works: we forward from the host)', async () => {
  assert.deepEqual(await ask(box('c1'), 'example.test'), { rcode: RCODE.NOERROR, answers: ['198.51.100.7'] });
  assert.deepEqual(await ask(box('c3'), 'example.test', 'tcp'), { rcode: RCODE.NOERROR, answers: ['198.51.100.7'] });
  assert.equal((await ask(box('c1'), 'nothing-here')).rcode, RCODE.NXDOMAIN);
  assert.ok(upstreamSeen.includes('nothing-here'));
});

test('isolation: a container does not learn names of networks it is not on', async () => {
  assert.equal((await ask(box('c3'), 'c1')).rcode, RCODE.NXDOMAIN);
  assert.equal((await ask(box('c1'), 'c3')).rcode, RCODE.NXDOMAIN);
  assert.deepEqual(await ask(box('c3'), 'c4'), { rcode: RCODE.NOERROR, answers: [box('c4').ips.get(nets.b.id)!] });
});

test('a second network keeps 127.0.0.11 on the first; detaching the first moves it', async () => {
  // c4 is on b (eth0, first) and a (eth1): it asks as its b address
  assert.deepEqual(await ask(box('c4'), 'c3'), { rcode: RCODE.NOERROR, answers: [box('c3').ips.get(nets.b.id)!] });
  assert.equal((await ask(box('c4'), 'c1')).rcode, RCODE.NXDOMAIN);
  await dns.detachContainer(box('c4').ns, nets.b.id);
  assert.deepEqual(await ask(box('c4'), 'c1'), { rcode: RCODE.NOERROR, answers: [box('c1').ips.get(nets.a.id)!] });
  // back as it was, for the tests after this one
  await dns.detachContainer(box('c4').ns, nets.a.id);
  await dns.attachContainer(box('c4').ns, nets.b.id, box('c4').ips.get(nets.b.id)!, 'eth0');
  await dns.attachContainer(box('c4').ns, nets.a.id, box('c4').ips.get(nets.a.id)!, 'eth1');
  assert.deepEqual(await ask(box('c4'), 'c3'), { rcode: RCODE.NOERROR, answers: [box('c3').ips.get(nets.b.id)!] });
});

// c1 listens on 0.0.0.0:7777; c2 sends "loopback" to 127.0.0.99 routed via c1's eth0, then
// "marker" to c1's address over the same path: once the marker is in, so would the other be.
const LISTENER = `
const s = require('node:dgram').createSocket('udp4');
const got = [];
s.on('message', (m) => { got.push(String(m)); if (String(m) === 'marker') { console.log(JSON.stringify(got)); process.exit(0); } });
s.bind(7777, '0.0.0.0', () => console.log('ready'));
setTimeout(() => { console.log(JSON.stringify(got)); process.exit(0); }, 5000);
`;
const SENDER = `
const s = require('node:dgram').createSocket('udp4');
s.send('loopback', 7777, '127.0.0.99', () => s.send('marker', 7777, process.argv[2], () => s.close()));
`;

async function probeLoopback(from: Box, to: Box): Promise<string[]> {
  const toIp = to.ips.get(nets.a.id)!;
  writeFileSync(path.join(dir, 'listener.cjs'), LISTENER);
  writeFileSync(path.join(dir, 'sender.cjs'), SENDER);
  const l = spawn('nsenter', [`--net=/run/netns/${to.ns}`, process.execPath, path.join(dir, 'listener.cjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const closed = new Promise<void>((r) => l.on('close', () => r()));
  await new Promise<void>((resolve) => l.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) resolve(); }));
  await run('nsenter', [`--net=/run/netns/${from.ns}`, process.execPath, path.join(dir, 'sender.cjs'), toIp]);
  await closed;
  return JSON.parse(out.slice(out.indexOf('ready') + 5)) as string[];
}

test('route_localnet is guarded: a neighbour cannot reach a container\'s loopback', async () => {
  const [c1, c2] = [box('c1'), box('c2')];
  const inNs = (b: Box, script: string) => execFileSync('nsenter', [`--net=/run/netns/${b.ns}`, '/bin/sh', '-c', script], { encoding: 'utf8' });
  assert.equal(inNs(c1, 'cat /proc/sys/net/ipv4/conf/eth0/route_localnet').trim(), '1');
  assert.match(inNs(c1, 'nft list table ip berth-dns'), new RegExp(`comment "berth-net:${nets.a.id}"`));
  // c2 sends 127.0.0.99 to c1 (policy routing ahead of the local table)
  inNs(c2, `ip rule add pref 100 lookup local && ip rule del pref 0 && ip rule add to 127.0.0.99 lookup 100 pref 10 && ip route add 127.0.0.99/32 via ${c1.ips.get(nets.a.id)} dev eth0 table 100`);
  try {
    assert.deepEqual(await probeLoopback(c2, c1), ['marker']);
    // control: without the guard the packet does get in, so the probe above proves something
    inNs(c1, 'nft flush chain ip berth-dns guard_in');
    assert.deepEqual(await probeLoopback(c2, c1), ['loopback', 'marker']);
  } finally {
    await dns.attachContainer(c1.ns, nets.a.id, c1.ips.get(nets.a.id)!, 'eth0'); // same network: rewritten
    inNs(c2, 'ip rule del pref 10; ip route flush table 100; ip rule add pref 0 lookup local; ip rule del pref 100');
  }
  assert.deepEqual(await probeLoopback(c2, c1), ['marker']);
  assert.deepEqual(await ask(c1, 'c2'), { rcode: RCODE.NOERROR, answers: [c2.ips.get(nets.a.id)!] });
});

test('without upstreams, unknown names are SERVFAIL (as Docker)', async () => {
  const saved = upstreamList;
  upstreamList = [];
  try {
    assert.equal((await ask(box('c1'), 'example.test')).rcode, RCODE.SERVFAIL);
    assert.deepEqual((await ask(box('c1'), 'c2')).answers, [box('c2').ips.get(nets.a.id)!]);
  } finally { upstreamList = saved; }
});

test('a restart binds the same ports and attached containers resolve without re-attaching', async () => {
  const before = { a: dns.portOf(nets.a.id), b: dns.portOf(nets.b.id) };
  await dns.close();
  assert.equal((await ask(box('c1'), 'c2', 'tcp')).error, 'ECONNREFUSED'); // nothing listens now
  dns = newDns();
  await dns.serveNetwork(nets.b.id, nets.b.gateway);
  await dns.serveNetwork(nets.a.id, nets.a.gateway);
  assert.deepEqual({ a: dns.portOf(nets.a.id), b: dns.portOf(nets.b.id) }, before);
  assert.deepEqual(await ask(box('c1'), 'c2'), { rcode: RCODE.NOERROR, answers: [box('c2').ips.get(nets.a.id)!] });
  assert.deepEqual(await ask(box('c3'), 'c4', 'tcp'), { rcode: RCODE.NOERROR, answers: [box('c4').ips.get(nets.b.id)!] });
  // attaching a container not yet served is refused; stopping a network forgets its port
  await assert.rejects(dns.attachContainer(box('c1').ns, 'no-such-net', '10.0.0.9'), /not serving/);
  await dns.stopNetwork(nets.b.id);
  assert.equal(dns.portOf(nets.b.id), undefined);
  assert.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { [nets.a.id]: 53 });
});

test('bad names never reach the shell', async () => {
  await assert.rejects(dns.attachContainer('x; rm -rf /', nets.a.id, '10.0.0.2'), /invalid/);
  await assert.rejects(dns.attachContainer(box('c1').ns, nets.a.id, '10.0.0.2', '../all'), /invalid/);
  await assert.rejects(dns.attachContainer(box('c1').ns, nets.a.id, '10.0.0.999'), /not an IPv4/);
  await assert.rejects(dns.serveNetwork('n"et', '10.0.0.1'), /invalid/);
  assert.match(redirectRuleset({ networkId: 'n', gateway: '10.1.0.1', port: 5353, containerIp: '10.1.0.2', ifname: 'eth0' }), /dnat to 10\.1\.0\.1:5353/);
});

test('resolv.conf parsing keeps loopback nameservers', () => {
  assert.deepEqual(parseResolvConf('nameserver 127.0.0.53\n# c\nnameserver 10.1.2.3\nnameserver bogus\n'), [
    { address: '127.0.0.53', port: 53 }, { address: '10.1.2.3', port: 53 },
  ]);
  assert.ok(net.isIP('127.0.0.53'));
});
