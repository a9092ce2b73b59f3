// The berth CLI's commands for running containers (exec, pause, unpause, rename, top, stats,
// events, container prune, update) side by side with the real docker CLI (28.x): both run
// with the same arguments against the same scripted daemon; the requests (and their bodies),
// stdout, stderr and exit status must match. Skipped when docker is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asBerth, BERTH, canned, compareWithDocker, DOCKER, frame, requestLines, routeOf, type Comparison, type Handler, type Recorded } from './cli-harness.ts';
import { cpuPercentUnix, memUsageNoCache, statsEntry } from '../../src/cli/format/stats-context.ts';
import { formatEventTime, parseEvent } from '../../src/cli/format/event-message.ts';

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';
const CID = '3f4e8b2a1c9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';
const CID2 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const EXEC_ID = 'e'.repeat(64);

function assertSame(c: Comparison, label: string, opts: { requests?: boolean; unordered?: boolean; helpText?: boolean } = {}): void {
  assert.equal(c.berth.code, c.docker.code, `${label}: exit status (berth stderr: ${c.berth.stderr})`);
  assert.equal(c.berth.stdout, opts.helpText ? asBerth(c.docker.stdout) : c.docker.stdout, `${label}: stdout`);
  assert.equal(c.berth.stderr, asBerth(c.docker.stderr), `${label}: stderr`);
  if (opts.requests !== false) {
    const lines = (reqs: Recorded[]) => {
      const l = requestLines(reqs);
      return opts.unordered ? l.sort() : l;
    };
    assert.deepEqual(lines(c.berth.requests), lines(c.docker.requests), `${label}: requests`);
  }
}

/** The JSON bodies sent to one route, parsed. */
function bodies(reqs: Recorded[], route: string): unknown[] {
  return reqs.filter((r) => routeOf(r.url) === route && r.method === 'POST').map((r) => (r.body.length ? JSON.parse(r.body.toString()) : undefined));
}

const notFound = (what: string) => ({ status: 404, body: { message: `No such container: ${what}` } });
const notRunning = { status: 409, body: { message: `Container ${CID} is not running` } };

test('pause, unpause, rename: names printed, errors and statuses as docker', { skip }, async () => {
  const handlers = [
    canned({
      'POST /containers/web/pause': { status: 204 },
      'POST /containers/db/pause': { status: 204 },
      'POST /containers/nope/pause': notFound('nope'),
      'POST /containers/stopped/pause': notRunning,
      'POST /containers/web/unpause': { status: 204 },
      'POST /containers/nope/unpause': notFound('nope'),
      'POST /containers/db/unpause': { status: 409, body: { message: `Container ${CID2} is not paused` } },
      'POST /containers/web/rename': { status: 204 },
      'POST /containers/nope/rename': notFound('nope'),
      'POST /containers/db/rename': { status: 409, body: { message: `Conflict. The container name "/web" is already in use by container "${CID}". You have to remove (or rename) that container to be able to reuse that name.` } },
    }),
  ];
  const cases: string[][] = [
    ['pause', 'web'], ['pause', 'web', 'nope', 'db', 'stopped'], ['container', 'pause', 'nope'], ['unpause', 'web'], ['container', 'unpause', 'web', 'nope', 'db'],
    ['rename', 'web', 'web2'], ['rename', ' web ', '\tnew name '], ['container', 'rename', 'nope', 'x'], ['rename', 'db', 'web'], ['rename', ' ', 'x'], ['rename', 'web', ''],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '), { unordered: true });
});

test('top: the process table docker prints, ps options passed through', { skip }, async () => {
  const top = {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '12345', '12320', '0', '10:00', '?', '00:00:00', 'sh -c while true; do sleep 1; done'],
      ['root', '12399', '12345', '0', '10:01', '?', '00:00:00', 'sleep 1'],
    ],
  };
  const handlers = [
    canned({
      'GET /containers/web/top': { body: top },
      'GET /containers/empty/top': { body: { Titles: ['PID', 'USER', 'TIME', 'COMMAND'], Processes: null } },
      'GET /containers/nope/top': notFound('nope'),
      'GET /containers/stopped/top': notRunning,
      'GET /containers/bad/top': { status: 500, body: { message: 'Error running ps: exit status 1' } },
    }),
  ];
  const cases: string[][] = [['top', 'web'], ['top', 'web', '-eo', 'pid,comm'], ['container', 'top', 'web', 'aux'], ['top', 'empty'], ['top', 'nope'], ['top', 'stopped'], ['top', 'bad', '-x', 'y']];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '));
});

/** A stats sample as the daemon sends it on a cgroup v1 host. */
function sampleV1(name: string, id: string): Record<string, unknown> {
  return {
    read: '2026-01-01T00:00:01.000000000Z', preread: '2026-01-01T00:00:00.000000000Z', pids_stats: { current: 7, limit: 100 },
    blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 4096000 }, { major: 8, minor: 0, op: 'Write', value: 123456 }, { major: 8, minor: 0, op: 'Total', value: 1 }, { major: 8, minor: 0, op: 'read', value: 4 }] },
    num_procs: 0, storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 2_500_000_000, percpu_usage: [1_000_000_000, 1_500_000_000], usage_in_kernelmode: 1, usage_in_usermode: 2 }, system_cpu_usage: 90_000_000_000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 2_000_000_000, percpu_usage: [800_000_000, 1_200_000_000] }, system_cpu_usage: 88_000_000_000, online_cpus: 2 },
    memory_stats: { usage: 52_428_800, max_usage: 60_000_000, stats: { total_inactive_file: 10_485_760, cache: 20_000_000 }, limit: 2_147_483_648 },
    name: `/${name}`, id,
    networks: { eth0: { rx_bytes: 1_234_567, tx_bytes: 89_012, rx_packets: 1, tx_packets: 1 }, eth1: { rx_bytes: 1000, tx_bytes: 1000 } },
  };
}

/** The same on a cgroup v2 host: inactive_file, no per-CPU list, no limit. */
function sampleV2(name: string, id: string): Record<string, unknown> {
  return {
    read: '2026-01-01T00:00:01Z', preread: '2026-01-01T00:00:00Z', pids_stats: { current: 1 }, blkio_stats: { io_service_bytes_recursive: null },
    cpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 1_000_000_000, online_cpus: 0 },
    precpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0 },
    memory_stats: { usage: 1_048_576, stats: { inactive_file: 4096, anon: 100 }, limit: 0 }, name: `/${name}`, id,
  };
}

function statsHandlers(): Handler[] {
  return [
    canned({
      'GET /containers/web/stats': { body: sampleV1('web', CID) },
      'GET /containers/db/stats': { body: sampleV2('db', CID2) },
      [`GET /containers/${CID.slice(0, 12)}/stats`]: { body: sampleV1('web', CID) },
      [`GET /containers/${CID2.slice(0, 12)}/stats`]: { body: sampleV2('db', CID2) },
      'GET /containers/nope/stats': notFound('nope'),
      'GET /containers/json': { body: [{ Id: CID, Names: ['/web'] }, { Id: CID2, Names: ['/db'] }] },
      'GET /events': { headers: { 'Content-Type': 'application/json' }, body: '' },
    }),
  ];
}

test('stats --no-stream: columns computed and laid out as docker, for cgroup v1 and v2 samples', { skip }, async () => {
  const cases: string[][] = [
    ['stats', '--no-stream', 'web'], ['stats', '--no-stream', 'web', 'db'], ['stats', '--no-stream', '--no-trunc', 'db', 'web'], ['container', 'stats', '--no-stream', 'web', 'web'],
    ['stats', '--no-stream', '--format', 'json', 'web'], ['stats', '--no-stream', '--format', '{{json .}}', 'db'],
    ['stats', '--no-stream', '--format', 'table {{.Container}}\\t{{.Name}}\\t{{.ID}}\\t{{.CPUPerc}}\\t{{.PIDs}}', 'web', 'db'],
    ['stats', '--no-stream', '--format', '{{.Name}}: {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}}', 'web'],
    ['stats', '--no-stream', 'web', 'nope'], ['stats', '--no-stream', '--format', '{{.Foo}}', 'web'], ['stats', '--no-stream', '--format', '{{.ID', 'web'],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, statsHandlers()), args.join(' '), { unordered: true });
  // Without names: subscribe to container events, list, then one stats request per short id.
  for (const args of [['stats', '--no-stream'], ['stats', '--no-stream', '-a', '--format', 'table {{.Container}}\\t{{.Name}}']]) {
    const c = await compareWithDocker(args, statsHandlers());
    assertSame(c, args.join(' '), { unordered: true });
    assert.ok(requestLines(c.berth.requests).includes('GET /v1.50/events?filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D'));
  }
});

/** Runs a CLI until its stdout holds `until`, then kills it; returns what it printed by then. */
async function runUntil(bin: string[], args: string[], until: string, env: Record<string, string>): Promise<string> {
  const p = spawn(bin[0], [...bin.slice(1), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${bin.join(' ')} ${args.join(' ')}: no "${JSON.stringify(until)}" in ${JSON.stringify(out)}`));
    }, 20_000);
    p.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const i = out.indexOf(until);
      if (i >= 0) {
        clearTimeout(timer);
        p.kill('SIGKILL');
        resolve(out.slice(0, i + until.length));
      }
    });
  });
}

/** A daemon whose stats streams send one sample and then stay open (as a live container's do). */
async function startStreamingDaemon(): Promise<{ host: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-stream-'));
  const socket = join(dir, 'd.sock');
  const open = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const route = routeOf(req.url ?? '');
    const headers = { 'Api-Version': '1.50', Ostype: 'linux', 'Content-Type': 'application/json' };
    const m = /^\/containers\/(web|db)\/stats$/.exec(route);
    if (m) {
      res.writeHead(200, headers);
      res.write(JSON.stringify(m[1] === 'web' ? sampleV1('web', CID) : sampleV2('db', CID2)) + '\n');
      open.add(res);
      return;
    }
    res.writeHead(route === '/_ping' ? 200 : 404, headers);
    res.end(route === '/_ping' ? 'OK' : '{"message":"page not found"}');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    host: `unix://${socket}`,
    close: async () => {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('stats (streaming): the first redraw is byte for byte docker\'s', { skip }, async () => {
  const config = mkdtempSync(join(tmpdir(), 'berth-cli-dockercfg-'));
  try {
    const frameOf = async (bin: string[], args: string[]) => {
      const d = await startStreamingDaemon();
      try {
        return await runUntil(bin, ['-H', d.host, ...args], '\x1b[J', { DOCKER_CONFIG: config });
      } finally {
        await d.close();
      }
    };
    for (const args of [['stats', 'web', 'db'], ['stats', '--format', '{{.Name}} {{.CPUPerc}}', 'db', 'web']]) {
      const docker = await frameOf(DOCKER!, args);
      assert.ok(docker.startsWith('\x1b[H'), JSON.stringify(docker));
      assert.equal(await frameOf(BERTH, args), docker, args.join(' '));
    }
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
});

test('stats numbers: CPU from the sample\'s precpu, memory without inactive file cache', () => {
  const v1 = sampleV1('web', CID) as Parameters<typeof statsEntry>[1];
  // (0.5s of CPU / 2s of system time) * 2 CPUs = 50%.
  assert.equal(cpuPercentUnix(v1), 50);
  assert.equal(memUsageNoCache(v1), 52_428_800 - 10_485_760);
  const e = statsEntry('web', v1, 'linux');
  assert.deepEqual([e.BlockRead, e.BlockWrite, e.NetworkRx, e.NetworkTx, e.PidsCurrent], [4096004, 123456, 1_235_567, 90_012, 7]);
  const v2 = sampleV2('db', CID2) as Parameters<typeof statsEntry>[1];
  assert.equal(memUsageNoCache(v2), 1_048_576 - 4096);
  // No online_cpus and no per-CPU list: no CPUs to scale by.
  assert.equal(cpuPercentUnix(v2), 0);
  assert.equal(statsEntry('db', v2, 'linux').MemoryPercentage, 0);
});

const EVENTS = [
  { status: 'create', id: CID, from: 'busybox', Type: 'container', Action: 'create', Actor: { ID: CID, Attributes: { name: 'web', image: 'busybox', 'com.example': 'a&b<c>' } }, scope: 'local', time: 1764000000, timeNano: 1764000000123456789n },
  { Type: 'container', Action: 'exec_create: sh -c echo hi', Actor: { ID: CID, Attributes: { execID: EXEC_ID, image: 'busybox', name: 'web' } }, scope: 'local', time: 1764000001, timeNano: 1764000001000000001n },
  { Type: 'container', Action: 'die', Actor: { ID: CID2, Attributes: { exitCode: '137', name: 'db' } }, scope: 'local', time: 1764000002, timeNano: 1764000002999999999n },
  { Type: 'network', Action: 'connect', Actor: { ID: 'n'.repeat(64), Attributes: {} }, scope: 'local', time: 1764000003 },
  { Type: 'image', Action: 'tag', Actor: { ID: 'sha256:abc' }, time: 0, timeNano: 0 },
];
/** As the daemon writes them: one JSON object a line, timeNano exact. */
const EVENT_STREAM = EVENTS.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(/"@@(\d+)@@"/g, '$1') + '\n').join('');

test('events: docker\'s line format, templates, json, since/until/filters, template errors', { skip }, async () => {
  const handlers = [canned({ 'GET /events': { headers: { 'Content-Type': 'application/json' }, body: EVENT_STREAM } })];
  const cases: string[][] = [
    ['events'], ['system', 'events', '--since', '1764000000', '--until', '2026-11-24T10:00:00Z'], ['events', '-f', 'type=container', '-f', 'event=die', '--filter', 'container=web'],
    ['events', '--format', 'json'], ['events', '--format', '{{json .}}'], ['events', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Time}} {{.TimeNano}} {{.Scope}}|{{.Status}}|{{.ID}}|{{.From}}'],
    ['events', '--format', '{{json .Actor}} {{.Actor}}'], ['events', '--format', '{{range $k, $v := .Actor.Attributes}}{{$k}}={{$v}};{{end}}'],
    ['events', '--format', '{{.Foo}}'], ['events', '--format', '{{.ID'], ['events', '--format', '{{.Actor.Foo}}'], ['events', '--format', '{{with .Actor.Attributes.name}}{{index $.Actor.Attributes "name"}}{{end}} {{printf "%s" .Action}}'], ['events', '-f', 'bad'], ['events', 'x'],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '));
  // Times print in the local zone.
  for (const tz of ['UTC', 'Asia/Kolkata', 'America/New_York']) assertSame(await compareWithDocker(['events'], handlers, { env: { TZ: tz } }), `events (TZ=${tz})`);
  // A stream cut in the middle of an event, and a daemon error.
  assertSame(await compareWithDocker(['events'], [canned({ 'GET /events': { headers: { 'Content-Type': 'application/json' }, body: EVENT_STREAM + '{"Type":"conta' } })]), 'events (truncated)');
  assertSame(await compareWithDocker(['events', '--since', 'x'], handlers), 'events (bad since)');
  assertSame(await compareWithDocker(['events'], [canned({ 'GET /events': { status: 500, body: { message: 'boom' } } })]), 'events (daemon error)');
});

test('event parsing keeps nanoseconds exact; times in RFC 3339 with fixed nanoseconds', () => {
  const e = parseEvent('{"Type":"container","timeNano":1764000000123456789}');
  assert.equal(e.timeNano, 1764000000123456789n);
  const saved = process.env.TZ;
  try {
    process.env.TZ = 'UTC';
    assert.equal(formatEventTime(1764000000000000001n), '2025-11-24T16:00:00.000000001Z');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('container prune: prompt, report and filters as docker', { skip }, async () => {
  const handlers = [canned({ 'POST /containers/prune': { body: { ContainersDeleted: [CID, CID2], SpaceReclaimed: 123_456_789 } } })];
  for (const args of [['container', 'prune', '-f'], ['container', 'prune', '--force', '--filter', 'until=24h', '--filter', 'label=a=b', '--filter', 'label!=keep']]) {
    const c = await compareWithDocker(args, handlers);
    assertSame(c, args.join(' '));
  }
  for (const input of ['y\n', 'Y', '  y  \n', 'n\n', '', 'yes\n']) assertSame(await compareWithDocker(['container', 'prune'], handlers, { stdin: input }), `container prune <<< ${JSON.stringify(input)}`);
  const none = [canned({ 'POST /containers/prune': { body: { ContainersDeleted: null, SpaceReclaimed: 0 } } })];
  assertSame(await compareWithDocker(['container', 'prune', '-f'], none), 'container prune (nothing)');
  const failing = [canned({ 'POST /containers/prune': { status: 409, body: { message: 'a prune operation is already running' } } })];
  assertSame(await compareWithDocker(['container', 'prune', '-f'], failing), 'container prune (busy)');
  assertSame(await compareWithDocker(['container', 'prune', '--filter', 'nonsense'], handlers), 'container prune (bad filter)');
});

test('update: the request body for each resource flag, names, warnings and errors as docker', { skip }, async () => {
  const handlers = [
    canned({
      'POST /containers/web/update': { body: { Warnings: [] } },
      'POST /containers/db/update': { body: { Warnings: ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.', 'second warning'] } },
      'POST /containers/nope/update': notFound('nope'),
      'POST /containers/bad/update': { status: 400, body: { message: 'Minimum memory limit allowed is 6MB' } },
    }),
  ];
  const cases: string[][] = [
    ['update', '-m', '512m', 'web'],
    ['update', '--memory-swap', '-1', '--memory-reservation', '100m', '--kernel-memory', '10m', 'web'],
    ['update', '--cpus', '1.5', '-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '500', 'web'],
    ['update', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--blkio-weight', '300', '--pids-limit', '-1', 'web'],
    ['update', '--restart', 'on-failure:3', 'web', 'db'], ['container', 'update', '--restart', 'always', 'db', 'nope', 'bad', 'web'], ['update', '--pids-limit', '0', 'web'], ['update', '--restart', '', 'web'],
    ['update', 'web'], ['update', '--restart', ':1', 'web'], ['update', '--restart', 'on-failure:x', 'web'], ['update', '-m', '12x', 'web'], ['update', '--cpus', 'abc', 'web'], ['update', '--blkio-weight', '70000', 'web'], ['update'],
  ];
  for (const args of cases) {
    const c = await compareWithDocker(args, handlers);
    assertSame(c, args.join(' '));
    for (const name of ['web', 'db', 'nope', 'bad']) assert.deepEqual(bodies(c.berth.requests, `/containers/${name}/update`), bodies(c.docker.requests, `/containers/${name}/update`), `${args.join(' ')}: ${name} body`);
  }
});

function execHandlers(startReply: Record<string, unknown>, exitCode = 0): Handler[] {
  return [
    canned({
      'GET /containers/web/json': { body: { Id: CID, Name: '/web', State: { Running: true }, Config: { Tty: false } } },
      'GET /containers/nope/json': notFound('nope'),
      'GET /containers/stopped/json': { body: { Id: CID2, Name: '/stopped', State: { Running: false }, Config: {} } },
      'POST /containers/web/exec': { status: 201, body: { Id: EXEC_ID } },
      'POST /containers/stopped/exec': { status: 409, body: { message: `container ${CID2} is not running` } },
      [`POST /exec/${EXEC_ID}/start`]: startReply,
      [`GET /exec/${EXEC_ID}/json`]: { body: { ID: EXEC_ID, Running: false, ExitCode: exitCode, ProcessConfig: {}, OpenStdin: false, ContainerID: CID, Pid: 4242 } },
      [`POST /exec/${EXEC_ID}/resize`]: { status: 200 },
    }),
  ];
}

test('exec: requests and bodies, streams and exit statuses as docker', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-exec-'));
  try {
    writeFileSync(join(dir, 'env'), '# comment\nFROM_FILE=1\nHOME\nBERTH_EXEC_UNSET\n');
    const output = Buffer.concat([frame(1, 'exec out\n'), frame(2, 'exec err\n')]);
    const attached = execHandlers({ status: 101, upgrade: output, endStream: true }, 3);
    const cases: string[][] = [
      ['exec', 'web', 'sh', '-c', 'echo hi'],
      ['exec', '-e', 'A=1', '-e', 'HOME', '--env-file', join(dir, 'env'), '-u', '1000:1000', '-w', '/tmp', '--privileged', 'web', 'env'],
      ['container', 'exec', '-t', 'web', 'ls', '-l'],
      ['exec', '--detach-keys', 'ctrl-a,a', 'web', 'true', '--', '-x'],
      ['exec', 'web', '--user', 'x'],
    ];
    for (const args of cases) {
      const c = await compareWithDocker(args, attached);
      assertSame(c, args.join(' '));
      assert.deepEqual(bodies(c.berth.requests, '/containers/web/exec'), bodies(c.docker.requests, '/containers/web/exec'), `${args.join(' ')}: create body`);
      assert.deepEqual(bodies(c.berth.requests, `/exec/${EXEC_ID}/start`), bodies(c.docker.requests, `/exec/${EXEC_ID}/start`), `${args.join(' ')}: start body`);
      const ctype = (reqs: Recorded[]) => reqs.find((r) => routeOf(r.url) === `/exec/${EXEC_ID}/start`)?.headers['content-type'];
      assert.equal(ctype(c.berth.requests), ctype(c.docker.requests));
    }
    // stdin is copied to the exec, then half-closed.
    const withStdin = await compareWithDocker(['exec', '-i', 'web', 'cat'], execHandlers({ status: 101, upgrade: frame(1, 'echoed\n') }), { stdin: 'piped input\n' });
    assertSame(withStdin, 'exec -i');
    const sent = (reqs: Recorded[]) => reqs.find((r) => r.method === 'STDIN')?.body.toString();
    assert.equal(sent(withStdin.berth.requests), 'piped input\n');
    // Detached: the start is a plain request and nothing is printed.
    const detached = await compareWithDocker(['exec', '-d', '-t', 'web', 'sleep', '10'], execHandlers({ status: 200 }));
    assertSame(detached, 'exec -d');
    assert.deepEqual(bodies(detached.berth.requests, `/exec/${EXEC_ID}/start`), bodies(detached.docker.requests, `/exec/${EXEC_ID}/start`));
    // Errors: no such container, not running, no TTY for -it, a failed start, missing arguments, bad flags.
    const errors: string[][] = [['exec', 'nope', 'sh'], ['exec', 'stopped', 'sh'], ['exec', '-it', 'web', 'sh'], ['exec', 'web'], ['exec'], ['exec', '-e', '=x', 'web', 'sh'], ['exec', '--bogus', 'web', 'sh']];
    for (const args of errors) assertSame(await compareWithDocker(args, attached), args.join(' '));
    assertSame(await compareWithDocker(['exec', 'web', 'sh'], execHandlers({ status: 404, body: { message: `No such exec instance: ${EXEC_ID}` } })), 'exec (start fails)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('help texts and usage errors of the new commands, as docker prints them', { skip }, async () => {
  const commands = [
    'exec', 'pause', 'unpause', 'rename', 'top', 'stats', 'events', 'update', 'container prune', 'container exec', 'container pause', 'container unpause', 'container rename',
    'container top', 'container stats', 'container update', 'system events', 'logs',
  ];
  for (const cmd of commands) assertSame(await compareWithDocker([...cmd.split(' '), '--help'], []), `${cmd} --help`, { requests: false, helpText: true });
  for (const args of [['pause'], ['unpause'], ['rename', 'a'], ['rename', 'a', 'b', 'c'], ['top'], ['update'], ['events', 'x'], ['container', 'prune', 'x'], ['stats', '--bogus'], ['top', '-x', 'web']]) {
    assertSame(await compareWithDocker(args, []), args.join(' '), { requests: false });
  }
});
