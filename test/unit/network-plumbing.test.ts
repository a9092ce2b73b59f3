import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { deleteBridge, ensureBridge, listBerthBridges } from '../../src/network/bridge.ts';
import { addNamedNetns, deleteNamedNetns, getLink, inNetns, ip, runTool } from '../../src/network/netns.ts';
import { formatIPv4 } from '../../src/network/subnets.ts';
import { attachVeth, detachVeth, hostVethName, listBerthVeths } from '../../src/network/veth.ts';
import { Cleanup, freeTestSubnet, uniq } from './network-kit.ts';

async function pingFrom(ns: string, addr: string): Promise<boolean> {
  const [cmd, args] = inNetns(ns, 'busybox', ['ping', '-c1', '-W1', addr]);
  return (await runTool(cmd, args)).code === 0;
}

test('bridge + two namespaces (named and /proc path) on veths reach each other', async () => {
  const id = uniq();
  const bridge = `bt${id}`;
  const network = `net-${id}`;
  const nsA = `bt-${id}-a`;
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

    cleanup.push(() => deleteNamedNetns(nsA));
    await addNamedNetns(nsA);
    // The second "container" namespace is anonymous, reached by its /proc path as runc's would be.
    const holder = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    cleanup.push(() => { holder.kill('SIGKILL'); });
    await new Promise<void>((resolve, reject) => { holder.once('spawn', resolve); holder.once('error', reject); });
    const pathB = `/proc/${holder.pid}/ns/net`;
    // unshare execs sleep in the same pid once the namespace exists: wait for that.
    for (let i = 0; i < 100 && (await runTool('readlink', [pathB])).stdout === (await runTool('readlink', ['/proc/self/ns/net'])).stdout; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }

    const ctrA = `ctr-a-${id}`;
    const ctrB = `ctr-b-${id}`;
    cleanup.push(() => detachVeth(hostVethName(ctrA, network)));
    cleanup.push(() => detachVeth(hostVethName(ctrB, network)));
    const epA = await attachVeth({ containerId: ctrA, network, bridge, netns: nsA, address: addrA, prefix: 24, gateway: gw });
    const epB = await attachVeth({ containerId: ctrB, network, bridge, netns: pathB, address: addrB, prefix: 24, gateway: gw });
    assert.equal(epA.ifname, 'eth0');
    assert.equal(epB.address, addrB);
    assert.equal(epA.hostIfname, hostVethName(ctrA, network));
    assert.match(epA.hostIfname, /^veth[0-9a-f]{7}$/);

    const eth0 = await getLink('eth0', nsA);
    assert.equal(eth0?.address, epA.mac);
    assert.equal(epA.mac, `02:42:${addrA.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`);
    const routesB = JSON.parse(await ip(['-j', 'route', 'show', 'default'], pathB)) as Array<{ gateway?: string; dev?: string }>;
    assert.deepEqual(routesB.map((r) => [r.gateway, r.dev]), [[gw, 'eth0']]);
    assert.equal((await getLink(epA.hostIfname))?.master, bridge);

    const mine = (await listBerthVeths()).filter((v) => v.network === network);
    assert.deepEqual(mine.map((v) => v.containerId).sort(), [ctrA, ctrB].sort());

    assert.ok(await pingFrom(nsA, addrB), 'A reaches B');
    assert.ok(await pingFrom(pathB, addrA), 'B reaches A');
    assert.ok(await pingFrom(nsA, gw), 'A reaches the gateway');

    // Detaching removes both ends; repeating it is harmless.
    await detachVeth(epA.hostIfname);
    await detachVeth(epA.hostIfname);
    assert.equal(await getLink(epA.hostIfname), undefined);
    assert.equal(await getLink('eth0', nsA), undefined);
    assert.ok(!(await pingFrom(pathB, addrA)), 'A is gone');
  } finally {
    await cleanup.run();
  }
  assert.equal(await getLink(bridge), undefined);
  assert.ok(!existsSync(`/run/netns/${nsA}`));
  assert.deepEqual((await listBerthVeths()).filter((v) => v.network === network), []);
});

test('a failed attach leaves no veth behind', async () => {
  const id = uniq();
  const network = `net-${id}`;
  // No such bridge: the pair is created, then enslaving fails and it must be removed.
  await assert.rejects(attachVeth({ containerId: 'x', network, bridge: `bt${id}`, netns: `bt-${id}-none`, address: '10.255.0.2', prefix: 24 }));
  assert.equal(await getLink(hostVethName('x', network)), undefined);
});
