// Bridges and sandboxes in the real kernel: a named namespace per container with veths made
// in iproute2 batches, the namespace of a created process named in place (user namespaces),
// and nothing left after a destroy or a failed build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { deleteBridge, ensureBridge, listBerthBridges } from '../../src/network/bridge.ts';
import { getLink, inNetns, ip, runTool } from '../../src/network/netns.ts';
import { buildSandbox, destroySandbox, newVethName, plugEndpoint, sandboxName, unplugEndpoint, type EndpointPlan } from '../../src/network/sandbox.ts';
import { formatIPv4, macFromIPv4, parseIPv4 } from '../../src/network/subnets.ts';
import { listBerthVeths } from '../../src/network/veth.ts';
import { Cleanup, freeTestSubnet, uniq } from './network-kit.ts';

async function pingFrom(ns: string, addr: string): Promise<boolean> {
  const [cmd, args] = inNetns(ns, 'busybox', ['ping', '-c1', '-W1', addr]);
  return (await runTool(cmd, args)).code === 0;
}

const plan = (network: string, bridge: string, address: string, ifname: string, gateway?: string): EndpointPlan => ({
  networkId: network, bridge, hostIfname: newVethName(), ifname, address, prefix: 24, gateway, mac: macFromIPv4(parseIPv4(address)),
});

async function gone(name: string): Promise<boolean> {
  // The kernel deletes a dead namespace's pairs in the background.
  for (let i = 0; i < 100; i++) {
    if (!(await getLink(name))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

test('sandboxes on a bridge reach each other and the gateway; a destroy leaves nothing', async () => {
  const id = uniq();
  const bridge = `bt${id}`;
  const network = `net-${id}`;
  const ctrA = `a${id}`.padEnd(16, '0') + 'x'.repeat(48);
  const ctrB = `b${id}`.padEnd(16, '0') + 'x'.repeat(48);
  const cleanup = new Cleanup();
  try {
    const subnet = await freeTestSubnet();
    const gw = formatIPv4(subnet.base + 1);
    const addrA = formatIPv4(subnet.base + 2);
    const addrB = formatIPv4(subnet.base + 3);
    cleanup.push(() => deleteBridge(bridge));
    assert.equal(await ensureBridge({ name: bridge, address: `${gw}/24`, network }), true);
    // Adopting the existing bridge again is a no-op.
    assert.equal(await ensureBridge({ name: bridge, address: `${gw}/24`, network }), false);
    assert.deepEqual((await listBerthBridges()).filter((b) => b.name === bridge), [{ name: bridge, network }]);

    const a = plan(network, bridge, addrA, 'eth0', gw);
    const b = plan(network, bridge, addrB, 'eth0', gw);
    cleanup.push(() => destroySandbox(ctrA, [a.hostIfname]));
    cleanup.push(() => destroySandbox(ctrB, [b.hostIfname]));
    const pathA = await buildSandbox(ctrA, [a]);
    assert.equal(pathA, `/run/netns/${sandboxName(ctrA)}`);
    await buildSandbox(ctrB, [b]);
    const nsA = sandboxName(ctrA);
    const nsB = sandboxName(ctrB);

    const eth0 = await getLink('eth0', nsA);
    assert.equal(eth0?.address, a.mac);
    const routes = JSON.parse(await ip(['-j', 'route', 'show', 'default'], nsB)) as Array<{ gateway?: string; dev?: string }>;
    assert.deepEqual(routes.map((r) => [r.gateway, r.dev]), [[gw, 'eth0']]);
    assert.equal((await getLink(a.hostIfname))?.master, bridge);
    const mine = (await listBerthVeths()).filter((v) => v.network === network);
    assert.deepEqual(mine.map((v) => v.containerId).sort(), [ctrA, ctrB].sort());

    assert.ok(await pingFrom(nsA, addrB), 'A reaches B');
    assert.ok(await pingFrom(nsB, addrA), 'B reaches A');
    assert.ok(await pingFrom(nsA, gw), 'A reaches the gateway');

    // A second endpoint (network connect) comes and goes while A lives.
    const second = plan(network, bridge, formatIPv4(subnet.base + 4), 'eth1');
    await plugEndpoint(ctrA, second);
    assert.ok(await getLink('eth1', nsA));
    await unplugEndpoint(second.hostIfname);
    await unplugEndpoint(second.hostIfname); // repeatable
    assert.equal(await getLink('eth1', nsA), undefined);

    // Destroyed: the host end is down at once, then gone with the namespace.
    await destroySandbox(ctrA, [a.hostIfname]);
    await destroySandbox(ctrA, [a.hostIfname]); // repeatable
    assert.ok(!existsSync(pathA));
    assert.ok(await gone(a.hostIfname), 'the pair went with the namespace');
    assert.ok(!(await pingFrom(nsB, addrA)), 'A is gone');
  } finally {
    await cleanup.run();
  }
  assert.equal(await getLink(bridge), undefined);
  assert.deepEqual((await listBerthVeths()).filter((v) => v.network === network), []);
});

test('with a pid: the namespace that process is in is named and plugged (user namespaces)', async () => {
  const id = uniq();
  const bridge = `bt${id}`;
  const ctr = `p${id}`.padEnd(64, '0');
  const cleanup = new Cleanup();
  try {
    const subnet = await freeTestSubnet();
    cleanup.push(() => deleteBridge(bridge));
    await ensureBridge({ name: bridge, address: `${formatIPv4(subnet.base + 1)}/24`, network: 'n' });
    const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    cleanup.push(() => { holder.kill('SIGKILL'); });
    await new Promise<void>((resolve, reject) => { holder.once('spawn', resolve); holder.once('error', reject); });
    const own = (await runTool('readlink', ['/proc/self/ns/net'])).stdout;
    // unshare execs sleep in the same pid once the namespace exists: wait for that.
    for (let i = 0; i < 100 && (await runTool('readlink', [`/proc/${holder.pid}/ns/net`])).stdout === own; i++) await new Promise((r) => setTimeout(r, 20));
    const p = plan('n', bridge, formatIPv4(subnet.base + 2), 'eth0');
    cleanup.push(() => destroySandbox(ctr, [p.hostIfname]));
    await buildSandbox(ctr, [p], holder.pid);
    const addrs = JSON.parse(await ip(['-j', '-4', 'addr', 'show', 'dev', 'eth0'], `/proc/${holder.pid}/ns/net`)) as Array<{ addr_info: Array<{ local: string }> }>;
    assert.equal(addrs[0]?.addr_info[0]?.local, p.address, 'the process sees the endpoint');
  } finally {
    await cleanup.run();
  }
});

test('a failed build leaves no namespace and no veth behind', async () => {
  const id = uniq();
  const ctr = `f${id}`.padEnd(64, '0');
  // No such bridge: the namespace and the pair are made, then enslaving fails.
  const p = plan(`net-${id}`, `bt${id}`, '10.255.0.2', 'eth0');
  await assert.rejects(buildSandbox(ctr, [p]));
  assert.ok(!existsSync(`/run/netns/${sandboxName(ctr)}`));
  assert.ok(await gone(p.hostIfname));
});
