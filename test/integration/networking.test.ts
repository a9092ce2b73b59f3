// berth's networking over real traffic, through the real docker CLI: names and aliases on a
// user network (embedded DNS), published TCP and UDP ports reached from the host, a port
// already taken, isolation between networks and of --internal ones, masquerade towards an
// outside host (a netns joined by a veth), a daemon killed and restarted under
// --live-restore, and what a stopped daemon leaves behind (nothing).
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDaemon, run, REPO, type TestDaemon } from '../helpers/daemon.ts';
import { until } from '../helpers/until.ts';
import { freeTestSubnet } from '../unit/network-kit.ts';
import { formatIPv4 } from '../../src/network/subnets.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const n = (name: string) => `nw-${tag}-${name}`;
const NODE = join(REPO, 'node_modules', 'node', 'bin', 'node');
// httpd serving one page whose body names the container; exec'd as pid 1.
const httpd = (body: string) => ['sh', '-c', `mkdir -p /w && echo ${body} > /w/index.html && exec httpd -f -p 80 -h /w`];
const GET = `printf 'GET / HTTP/1.0\\r\\n\\r\\n'`;

before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

async function ok(args: string[], dm: TestDaemon = d): Promise<string> {
  const r = await dm.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}


/** The host's own non-loopback IPv4 address (on eth0 here). */
function hostAddress(): string {
  const ifs = networkInterfaces();
  const order = ['eth0', ...Object.keys(ifs).filter((k) => k !== 'eth0')];
  for (const name of order) {
    const a = ifs[name]?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a && !name.startsWith('bt') && !name.startsWith('br-') && !name.startsWith('berth')) return a.address;
  }
  throw new Error('no non-loopback IPv4 address on this host');
}

/** One HTTP/1.0 GET over a raw TCP connection; the whole answer, or '' on any error/timeout. */
function httpGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); resolve(''); }, timeoutMs);
    s.on('connect', () => s.write('GET / HTTP/1.0\r\n\r\n'));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => { clearTimeout(timer); resolve(''); });
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString()); });
  });
}

function listen(port: number, host: string, greeting = ''): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((c) => { c.resume(); c.end(greeting); }); // read: a paused socket never sees the FIN, and close() would wait for it
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => resolve(srv));
  });
}
const closeServer = (s: Server) => new Promise<void>((r) => s.close(() => r()));

/** A TCP port nothing listens on right now (the kernel's pick, released). */
async function freePort(): Promise<number> {
  const s = await listen(0, '0.0.0.0');
  const port = (s.address() as { port: number }).port;
  await closeServer(s);
  return port;
}

async function vethAliases(): Promise<string[]> {
  const links = JSON.parse((await run('ip', ['-j', '-d', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string; ifalias?: string }>;
  return links.map((l) => l.ifalias ?? '').filter((a) => a.startsWith('berth-veth:'));
}
async function netnsNames(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}
async function linkNames(): Promise<string[]> {
  return (JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
}
async function nftTables(): Promise<string[]> {
  return (await run('nft', ['list', 'tables'])).stdout.split('\n').map((l) => l.trim().split(/\s+/)[2] ?? '').filter(Boolean);
}

async function ipOf(ref: string, network: string, dm: TestDaemon = d): Promise<string> {
  const ip = await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, ref], dm);
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/, `${ref} has an address on ${network}`);
  return ip;
}

/** sh -c in a running container; stdout+stderr and the exit code. */
async function sh(ref: string, script: string, dm: TestDaemon = d): Promise<{ code: number; out: string }> {
  const r = await dm.docker(['exec', ref, 'sh', '-c', script], { timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Waits until httpd answers from inside `client` (a container start is not readiness). */
async function untilServes(client: string, target: string, body: string, dm: TestDaemon = d, port = 80): Promise<void> {
  await until(`${target}:${port} serving ${body} to ${client}`, async () => (await sh(client, `${GET} | nc -w 2 ${target} ${port}`, dm)).out.includes(body));
}

/**
 * A DNS server for the outside host (UDP 53): every A question is answered with
 * OUTSIDE_ANSWER, every other type with an empty answer.
 */
const OUTSIDE_ANSWER = '10.9.8.7';
const DNS_SERVER = `
const u = require('dgram').createSocket('udp4');
u.on('message', (q, peer) => {
  let i = 12;
  while (q[i] !== 0) i += q[i] + 1;
  const qtype = q.readUInt16BE(i + 1);
  const question = q.subarray(12, i + 5);
  const head = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, qtype === 1 ? 1 : 0, 0, 0, 0, 0]);
  const answer = qtype === 1 ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ${OUTSIDE_ANSWER.split('.').join(', ')}]) : Buffer.alloc(0);
  u.send(Buffer.concat([head, question, answer]), peer.port, peer.address);
});
u.bind(53, '0.0.0.0');`;

/**
 * An "outside" host: a network namespace joined to the host by a veth pair on a free /30
 * (host .1, outside .2), running a TCP server on PORT that answers every connection with
 * the peer address it saw, and a DNS server (DNS_SERVER). No route back to the containers'
 * subnets: only masquerade works.
 */
async function outsideHost(t: TestContext): Promise<{ ip: string; hostSide: string; port: number }> {
  const subnet = await freeTestSubnet(30);
  const hostSide = formatIPv4(subnet.base + 1);
  const ip = formatIPv4(subnet.base + 2);
  const id = randomBytes(3).toString('hex');
  const ns = `bnt-out-${id}`;
  const vh = `bnto${id}`;
  const must = async (args: string[]) => {
    const r = await run('ip', args);
    assert.equal(r.code, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };
  t.after(async () => {
    await run('ip', ['link', 'del', vh]);
    await run('ip', ['netns', 'delete', ns]);
  });
  await must(['netns', 'add', ns]);
  await must(['link', 'add', vh, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await must(['addr', 'add', `${hostSide}/30`, 'dev', vh]);
  await must(['link', 'set', vh, 'up']);
  await must(['-n', ns, 'addr', 'add', `${ip}/30`, 'dev', 'eth0']);
  await must(['-n', ns, 'link', 'set', 'eth0', 'up']);
  await must(['-n', ns, 'link', 'set', 'lo', 'up']);
  const port = 7000 + Math.floor(Math.random() * 1000);
  const script = `require('net').createServer((c) => c.end('peer=' + c.remoteAddress + '\\n')).listen(${port}, '0.0.0.0', () => console.log('ready'));${DNS_SERVER}`;
  const srv = spawn('ip', ['netns', 'exec', ns, NODE, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => new Promise<void>((r) => {
    if (srv.exitCode !== null || srv.signalCode !== null) return r();
    srv.once('exit', () => r());
    srv.kill('SIGKILL');
  }));
  await new Promise<void>((resolve, reject) => {
    srv.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('ready')) resolve(); });
    srv.once('exit', (code) => reject(new Error(`the outside server exited with ${code}`)));
  });
  return { ip, hostSide, port };
}

test('containers on a user network reach each other by name, alias and embedded DNS; other networks do not resolve', async (t) => {
  const net = n('talk');
  const other = n('elsewhere');
  t.after(async () => {
    await d.docker(['rm', '-f', n('web'), n('client'), n('stranger')]);
    await d.docker(['network', 'rm', net, other]);
  });
  await ok(['network', 'create', net]);
  await ok(['network', 'create', other]);
  await ok(['run', '-d', '--name', n('web'), '--network', net, '--network-alias', 'www-alias', 'busybox', ...httpd('hello-from-web')]);
  await ok(['run', '-d', '--name', n('client'), '--network', net, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('stranger'), '--network', other, 'busybox', 'sleep', '600']);
  const webIp = await ipOf(n('web'), net);

  await untilServes(n('client'), n('web'), 'hello-from-web');
  const byAlias = await sh(n('client'), `${GET} | nc -w 2 www-alias 80`);
  assert.match(byAlias.out, /^HTTP\/1\.[01] 200 OK/, 'the alias reaches the same server');
  assert.match(byAlias.out, /hello-from-web/);

  const resolv = await sh(n('client'), 'cat /etc/resolv.conf');
  assert.match(resolv.out, /^nameserver 127\.0\.0\.11$/m);
  assert.match(resolv.out, /^options ndots:0$/m);
  for (const name of [n('web'), 'www-alias', `${n('web')}.${net}`]) {
    const r = await sh(n('client'), `nslookup ${name} 127.0.0.11`);
    assert.equal(r.code, 0, `nslookup ${name}: ${r.out}`);
    assert.match(r.out, new RegExp(`Address:\\s+${webIp.replace(/\./g, '\\.')}\\s*$`, 'm'), `nslookup ${name}`);
  }
  // The stranger is on another network: its name is unknown here, and vice versa.
  const miss = await sh(n('client'), `nslookup ${n('stranger')} 127.0.0.11`);
  assert.notEqual(miss.code, 0, `a container of another network resolved: ${miss.out}`);
  const strangerIp = await ipOf(n('stranger'), other);
  assert.ok(!miss.out.includes(strangerIp), miss.out);
  const back = await sh(n('stranger'), `nslookup ${n('web')} 127.0.0.11`);
  assert.notEqual(back.code, 0, back.out);
  assert.ok(!back.out.includes(webIp), back.out);
});

test('published ports serve the host at 127.0.0.1 and at its own address; port/ps show them; stop releases them', async (t) => {
  const fixed = await freePort();
  const name = n('pub');
  t.after(async () => { await d.docker(['rm', '-f', name]); });
  await ok(['run', '-d', '--name', name, '-p', '0:80', '-p', `127.0.0.1:${fixed}:80`, 'busybox', ...httpd('published-page')]);
  const portOut = await ok(['port', name]);
  const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(portOut);
  assert.ok(m, `docker port: ${portOut}`);
  const random = Number(m[1]);
  assert.match(portOut, new RegExp(`^80/tcp -> 127\\.0\\.0\\.1:${fixed}$`, 'm'));
  assert.equal((await ok(['port', name, '80/tcp'])).split('\n').sort().join('\n'), [`0.0.0.0:${random}`, `127.0.0.1:${fixed}`].sort().join('\n'));
  const ps = await ok(['ps', '--filter', `name=${name}`, '--format', '{{.Ports}}']);
  assert.ok(ps.includes(`0.0.0.0:${random}->80/tcp`), ps);
  assert.ok(ps.includes(`127.0.0.1:${fixed}->80/tcp`), ps);

  const hostIp = hostAddress();
  for (const [addr, port] of [['127.0.0.1', random], [hostIp, random], ['127.0.0.1', fixed]] as const) {
    const body = await until(`${addr}:${port} answering`, async () => {
      const r = await httpGet(addr, port);
      return r.includes('published-page') && r;
    });
    assert.match(body, /^HTTP\/1\.[01] 200 OK/, `${addr}:${port}`);
  }
  // The 127.0.0.1 binding is not on the host's other addresses.
  assert.ok(!(await httpGet(hostIp, fixed, 1500)).includes('published-page'), `${hostIp}:${fixed} must not be published`);

  await ok(['stop', '-t', '1', name]);
  assert.equal(await ok(['port', name]), '', 'a stopped container publishes nothing');
  // Both ports are free again, and a connection reaches the test's own listener (no DNAT left).
  const a = await listen(random, '0.0.0.0', 'mine-random');
  const b = await listen(fixed, '127.0.0.1', 'mine-fixed');
  try {
    assert.equal(await httpGet('127.0.0.1', random), 'mine-random');
    assert.equal(await httpGet(hostIp, random), 'mine-random');
    assert.equal(await httpGet('127.0.0.1', fixed), 'mine-fixed');
  } finally {
    await closeServer(a);
    await closeServer(b);
  }
});

test('-P and -p CTR pick host ports that serve; a port taken by another container is refused; restart keeps them; hairpin', async (t) => {
  const names = ['rand', 'rand-dup'].map(n);
  t.after(async () => { await d.docker(['rm', '-f', ...names]); });
  await ok(['run', '-d', '--name', n('rand'), '--expose', '80', '--expose', '8080', '-P', '-p', '81', 'busybox', ...httpd('random-page')]);
  const lines = (await ok(['port', n('rand')])).split('\n').sort();
  assert.equal(lines.length, 3, lines.join('\n'));
  const ports = new Map(lines.map((l) => {
    const m = /^(\d+)\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(l);
    assert.ok(m, l);
    return [Number(m[1]), Number(m[2])] as const;
  }));
  assert.deepEqual([...ports.keys()].sort((a, b) => a - b), [80, 81, 8080]);
  assert.equal(new Set(ports.values()).size, 3, 'three different host ports');
  const p80 = ports.get(80)!;
  await until('the -P port', async () => (await httpGet('127.0.0.1', p80)).includes('random-page'));
  // Another container asking for a host port berth already publishes: dockerd's message.
  const dup = await d.docker(['run', '-d', '--name', n('rand-dup'), '-p', `${p80}:80`, 'busybox', ...httpd('dup')]);
  assert.equal(dup.code, 125, dup.stdout);
  assert.match(dup.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p80} failed: port is already allocated`), dup.stderr);
  // The container reaches its own published port through the host's address (hairpin).
  const hostIp = hostAddress();
  await untilServes(n('rand'), hostIp, 'random-page', d, p80);
  // A restart re-publishes the same bindings (random ports included: the record keeps them).
  await ok(['restart', '-t', '0', n('rand')]);
  const again = (await ok(['port', n('rand')])).split('\n').sort();
  assert.equal(again.length, 3, again.join('\n'));
  const p80b = Number(/^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(again.join('\n'))?.[1]);
  await until('the port after a restart', async () => (await httpGet('127.0.0.1', p80b)).includes('random-page'));
  await until('the port at the host address after a restart', async () => (await httpGet(hostIp, p80b)).includes('random-page'));
});

test('a host port already in use fails docker run -p with 125 and leaves nothing behind', async (t) => {
  const holder = await listen(0, '0.0.0.0', 'holder');
  const port = (holder.address() as { port: number }).port;
  const name = n('taken');
  t.after(async () => {
    await closeServer(holder);
    await d.docker(['rm', '-f', name]);
  });
  const vethsBefore = await vethAliases();
  const nsBefore = await netnsNames();
  const r = await d.docker(['run', '-d', '--name', name, '-p', `${port}:80`, 'busybox', ...httpd('never')]);
  assert.equal(r.code, 125, `stdout ${r.stdout} stderr ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`${port}`), r.stderr);
  assert.match(r.stderr, /address already in use/, r.stderr);

  assert.equal(await ok(['ps', '-q', '--filter', `name=${name}`]), '', 'nothing runs');
  const id = await ok(['ps', '-aq', '--no-trunc', '--filter', `name=${name}`]);
  // As with dockerd, the container was created and stays so; its start left nothing.
  assert.match(id, /^[0-9a-f]{64}$/, 'the created container remains');
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', id]), 'created');
  assert.equal(await ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}|{{.NetworkSettings.Networks.bridge.IPAddress}}', id]), '|');
  assert.ok(!(await netnsNames()).includes(`berth-${id.slice(0, 16)}`), 'its netns is gone');
  assert.ok(!(await vethAliases()).some((a) => a.includes(id)), 'its veth is gone');
  assert.ok(!(await ok(['network', 'inspect', '-f', '{{json .Containers}}', 'bridge'])).includes(id), 'its endpoint is released');
  // Other daemons (other test files) may make veths and namespaces meanwhile: only this
  // daemon's containers count.
  const mine = (await ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  const vethsAfter = await vethAliases();
  assert.deepEqual(vethsAfter.filter((a) => !vethsBefore.includes(a) && mine.some((c) => a.includes(c))), [], 'no new veth');
  const nsAfter = await netnsNames();
  assert.deepEqual(nsAfter.filter((x) => !nsBefore.includes(x) && mine.some((c) => x === `berth-${c.slice(0, 16)}`)), [], 'no new netns');
  const rules = await run('nft', ['list', 'table', 'ip', `berth-ports-${d.bridge}`]);
  assert.ok(!new RegExp(`dport ${port}\\b`).test(rules.stdout), `no DNAT rule for ${port}: ${rules.stdout}`);
  // The port stays the test's: a connection reaches the holder.
  assert.equal(await httpGet('127.0.0.1', port), 'holder');
});

test('isolation: network A cannot reach network B; an --internal network cannot reach the outside host', async (t) => {
  const out = await outsideHost(t);
  const [na, nb, ni] = [n('iso-a'), n('iso-b'), n('iso-int')];
  const names = ['iso-srv', 'iso-peer', 'iso-a', 'iso-int', 'iso-int-srv', 'iso-out'].map(n);
  t.after(async () => {
    await d.docker(['rm', '-f', ...names]);
    await d.docker(['network', 'rm', na, nb, ni]);
  });
  await ok(['network', 'create', na]);
  await ok(['network', 'create', nb]);
  await ok(['network', 'create', '--internal', ni]);
  await ok(['run', '-d', '--name', n('iso-srv'), '--network', nb, 'busybox', ...httpd('b-side')]);
  await ok(['run', '-d', '--name', n('iso-peer'), '--network', nb, 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('iso-a'), '--network', na, 'busybox', 'sleep', '600']);
  const srvIp = await ipOf(n('iso-srv'), nb);
  // Positive control: the server answers on its own network, by IP.
  await untilServes(n('iso-peer'), srvIp, 'b-side');
  const cross = await sh(n('iso-a'), `${GET} | nc -w 2 ${srvIp} 80; echo rc=$?`);
  assert.doesNotMatch(cross.out, /b-side|HTTP/, `network A reached B: ${cross.out}`);
  // The default bridge is isolated from user networks too.
  const fromDefault = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', `${GET} | nc -w 2 ${srvIp} 80; echo rc=$?`]);
  assert.doesNotMatch(fromDefault.stdout, /b-side|HTTP/, `the default bridge reached B: ${fromDefault.stdout}`);

  await ok(['run', '-d', '--name', n('iso-int'), '--network', ni, 'busybox', 'sleep', '600']);
  // Inside an internal network containers still talk to each other, by name.
  await ok(['run', '-d', '--name', n('iso-int-srv'), '--network', ni, 'busybox', ...httpd('internal-page')]);
  await untilServes(n('iso-int'), n('iso-int-srv'), 'internal-page');
  await ok(['run', '-d', '--name', n('iso-out'), '--network', na, 'busybox', 'sleep', '600']);
  assert.equal(await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${ni}").Gateway}}`, n('iso-int')]), '', 'an internal network has no gateway');
  const reach = await sh(n('iso-out'), `nc -w 3 ${out.ip} ${out.port} </dev/null`);
  assert.match(reach.out, /^peer=/m, `a normal network reaches the outside host: ${reach.out}`);
  const blocked = await sh(n('iso-int'), `nc -w 3 ${out.ip} ${out.port} </dev/null; echo rc=$?`);
  assert.doesNotMatch(blocked.out, /peer=/, `an internal network reached the outside host: ${blocked.out}`);
  // Not even with a route of its own: the rules drop what leaves the bridge.
  const gw = await ok(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', ni]);
  const routed = await d.docker(['run', '--rm', '--cap-add', 'NET_ADMIN', '--network', ni, 'busybox', 'sh', '-c', `ip route add default via ${gw} && nc -w 3 ${out.ip} ${out.port} </dev/null; echo rc=$?`]);
  assert.match(routed.stdout, /rc=/, routed.stderr);
  assert.doesNotMatch(routed.stdout, /peer=/, `an internal network with a route reached outside: ${routed.stdout}`);
});

test('a published port is reachable from a container of another network through the host address', async (t) => {
  // Docker's bridge driver: networks are isolated "except through published ports", which
  // are meant for containers of other bridge networks too.
  const net = n('pubx');
  const port = await freePort();
  t.after(async () => {
    await d.docker(['rm', '-f', n('pubx-srv'), n('pubx-cli'), n('pubx-peer')]);
    await d.docker(['network', 'rm', net]);
  });
  await ok(['network', 'create', net]);
  await ok(['run', '-d', '--name', n('pubx-srv'), '-p', `${port}:80`, 'busybox', ...httpd('published-across')]);
  await ok(['run', '-d', '--name', n('pubx-peer'), 'busybox', 'sleep', '600']);
  await ok(['run', '-d', '--name', n('pubx-cli'), '--network', net, 'busybox', 'sleep', '600']);
  const hostIp = hostAddress();
  // Controls: the host and a container of the same (default) network get the page.
  await until('the published port from the host', async () => (await httpGet(hostIp, port)).includes('published-across'));
  await untilServes(n('pubx-peer'), hostIp, 'published-across', d, port);
  const r = await sh(n('pubx-cli'), `${GET} | nc -w 3 ${hostIp} ${port}; echo rc=$?`);
  assert.match(r.out, /published-across/, `from network ${net} to ${hostIp}:${port}: ${r.out}`);
});

test('NAT: an outside host sees the host address of its link, not the container address', async (t) => {
  const out = await outsideHost(t);
  const net = n('nat');
  t.after(async () => { await d.docker(['network', 'rm', net]); });
  await ok(['network', 'create', net]);
  for (const network of ['bridge', net]) {
    const r = await d.docker(['run', '--rm', '--network', network, 'busybox', 'sh', '-c', `ip -4 -o addr show eth0; nc -w 3 ${out.ip} ${out.port} </dev/null`]);
    assert.equal(r.code, 0, r.stderr);
    const own = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1];
    assert.ok(own, r.stdout);
    const seen = /^peer=(?:::ffff:)?(\S+)$/m.exec(r.stdout)?.[1];
    assert.equal(seen, out.hostSide, `on ${network}: the outside host saw ${seen}, the container is ${own}: ${r.stdout}`);
    assert.notEqual(seen, own);
  }
});

test('--dns on a user network: the embedded DNS forwards names it does not know to the container\'s servers', async (t) => {
  // dockerd hands a container's --dns servers to its embedded resolver as the external ones.
  const out = await outsideHost(t);
  const net = n('fwd');
  t.after(async () => { await d.docker(['network', 'rm', net]); });
  await ok(['network', 'create', net]);
  const name = `probe-${tag}.berth-test.invalid`;
  // Control: on the default bridge the server is the container's resolver, and answers.
  const direct = await d.docker(['run', '--rm', '--dns', out.ip, 'busybox', 'nslookup', name]);
  assert.match(direct.stdout, new RegExp(`Address:\\s+${OUTSIDE_ANSWER.replace(/\./g, '\\.')}`), `the outside DNS server answers containers: ${direct.stdout}${direct.stderr}`);
  const r = await d.docker(['run', '--rm', '--network', net, '--dns', out.ip, 'busybox', 'sh', '-c', `cat /etc/resolv.conf; nslookup ${name} 127.0.0.11`]);
  assert.match(r.stdout, /^nameserver 127\.0\.0\.11$/m);
  assert.match(r.stdout, new RegExp(`Address:\\s+${OUTSIDE_ANSWER.replace(/\./g, '\\.')}`), `forwarded to ${out.ip}: ${r.stdout}${r.stderr}`);
});

test('UDP through a published port: a datagram from the host comes back echoed', async (t) => {
  const work = await fsp.mkdtemp(join(tmpdir(), 'berth-udp-'));
  const image = `udp-echo-${tag}:test`;
  const name = n('udp');
  t.after(async () => {
    await d.docker(['rm', '-f', name]);
    await d.docker(['rmi', image]);
    await fsp.rm(work, { recursive: true, force: true });
  });
  const rootfs = join(work, 'rootfs');
  await fsp.mkdir(join(rootfs, 'bin'), { recursive: true });
  const cc = await run('gcc', ['-static', '-O2', '-o', join(rootfs, 'udp-echo'), join(REPO, 'test', 'fixtures', 'udp-echo.c')]);
  assert.equal(cc.code, 0, `gcc: ${cc.stderr}`);
  await fsp.copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await fsp.symlink('busybox', join(rootfs, 'bin', 'sh'));
  const tar = await run('tar', ['-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.']);
  assert.equal(tar.code, 0, tar.stderr);
  await ok(['import', join(work, 'rootfs.tar'), image]);

  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const hostPort = (sock.address()).port; // a UDP port free now; ours is released right after
  await new Promise<void>((r) => sock.close(() => r()));
  await ok(['run', '-d', '--name', name, '-p', `${hostPort}:9999/udp`, image, '/udp-echo', '9999']);
  assert.equal(await ok(['port', name]), `9999/udp -> 0.0.0.0:${hostPort}`);
  await until('the echo server to start', async () => (await d.docker(['logs', name])).stdout.includes('listening on 9999'));

  const client = createSocket('udp4');
  t.after(() => new Promise<void>((r) => client.close(() => r())));
  const replies: string[] = [];
  client.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  for (const target of ['127.0.0.1', hostAddress()]) {
    const payload = `ping-${target}-${randomBytes(4).toString('hex')}`;
    await until(`an echo from ${target}:${hostPort}`, async () => {
      client.send(payload, hostPort, target);
      await new Promise((r) => setTimeout(r, 300));
      return replies.includes(`echo:${payload}`);
    });
  }
});

test('--live-restore: a container keeps its IP, published port and DNS name across a killed daemon', async (t) => {
  const lr = await startDaemon({ extraArgs: ['--live-restore'] });
  const net = n('lr');
  t.after(async () => {
    if (lr.proc.exitCode !== null || lr.proc.signalCode !== null) await lr.restart().catch(() => undefined);
    await lr.docker(['rm', '-f', n('lr-web'), n('lr-client')]);
    await lr.docker(['network', 'rm', net]);
    await lr.cleanup();
  });
  const port = await freePort();
  await ok(['network', 'create', net], lr);
  await ok(['run', '-d', '--name', n('lr-web'), '--network', net, '-p', `${port}:80`, 'busybox', ...httpd('survivor')], lr);
  const ip = await ipOf(n('lr-web'), net, lr);
  const pid = await ok(['inspect', '-f', '{{.State.Pid}}', n('lr-web')], lr);
  await until('the published port', async () => (await httpGet('127.0.0.1', port)).includes('survivor'));

  await lr.stop('SIGKILL');
  // The DNAT rules outlive the daemon.
  assert.match(await httpGet('127.0.0.1', port), /survivor/, 'the published port answers while berthd is down');
  await lr.restart();
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n('lr-web')], lr), `running ${pid}`);
  assert.equal(await ipOf(n('lr-web'), net, lr), ip, 'same address after the restart');
  assert.equal(await ok(['port', n('lr-web')], lr), `80/tcp -> 0.0.0.0:${port}`);
  assert.match(await httpGet('127.0.0.1', port), /survivor/);
  assert.match(await httpGet(hostAddress(), port), /survivor/);
  // The restarted daemon holds the port again.
  await assert.rejects(listen(port, '0.0.0.0'), /EADDRINUSE/, 'the restarted daemon re-reserves the published port');

  await ok(['run', '-d', '--name', n('lr-client'), '--network', net, 'busybox', 'sleep', '600'], lr);
  const look = await sh(n('lr-client'), `nslookup ${n('lr-web')} 127.0.0.11`, lr);
  assert.equal(look.code, 0, look.out);
  assert.match(look.out, new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}\\s*$`, 'm'));
  await untilServes(n('lr-client'), n('lr-web'), 'survivor', lr);
  // And the new container gets a different address from the adopted one.
  assert.notEqual(await ipOf(n('lr-client'), net, lr), ip);
});

test('a stopped daemon leaves no veth, netns, nft table or bridge of its own', async (t) => {
  const c = await startDaemon();
  let stopped = false;
  t.after(async () => {
    if (!stopped) await c.docker(['rm', '-f', 'cl-a', 'cl-b', 'cl-c']);
    await c.cleanup();
  });
  const ids: string[] = [];
  const netIds: string[] = [];
  netIds.push(await ok(['network', 'create', 'cl-net'], c));
  netIds.push(await ok(['network', 'create', '-o', `com.docker.network.bridge.name=clb${tag}`, 'cl-named'], c));
  netIds.push(await ok(['network', 'create', '--internal', 'cl-int'], c));
  ids.push(await ok(['run', '-d', '--name', 'cl-a', '-p', '0:80', 'busybox', ...httpd('a')], c));
  ids.push(await ok(['run', '-d', '--name', 'cl-b', '--network', 'cl-net', '-p', '0:80', 'busybox', 'sleep', '600'], c));
  ids.push(await ok(['run', '-d', '--name', 'cl-c', '--network', 'cl-named', 'busybox', 'sleep', '600'], c));
  await ok(['network', 'connect', 'cl-int', 'cl-c'], c);
  await ok(['network', 'connect', 'cl-net', 'cl-a'], c);
  const bridges = [c.bridge, `br-${netIds[0]!.slice(0, 12)}`, `clb${tag}`, `br-${netIds[2]!.slice(0, 12)}`];
  // While they run, everything is there (the checks below would prove nothing otherwise).
  const links = await linkNames();
  for (const b of bridges) assert.ok(links.includes(b), `bridge ${b} exists while containers run`);
  const veths = await vethAliases();
  for (const id of ids) assert.ok(veths.some((a) => a.startsWith(`berth-veth:${id}:`)), `veth of ${id}`);
  assert.equal(veths.filter((a) => a.startsWith(`berth-veth:${ids[0]}:`) || a.startsWith(`berth-veth:${ids[2]}:`)).length, 4, 'connected containers have two veths');
  const spaces = await netnsNames();
  for (const id of ids) assert.ok(spaces.includes(`berth-${id.slice(0, 16)}`), `netns of ${id}`);
  const tables = await nftTables();
  for (const b of bridges) assert.ok(tables.includes(`berth-${b}`), `nft table berth-${b} (have ${tables.join(' ')})`);
  assert.ok(tables.includes(`berth-ports-${c.bridge}`));

  await ok(['rm', '-f', 'cl-a', 'cl-b', 'cl-c'], c);
  assert.equal(await c.stop('SIGTERM'), 0);
  stopped = true;

  const vethsAfter = await vethAliases();
  for (const id of ids) assert.ok(!vethsAfter.some((a) => a.includes(id)), `a veth of ${id} remains`);
  const spacesAfter = await netnsNames();
  for (const id of ids) assert.ok(!spacesAfter.includes(`berth-${id.slice(0, 16)}`), `the netns of ${id} remains`);
  const tablesAfter = await nftTables();
  const mine = tablesAfter.filter((x) => bridges.some((b) => x.includes(b)));
  assert.deepEqual(mine, [], 'nft tables of this daemon remain');
  const linksAfter = await linkNames();
  assert.deepEqual(bridges.filter((b) => linksAfter.includes(b)), [], 'bridges of this daemon remain');
});
