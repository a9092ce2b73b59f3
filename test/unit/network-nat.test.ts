import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { deleteBridge, ensureBridge } from '../../src/network/bridge.ts';
import { applyNat, ensureIpForward, listBerthChains, listBerthTables, natTableName, removeNat } from '../../src/network/nat.ts';
import { addNamedNetns, deleteNamedNetns, getLink, inNetns, ip, runTool } from '../../src/network/netns.ts';
import { formatCidr, formatIPv4 } from '../../src/network/subnets.ts';
import { attachVeth, detachVeth, hostVethName } from './network-kit.ts';
import { Cleanup, freeTestSubnet, uniq } from './network-kit.ts';

// A TCP listener in the "outside" namespace that prints each peer's address.
const SERVER = `require('net').createServer((c) => { console.log('peer ' + c.remoteAddress); c.end('ok\\n'); })
  .listen(Number(process.argv[1]), '0.0.0.0', () => console.log('ready'));`;

async function connectFrom(ns: string, addr: string, port: number): Promise<{ code: number; stdout: string }> {
  const [cmd, args] = inNetns(ns, 'busybox', ['nc', '-w', '2', addr, String(port)]);
  return runTool(cmd, args, 'hello\n');
}

/** The host's nft tables (iptables-nft makes `ip filter`/`ip nat` when first used). */
async function tables(): Promise<string[]> {
  return (await runTool('nft', ['list', 'tables'])).stdout.split('\n').filter(Boolean);
}

for (const backend of ['nft', 'iptables'] as const) test(`outbound traffic from the bridge is masqueraded; internal networks cannot leave (${backend})`, async (t) => {
  if (backend === 'iptables') {
    process.env.BERTH_FIREWALL = 'iptables';
    // Tables iptables made for this test, still empty afterwards, go again: the host as it was.
    const before = await tables();
    t.after(async () => {
      for (const name of (await tables()).filter((x) => !before.includes(x) && /^table ip (filter|nat)$/.test(x))) {
        const body = (await runTool('nft', ['list', ...name.split(' ')])).stdout;
        if (!/^\s+(?!type )\S.*(accept|drop|jump|masquerade|return)/m.test(body.replace(/policy accept;/g, ''))) await runTool('nft', ['delete', ...name.split(' ')]);
      }
    });
  } else delete process.env.BERTH_FIREWALL;
  const id = uniq();
  const bridge = `bt${id}`;
  const uplink = `bo${id}`;
  const nsC = `bt-${id}-c`;
  const nsOut = `bt-${id}-out`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cleanup = new Cleanup();
  try {
    const forwardWasOff = await ensureIpForward();
    if (forwardWasOff) cleanup.push(() => runTool('sysctl', ['-w', 'net.ipv4.ip_forward=0']));

    const subnet = await freeTestSubnet();
    const gw = formatIPv4(subnet.base + 1);
    const ctrAddr = formatIPv4(subnet.base + 2);
    cleanup.push(() => deleteBridge(bridge));
    await ensureBridge({ name: bridge, address: `${gw}/24`, network: `net-${id}` });
    cleanup.push(() => deleteNamedNetns(nsC));
    await addNamedNetns(nsC);
    cleanup.push(() => detachVeth(hostVethName(`ctr-${id}`, `net-${id}`)));
    await attachVeth({ containerId: `ctr-${id}`, network: `net-${id}`, bridge, netns: nsC, address: ctrAddr, prefix: 24, gateway: gw });

    // The "outside host": its own namespace on a private /30 from the root namespace.
    const link = await freeTestSubnet(30);
    const hostSide = formatIPv4(link.base + 1);
    const outSide = formatIPv4(link.base + 2);
    cleanup.push(() => deleteNamedNetns(nsOut));
    await addNamedNetns(nsOut);
    cleanup.push(() => runTool('ip', ['link', 'del', 'dev', uplink]));
    await ip(['link', 'add', 'name', uplink, 'type', 'veth', 'peer', 'name', `bp${id}`]);
    await ip(['link', 'set', 'dev', `bp${id}`, 'netns', nsOut]);
    await ip(['addr', 'add', `${hostSide}/30`, 'dev', uplink]);
    await ip(['link', 'set', 'dev', uplink, 'up']);
    await ip(['addr', 'add', `${outSide}/30`, 'dev', `bp${id}`], nsOut);
    await ip(['link', 'set', 'dev', `bp${id}`, 'up'], nsOut);
    await ip(['link', 'set', 'dev', 'lo', 'up'], nsOut);

    const server = spawn('ip', ['netns', 'exec', nsOut, process.execPath, '-e', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(async () => { if (server.exitCode === null) { server.kill('SIGKILL'); await once(server, 'exit'); } });
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (d: string) => { out += d; });
    while (!out.includes('ready')) {
      if (server.exitCode !== null) throw new Error('listener died');
      await once(server.stdout, 'data');
    }

    const table = natTableName(bridge);
    cleanup.push(() => removeNat(bridge));
    await applyNat({ bridge, subnet: formatCidr(subnet) });
    await applyNat({ bridge, subnet: formatCidr(subnet) }); // idempotent replace
    if (backend === 'nft') assert.equal((await listBerthTables()).filter((t) => t === table).length, 1);
    else assert.deepEqual((await listBerthChains()).filter((c) => c.includes(bridge)).sort(), [`filter/BERTH-${bridge}`, `nat/BERTH-${bridge}`]);

    const ok = await connectFrom(nsC, outSide, port);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /ok/);
    while (!out.includes('peer ')) await once(server.stdout, 'data');
    assert.match(out, new RegExp(`peer ${hostSide.replaceAll('.', '\\.')}\\n`), 'the outside sees the host side address');
    assert.doesNotMatch(out, new RegExp(ctrAddr.replaceAll('.', '\\.')));

    // --internal: the same connection must not leave the bridge.
    await applyNat({ bridge, subnet: formatCidr(subnet), internal: true });
    const blocked = await connectFrom(nsC, outSide, port);
    assert.notEqual(blocked.code, 0);
    assert.doesNotMatch(blocked.stdout, /ok/);
    assert.equal(out.match(/peer /g)?.length, 1);

    await removeNat(bridge);
    await removeNat(bridge); // idempotent
  } finally {
    await cleanup.run();
    delete process.env.BERTH_FIREWALL;
  }
  assert.deepEqual((await listBerthTables()).filter((t) => t.includes(id)), []);
  assert.deepEqual((await listBerthChains()).filter((c) => c.includes(id)), []);
  // The one jump per host chain goes with berth's chains.
  for (const [table, parent] of [['filter', 'FORWARD'], ['nat', 'POSTROUTING']]) {
    if ((await runTool('nft', ['list', 'table', 'ip', table!])).code !== 0) continue; // never made
    assert.doesNotMatch((await runTool('iptables', ['-w', '-t', table!, '-S', parent!])).stdout, new RegExp(bridge));
  }
  assert.equal(await getLink(bridge), undefined);
  assert.equal(await getLink(uplink), undefined);
});
