// Container logs through the real docker CLI: rotation and compression, the local and
// none drivers, the daemon's default driver, --details, follow across rotations, a log
// that goes on while berthd is killed, and berthd kept out of the output's path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO, run, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

const seq = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => `${from + k}\n`).join('');

async function logPathOf(name: string): Promise<string> {
  const r = await d.docker(['inspect', '-f', '{{.LogPath}}', name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The json-file entries on disk, rotated files (plain or gzipped) oldest first. */
async function entriesOnDisk(path: string): Promise<string[]> {
  const base = basename(path);
  const rotated = (await fsp.readdir(dirname(path)))
    .map((n) => ({ n, m: n.startsWith(base + '.') ? /^(\d+)(\.gz)?$/.exec(n.slice(base.length + 1)) : null }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]))
    .map((x) => x.n);
  const out: string[] = [];
  for (const n of [...rotated, base]) {
    const raw = await fsp.readFile(join(dirname(path), n));
    const text = n.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    for (const l of text.split('\n')) if (l) out.push((JSON.parse(l) as { log: string }).log);
  }
  return out;
}

test('max-size/max-file: logs shows exactly the lines that survived rotation, in order', async () => {
  const r = await d.docker(['run', '--name', 'rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'seq 1 20000']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, seq(1, 20000), 'the attached client got everything');
  const path = await logPathOf('rot');
  const names = (await fsp.readdir(dirname(path))).filter((n) => n.startsWith(basename(path))).sort();
  assert.deepEqual(names, [basename(path), `${basename(path)}.1`, `${basename(path)}.2`]);
  const onDisk = await entriesOnDisk(path);
  const logs = await d.docker(['logs', 'rot']);
  assert.equal(logs.code, 0, logs.stderr);
  const first = 20000 - onDisk.length + 1;
  assert.ok(first > 1 && onDisk.length > 200, `${onDisk.length} lines kept`);
  assert.equal(logs.stdout, seq(first, 20000));
  assert.equal(logs.stdout, onDisk.join(''));
  const tail = await d.docker(['logs', '--tail', '150', 'rot']);
  assert.equal(tail.stdout, seq(19851, 20000));
  // As Docker stores it: what was asked, no defaults filled in.
  const cfg = await d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'rot']);
  assert.deepEqual(JSON.parse(cfg.stdout), { Type: 'json-file', Config: { 'max-file': '3', 'max-size': '10k' } });
});

test('compress=true: rotated files are gzipped and still read back whole', async () => {
  const r = await d.docker(['run', '--name', 'gz', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=4', '--log-opt', 'compress=true', 'busybox', 'seq', '1', '20000']);
  assert.equal(r.code, 0, r.stderr);
  const path = await logPathOf('gz');
  const names = (await fsp.readdir(dirname(path))).filter((n) => n.startsWith(basename(path))).sort();
  assert.deepEqual(names, [basename(path), `${basename(path)}.1.gz`, `${basename(path)}.2.gz`, `${basename(path)}.3.gz`]);
  const onDisk = await entriesOnDisk(path);
  const logs = await d.docker(['logs', 'gz']);
  assert.equal(logs.stdout, seq(20000 - onDisk.length + 1, 20000));
  assert.equal((await d.docker(['logs', '--tail', '300', 'gz'])).stdout, seq(19701, 20000));
});

test('--log-driver local: written in the local format, read back with streams apart', async () => {
  const r = await d.docker(['run', '--name', 'loc', '--log-driver', 'local', 'busybox', 'sh', '-c', 'echo out; sleep 0.1; echo err >&2; printf partial']);
  assert.equal(r.code, 0, r.stderr);
  const logs = await d.docker(['logs', 'loc']);
  assert.equal(logs.stdout, 'out\npartial');
  assert.equal(logs.stderr, 'err\n');
  assert.equal((await d.docker(['logs', '--tail', '1', 'loc'])).stdout, 'partial');
  const cfg = await d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'loc']);
  assert.deepEqual(JSON.parse(cfg.stdout), { Type: 'local', Config: {} });
  const id = (await d.docker(['inspect', '-f', '{{.Id}}', 'loc'])).stdout.trim();
  const file = await fsp.readFile(join(d.dataRoot, 'containers', id, 'local-logs', 'container.log'));
  assert.equal(file.readUInt32BE(0), file.readUInt32BE(4 + file.readUInt32BE(0)), 'length-framed records');
});

test("--log-driver none: nothing to read, Docker's error", async () => {
  const r = await d.docker(['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'gone']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'gone\n', 'attached output still flows');
  const logs = await d.docker(['logs', 'nolog']);
  assert.equal(logs.code, 1);
  assert.equal(logs.stderr.trim(), 'Error response from daemon: configured logging driver does not support reading');
  const api = await d.api('GET', '/containers/nolog/logs?stdout=1');
  assert.equal(api.status, 501);
});

test("bad options: names refused at create, values when the driver starts, in Docker's words", async () => {
  const create = await d.docker(['create', '--log-opt', 'max-sise=1m', 'busybox', 'true']);
  assert.equal(create.code, 1);
  assert.equal(create.stderr.trim(), "Error response from daemon: unknown log opt 'max-sise' for json-file log driver");
  const driver = await d.docker(['create', '--log-driver', 'syslogz', 'busybox', 'true']);
  assert.equal(driver.stderr.trim(), "Error response from daemon: logger: no log driver named 'syslogz' is registered");
  const local = await d.docker(['create', '--log-driver', 'local', '--log-opt', 'labels=a', 'busybox', 'true']);
  assert.equal(local.stderr.trim(), "Error response from daemon: unknown log opt 'labels' for log driver local");
  const value = await d.docker(['run', '--name', 'badsize', '--log-opt', 'max-size=lots', 'busybox', 'true']);
  assert.equal(value.code, 125);
  assert.match(value.stderr, /^docker: Error response from daemon: failed to create task for container: failed to initialize logging driver: invalid size: 'lots'/);
  const compress = await d.docker(['run', '--name', 'badgz', '--log-opt', 'compress=true', 'busybox', 'true']);
  assert.match(compress.stderr, /failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set/);
});

test('logs --details: the labels and env the options name, before each line', async () => {
  const r = await d.docker([
    'run', '--name', 'det', '--label', 'team=core', '--label', 'other=x', '-e', 'STAGE=prod',
    '--log-opt', 'labels=team', '--log-opt', 'env=STAGE', 'busybox', 'sh', '-c', 'echo hi; echo ho >&2',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const logs = await d.docker(['logs', '--details', 'det']);
  assert.equal(logs.stdout, 'STAGE=prod,team=core hi\n');
  assert.equal(logs.stderr, 'STAGE=prod,team=core ho\n');
  // Without attributes, Docker still puts the separating space.
  await d.docker(['run', '--name', 'plain', 'busybox', 'echo', 'x']);
  assert.equal((await d.docker(['logs', '--details', 'plain'])).stdout, ' x\n');
});

test('logs -f through rotations loses and repeats no line, and ends with the container', async () => {
  const id = (await d.docker(['run', '-d', '--name', 'fol', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=100', 'busybox', 'sh', '-c', 'sleep 1; seq 1 6000'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const follow = await d.docker(['logs', '-f', 'fol'], { timeoutMs: 60_000 });
  assert.equal(follow.code, 0, follow.stderr);
  assert.equal(follow.stdout, seq(1, 6000));
  const rotated = (await fsp.readdir(join(d.dataRoot, 'containers', id))).filter((n) => /-json\.log\.\d+$/.test(n));
  assert.ok(rotated.length > 10, `${rotated.length} rotations`);
});

test('the monitor keeps writing the log while berthd is killed; all of it reads back after', async () => {
  const id = (await d.docker(['run', '-d', '--name', 'k9', '--log-opt', 'max-size=20k', '--log-opt', 'max-file=50', 'busybox', 'sh', '-c', 'sleep 1; seq 1 5000'])).stdout.trim();
  const path = await logPathOf('k9');
  await d.stop('SIGKILL');
  try {
    const deadline = Date.now() + 30_000;
    while ((await entriesOnDisk(path).catch(() => [])).length < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await entriesOnDisk(path)).join(''), seq(1, 5000), 'written with no berthd');
  } finally {
    await d.restart();
  }
  assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
  assert.equal((await d.docker(['logs', 'k9'])).stdout, seq(1, 5000));
});

test('a container writing 200 MB with nobody attached sends berthd none of it', async () => {
  // Bytes berthd's own threads read (the process total would include its reaped children:
  // the monitor, and the container's processes it reaps as their subreaper).
  const rchar = () =>
    readdirSync(`/proc/${d.proc.pid}/task`).reduce((sum, t) => sum + Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${d.proc.pid}/task/${t}/io`, 'utf8'))![1]), 0);
  const id = (await d.docker(['create', '--log-opt', 'max-size=20m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'yes 0123456789012345678901234567890123456789 | head -c 200000000'])).stdout.trim();
  const before = rchar();
  assert.equal((await d.docker(['start', id])).code, 0);
  assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
  const read = rchar() - before;
  assert.ok(read < 20_000_000, `berthd read ${read} bytes while the container wrote 200 MB`);
  await d.docker(['rm', id]);
});

test('daemon default: daemon.json log-driver and log-opts apply to containers that name no driver', async () => {
  const d2 = await startDaemon({ daemonJson: { 'log-driver': 'local', 'log-opts': { 'max-size': '1m', 'max-file': '2' } } });
  try {
    const r = await d2.docker(['run', '--name', 'dflt', 'busybox', 'echo', 'via default']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = await d2.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'dflt']);
    assert.deepEqual(JSON.parse(cfg.stdout), { Type: 'local', Config: { 'max-file': '2', 'max-size': '1m' } });
    assert.equal((await d2.docker(['logs', 'dflt'])).stdout, 'via default\n');
    // A driver named explicitly does not take the daemon's options.
    await d2.docker(['run', '--name', 'own', '--log-driver', 'json-file', 'busybox', 'true']);
    const own = await d2.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'own']);
    assert.deepEqual(JSON.parse(own.stdout), { Type: 'json-file', Config: {} });
  } finally {
    await d2.cleanup();
  }
});

test('a daemon whose default log options no container could use refuses to start', async () => {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-logcfg-'));
  try {
    const args = ['--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'), '-H', `unix://${join(base, 's.sock')}`, '--config-file', join(base, 'none.json')];
    const bad = await run(join(REPO, 'bin', 'berthd'), [...args, '--log-driver', 'json-file', '--log-opt', 'max-file=0']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /failed to set log opts: max-file cannot be less than 1/);
    await fsp.writeFile(join(base, 'daemon.json'), JSON.stringify({ 'log-driver': 'journal' }));
    const file = await run(join(REPO, 'bin', 'berthd'), [...args.slice(0, -2), '--config-file', join(base, 'daemon.json')]);
    assert.equal(file.code, 125);
    assert.match(file.stderr, /failed to set log opts: logger: no log driver named 'journal' is registered/);
  } finally {
    await fsp.rm(base, { recursive: true, force: true });
  }
});
