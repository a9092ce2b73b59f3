// stats, top and events through the real docker CLI against berthd: `docker stats
// --no-stream` rows, `docker top` with ps arguments, `docker events` over a time window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const name = `se-run-${tag}`;
let id = '';

before(async () => {
  d = await startDaemon();
  const r = await d.docker(['run', '-d', '--name', name, '--label', 'suite=stats-events', 'busybox', 'sh', '-c', 'sleep 600 & sleep 601; wait']);
  assert.equal(r.code, 0, r.stderr);
  id = r.stdout.trim();
});
after(async () => {
  await d?.docker(['rm', '-f', name]).catch(() => undefined);
  await d?.cleanup();
});

/** Size as the CLI prints it ("1.5MiB", "0B", "7.76GiB") in bytes. */
function bytes(s: string): number {
  const m = /^([\d.]+)([kKMGTP]?i?B)$/.exec(s.trim());
  assert.ok(m, `size ${JSON.stringify(s)}`);
  const unit = { B: 1, kB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3, TB: 1e12, TiB: 1024 ** 4 }[m[2]!];
  assert.ok(unit, m[2]);
  return Number(m[1]) * unit;
}

test('docker stats --no-stream: a sane row (CPU %, memory usage and limit, net and block I/O, pids)', async () => {
  const r = await d.docker(['stats', '--no-stream', name]);
  assert.equal(r.code, 0, r.stderr);
  const [header, row, ...rest] = r.stdout.trimEnd().split('\n');
  assert.match(header!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  assert.equal(rest.length, 0);
  const cols = row!.split(/\s{2,}/);
  assert.equal(cols.length, 8, row);
  const [cid, cname, cpu, memUsageLimit, memPct, netIo, blockIo, pids] = cols as [string, string, string, string, string, string, string, string];
  assert.equal(cid, id.slice(0, 12));
  assert.equal(cname, name);
  assert.match(cpu, /^\d+\.\d\d%$/);
  const [usage, limit] = memUsageLimit.split(' / ');
  assert.ok(bytes(usage!) > 0, `memory usage ${usage}`);
  assert.ok(bytes(limit!) > bytes(usage!), `limit ${limit}`);
  assert.match(memPct, /^\d+\.\d\d%$/);
  // eth0 on the default bridge: what it received and sent (an IPv6 router solicitation or two at least).
  assert.match(netIo, /^[\d.]+[kMGT]?B \/ [\d.]+[kMGT]?B$/);
  assert.match(blockIo, /^[\d.]+[kMGT]?B \/ [\d.]+[kMGT]?B$/);
  assert.ok(Number(pids) >= 3, `pids ${pids}`);

  // The JSON underneath, as the CLI's --format sees it.
  const f = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemPerc}}', name]);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout.trim(), new RegExp(`^${name} \\d+ \\d+\\.\\d\\d%$`));
});

test('stats API: stream=false fills precpu; one-shot does not; a stopped container gets zeroed stats', async () => {
  const two = await d.api('GET', `/v1.50/containers/${name}/stats?stream=false`);
  assert.equal(two.status, 200);
  const s = two.json();
  assert.equal(s.name, `/${name}`);
  assert.equal(s.id, id);
  assert.ok(s.precpu_stats.system_cpu_usage > 0);
  assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
  assert.ok(Array.isArray(s.cpu_stats.cpu_usage.percpu_usage));
  assert.ok('total_inactive_file' in s.memory_stats.stats);
  const one = (await d.api('GET', `/v1.50/containers/${name}/stats?stream=false&one-shot=true`)).json();
  assert.equal(one.preread, '0001-01-01T00:00:00Z');
  assert.ok(one.pids_stats.current >= 3);
  const both = await d.api('GET', `/v1.50/containers/${name}/stats?stream=true&one-shot=true`);
  assert.equal(both.status, 400);
  assert.equal(both.json().message, 'cannot have stream=true and one-shot=true');

  const created = `se-created-${tag}`;
  assert.equal((await d.docker(['create', '--name', created, 'busybox', 'true'])).code, 0);
  try {
    const z = (await d.api('GET', `/v1.50/containers/${created}/stats?stream=false`)).json();
    assert.equal(z.read, '0001-01-01T00:00:00Z');
    assert.deepEqual(z.memory_stats, {});
    assert.equal(z.blkio_stats.io_service_bytes_recursive, null);
    // top of a container that is not running: Docker's 409.
    const top = await d.docker(['top', created]);
    assert.notEqual(top.code, 0);
    const cid = (await d.docker(['inspect', '-f', '{{.Id}}', created])).stdout.trim();
    assert.match(top.stderr, new RegExp(`Error response from daemon: container ${cid} is not running`));
  } finally {
    await d.docker(['rm', '-f', created]);
  }
  assert.equal((await d.api('GET', '/v1.50/containers/se-nope/stats?stream=false')).status, 404);
});

test('docker top: the container\'s processes with -ef and with aux', async () => {
  const ef = await d.docker(['top', name]);
  assert.equal(ef.code, 0, ef.stderr);
  const lines = ef.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.equal(lines.length - 1, 3, ef.stdout);
  assert.ok(lines.some((l) => l.endsWith('sleep 600')), ef.stdout);
  assert.ok(lines.some((l) => l.endsWith('sleep 601')), ef.stdout);
  const aux = await d.docker(['top', name, 'aux']);
  assert.equal(aux.code, 0, aux.stderr);
  const auxLines = aux.stdout.trimEnd().split('\n');
  assert.match(auxLines[0]!, /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/);
  assert.equal(auxLines.length - 1, 3);
  const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim();
  const custom = await d.docker(['top', name, '-o', 'pid,comm']);
  assert.equal(custom.code, 0, custom.stderr);
  assert.ok(custom.stdout.split('\n').some((l) => l.trim().split(/\s+/)[0] === pid), custom.stdout);
});

test('docker events --since --until: image tag and untag events, and the container\'s own events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const repo = `se-img-${tag}`;
  assert.equal((await d.docker(['tag', 'busybox', `${repo}:v1`])).code, 0);
  assert.equal((await d.docker(['rmi', `${repo}:v1`])).code, 0);
  const until = Math.floor(Date.now() / 1000) + 1;
  // until lies ahead: the stream ends by itself then.
  const r = await d.docker(['events', '--since', String(since), '--until', String(until), '--format', '{{json .}}']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const tagEv = events.find((e) => e.Type === 'image' && e.Action === 'tag');
  assert.ok(tagEv, r.stdout);
  assert.equal(tagEv.Actor.Attributes.name, `${repo}:v1`);
  assert.match(tagEv.Actor.ID, /^sha256:[0-9a-f]{64}$/);
  assert.equal(tagEv.status, 'tag');
  assert.equal(tagEv.scope, 'local');
  assert.ok(events.some((e) => e.Type === 'image' && e.Action === 'untag'), r.stdout);

  // The run in before(): events from the container service (create, start), with
  // Docker's attributes, over the whole buffer.
  const c = await d.docker(['events', '--since', '0', '--until', String(until), '--filter', `container=${name}`, '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.suite}} {{.Actor.Attributes.image}}']);
  assert.equal(c.code, 0, c.stderr);
  const actions = c.stdout.trim().split('\n');
  assert.ok(actions.includes(`create ${name} stats-events busybox`), c.stdout);
  assert.ok(actions.includes(`start ${name} stats-events busybox`), c.stdout);
  assert.ok(actions.some((a) => a.startsWith('top ')), 'docker top logs a top event');

  const img = await d.docker(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--filter', 'event=untag', '--format', '{{.Type}} {{.Action}}']);
  assert.equal(img.stdout.trim().split('\n').every((l) => l === 'image untag'), true, img.stdout);
  const bad = await d.api('GET', '/v1.50/events?filters=' + encodeURIComponent('{"type":"image"}'));
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'invalid filter');
});
