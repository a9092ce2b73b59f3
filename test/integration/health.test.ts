// Health checks against a real berthd: probes exec'd by runc in the container, the state
// in inspect, as the docker CLI's --health-* flags configure them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
const P = `health-${process.pid}`;
const made: string[] = [];

before(async () => {
  d = await startDaemon({ loadBusybox: true });
});

after(async () => {
  for (const name of made) await d?.docker(['rm', '-f', name]).catch(() => undefined);
  await d?.cleanup();
});

async function run(name: string, flags: string[]): Promise<void> {
  made.push(name);
  const r = await d.docker(['run', '-d', '--name', name, ...flags, 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
}

async function inspect(name: string): Promise<any> {
  const r = await d.api('GET', `/containers/${name}/json`);
  assert.equal(r.status, 200, r.body);
  return r.json();
}

/** Polls inspect until the health status is `want` (the test's own timeout bounds it). */
async function waitForStatus(name: string, want: string): Promise<any> {
  for (;;) {
    const c = await inspect(name);
    if (c.State.Health?.Status === want) return c;
    await new Promise((res) => setTimeout(res, 50));
  }
}

test('a passing check makes the container healthy; output goes to the log', { timeout: 30_000 }, async () => {
  const name = `${P}-ok`;
  await run(name, ['--health-cmd', 'echo probe-$HOSTNAME', '--health-interval', '100ms']);
  const first = await inspect(name);
  assert.deepEqual(first.Config.Healthcheck, { Test: ['CMD-SHELL', 'echo probe-$HOSTNAME'], Interval: 100_000_000 });
  const c = await waitForStatus(name, 'healthy');
  assert.equal(c.State.Health.FailingStreak, 0);
  const entry = c.State.Health.Log[0];
  assert.equal(entry.ExitCode, 0);
  assert.equal(entry.Output, `probe-${c.Config.Hostname}\n`);
  assert.ok(Date.parse(entry.End) >= Date.parse(entry.Start));
  const fmt = await d.docker(['inspect', '-f', '{{.State.Health.Status}}', name]);
  assert.equal(fmt.stdout, 'healthy\n');
  const ps = await d.docker(['ps', '--filter', `name=${name}`, '--filter', 'health=healthy', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^Up .* \(healthy\)\n$/);
  // The log keeps the last five probes.
  for (;;) {
    const again = await inspect(name);
    if (again.State.Health.Log.length === 5 && again.State.Health.Log[4].Start !== entry.Start) break;
    await new Promise((res) => setTimeout(res, 50));
  }
});

test('a failing check makes it unhealthy after Retries failures', { timeout: 30_000 }, async () => {
  const name = `${P}-bad`;
  await run(name, ['--health-cmd', 'echo nope >&2; exit 2', '--health-interval', '100ms', '--health-retries', '2']);
  const c = await waitForStatus(name, 'unhealthy');
  assert.ok(c.State.Health.FailingStreak >= 2);
  assert.deepEqual(
    c.State.Health.Log.slice(0, 2).map((e: any) => [e.ExitCode, e.Output]),
    [[2, 'nope\n'], [2, 'nope\n']],
  );
});

test('a probe over its timeout is killed and counts as -1', { timeout: 30_000 }, async () => {
  const name = `${P}-slow`;
  await run(name, ['--health-cmd', 'echo started; sleep 10', '--health-interval', '100ms', '--health-timeout', '300ms', '--health-retries', '1']);
  const c = await waitForStatus(name, 'unhealthy');
  const entry = c.State.Health.Log[0];
  assert.equal(entry.ExitCode, -1);
  assert.equal(entry.Output, 'Health check exceeded timeout (300ms): started\n');
  // Killed probes do not pile up: at most the one running now is there.
  const ps = await d.docker(['exec', name, 'ps', '-o', 'args']);
  assert.ok(ps.stdout.split('\n').filter((l) => /sleep 10$/.test(l)).length <= 1, ps.stdout);
});

test('an exec form check (CMD) that cannot run counts as a failure', { timeout: 30_000 }, async () => {
  const name = `${P}-missing`;
  made.push(name);
  const body = { Image: 'busybox', Cmd: ['sleep', '1000'], Healthcheck: { Test: ['CMD', 'no-such-probe'], Interval: 100_000_000, Retries: 1 } };
  const created = await d.api('POST', `/containers/create?name=${name}`, body);
  assert.equal(created.status, 201, created.body);
  assert.equal((await d.api('POST', `/containers/${name}/start`)).status, 204);
  const c = await waitForStatus(name, 'unhealthy');
  assert.equal(c.State.Health.Log[0].ExitCode, -1);
  assert.match(c.State.Health.Log[0].Output, /executable file not found in \$PATH/);
});

test('--no-healthcheck and no check: no Health at all', async () => {
  const name = `${P}-none`;
  await run(name, ['--no-healthcheck']);
  const c = await inspect(name);
  assert.deepEqual(c.Config.Healthcheck, { Test: ['NONE'] });
  assert.equal(c.State.Health, undefined);
  const plain = `${P}-plain`;
  await run(plain, []);
  assert.equal((await inspect(plain)).State.Health, undefined);
});

test('a stopped container reads unhealthy and is no longer probed', { timeout: 30_000 }, async () => {
  const name = `${P}-stop`;
  await run(name, ['--health-cmd', 'true', '--health-interval', '100ms']);
  await waitForStatus(name, 'healthy');
  assert.equal((await d.docker(['stop', '-t', '0', name])).code, 0);
  const c = await inspect(name);
  assert.equal(c.State.Running, false);
  assert.equal(c.State.Health.Status, 'unhealthy');
  const log = JSON.stringify(c.State.Health.Log);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(JSON.stringify((await inspect(name)).State.Health.Log), log, 'no probe after the stop');
});
