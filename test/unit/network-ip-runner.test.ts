// The long-lived shell that runs berth's iproute2 batches: results per request, a failed
// batch stopping the next, requests that overlap, and a shell that dies being replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runBatches, tryBatches } from '../../src/network/ip-runner.ts';
import { runTool } from '../../src/network/netns.ts';
import { uniq } from './network-kit.ts';

test('a failing batch throws with ip\'s message and the batches after it do not run', async () => {
  const ns = `btrun-${uniq()}`;
  try {
    await assert.rejects(runBatches([{ lines: ['link show dev btnosuch0'] }, { lines: [`netns add ${ns}`] }]), /btnosuch0.*does not exist|does not exist.*btnosuch0|Cannot find/s);
    assert.ok(!existsSync(`/run/netns/${ns}`), 'the second batch did not run');
    // -force goes on past a failure and reports it.
    const r = await tryBatches([{ lines: ['link show dev btnosuch0', `netns add ${ns}`], force: true }]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /btnosuch0/);
    assert.ok(existsSync(`/run/netns/${ns}`), 'the command after the failure ran');
    // A batch inside that namespace sees only its own links.
    const inside = await tryBatches([{ ns, lines: ['link show'] }]);
    assert.equal(inside.code, 0);
    assert.match(inside.output, /\blo\b/);
    assert.doesNotMatch(inside.output, /eth0/);
  } finally {
    await runTool('ip', ['netns', 'delete', ns]);
  }
});

test('overlapping requests each get their own output; a shell that dies is replaced', async () => {
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => tryBatches([{ lines: [i % 3 ? 'link show dev lo' : `link show dev btnone${i}`] }])));
  results.forEach((r, i) => {
    if (i % 3) assert.equal(r.code, 0, r.output);
    else assert.match(r.output, new RegExp(`btnone${i}`));
    if (i % 3) assert.doesNotMatch(r.output, /btnone/, 'no other request\'s output');
  });
  // The shells are children of this process: kill them; the next request starts another.
  const kids = (await runTool('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)])).stdout.split('\n').filter((l) => / sh$/.test(l.trim()));
  assert.ok(kids.length > 0, 'the shells run as children');
  for (const k of kids) process.kill(Number(k.trim().split(/\s+/)[0]), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 50));
  const again = await tryBatches([{ lines: ['link show dev lo'] }]);
  assert.equal(again.code, 0);
  assert.match(again.output, /\blo\b/);
});
