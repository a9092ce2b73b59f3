// berthd killed with SIGKILL while containers run, then started again: the containers keep
// running with the same pids, output written while berthd was down is in their logs (no
// line lost), exits that happened meanwhile are recorded with their codes and restart
// policies applied, and attach, exec, logs -f and stats work again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: true });
});
after(async () => {
  await d?.cleanup();
});

/** Runs the docker CLI until its output matches, then kills it; returns what it printed. */
function dockerUntil(args: string[], pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, DOCKER_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`docker ${args.join(' ')}: no match for ${pattern} in ${JSON.stringify(out)}`));
    }, timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(out);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

async function inspect(name: string, tmpl: string): Promise<string> {
  const r = await d.docker(['inspect', '-f', tmpl, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('kill -9 of berthd: containers run on, logs, exits and restart policies survive', async () => {
  // A counter that prints a numbered line every 20 ms for as long as it runs.
  const counter = ['sh', '-c', 'i=0; while true; do echo "n $i"; i=$((i+1)); usleep 20000; done'];
  assert.equal((await d.docker(['run', '-d', '--name', 'lr-count', 'busybox', ...counter])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'lr-exit', 'busybox', 'sh', '-c', 'sleep 2; exit 3'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'lr-policy', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'sleep 2; exit 4'])).code, 0);
  assert.equal((await d.docker(['run', '-d', '--name', 'lr-idle', 'busybox', 'sleep', '1000'])).code, 0);
  await dockerUntil(['logs', '-f', 'lr-count'], /n 5\n/);
  const pids = { count: await inspect('lr-count', '{{.State.Pid}}'), idle: await inspect('lr-idle', '{{.State.Pid}}') };

  assert.equal(await d.stop('SIGKILL'), null);
  await sleep(3000); // lr-exit and lr-policy exit while berthd is down; lr-count keeps writing
  for (const pid of Object.values(pids)) assert.ok(existsSync(`/proc/${pid}`), `container process ${pid} survived`);
  await d.restart();

  assert.equal(await inspect('lr-count', '{{.State.Status}} {{.State.Pid}}'), `running ${pids.count}`);
  assert.equal(await inspect('lr-idle', '{{.State.Status}} {{.State.Pid}}'), `running ${pids.idle}`);
  assert.equal(await inspect('lr-exit', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 3');
  // on-failure:1: the exit seen at restore counts as a failure and is restarted once.
  await until('lr-policy restarted once and exited again', async () => {
    const s = await inspect('lr-policy', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}');
    return s === '1 exited 4' ? s : undefined;
  });

  // exec, logs -f, stats and attach work with the restored containers.
  const ex = await d.docker(['exec', 'lr-idle', 'echo', 'exec-ok']);
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(ex.stdout, 'exec-ok\n');
  await dockerUntil(['logs', '-f', '--tail', '1', 'lr-count'], /n \d+\n.*n \d+\n/s);
  await dockerUntil(['attach', '--no-stdin', 'lr-count'], /n \d+\n/);
  const st = await d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'lr-count']);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /^lr-count [1-9]\d*\n$/);

  // Not one of the counter's lines is missing, including those written while berthd was down.
  assert.equal((await d.docker(['stop', '-t', '1', 'lr-count'])).code, 0);
  const logs = await d.docker(['logs', 'lr-count']);
  const lines = logs.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 150, `at least 3 s of lines: ${lines.length}`);
  lines.forEach((l, i) => assert.equal(l, `n ${i}`));
  await d.docker(['rm', '-f', 'lr-count', 'lr-exit', 'lr-policy', 'lr-idle']);
});

test('SIGTERM with --live-restore leaves containers running for the next berthd', async () => {
  const l = await startDaemon({ loadBusybox: true, extraArgs: ['--live-restore'] });
  try {
    assert.equal((await l.docker(['run', '-d', '--name', 'lr-keep', 'busybox', 'sleep', '1000'])).code, 0);
    const pid = (await l.docker(['inspect', '-f', '{{.State.Pid}}', 'lr-keep'])).stdout.trim();
    assert.equal(await l.stop('SIGTERM'), 0);
    assert.ok(existsSync(`/proc/${pid}`));
    await l.restart();
    assert.equal((await l.docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'lr-keep'])).stdout.trim(), `running ${pid}`);
    assert.equal((await l.docker(['rm', '-f', 'lr-keep'])).code, 0);
  } finally {
    await l.cleanup();
  }
});
