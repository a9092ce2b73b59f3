// The berth CLI's running-container commands (exec, pause, unpause, rename, top, stats,
// events, update, container prune) against a real berthd, side by side with the docker CLI
// where the output is deterministic: same output, same exit codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
const NAME = `h6-cli-${process.pid}`;

before(async () => {
  d = await startDaemon();
  const r = await d.berth(['run', '-d', '--name', NAME, 'busybox', 'sh', '-c', 'echo started; exec sleep 600']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (d) {
    const ids = (await d.berth(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  }
});

async function inspect(name: string, format: string): Promise<string> {
  const r = await d.berth(['inspect', '-f', format, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Runs the same arguments with docker and berth (one after the other) and expects the same result. */
async function same(args: string[], opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const a = await d.docker(args, opts);
  const b = await d.berth(args, opts);
  assert.equal(b.code, a.code, `${args.join(' ')}: exit status (berth stderr: ${b.stderr})`);
  assert.equal(b.stdout, a.stdout, `${args.join(' ')}: stdout`);
  assert.equal(b.stderr, a.stderr.replace(/\bdocker\b/g, 'berth'), `${args.join(' ')}: stderr`);
  return b;
}

test('exec: output, stdin, options and exit codes as docker', async () => {
  const r = await same(['exec', NAME, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const piped = await same(['exec', '-i', NAME, 'tr', 'a-z', 'A-Z'], { input: 'shout\n' });
  assert.equal(piped.stdout, 'SHOUT\n');
  const opts = await same(['exec', '-e', 'A=1', '-w', '/tmp', '-u', '1000', NAME, 'sh', '-c', 'echo $A $(pwd) $(id -u)']);
  assert.equal(opts.stdout, '1 /tmp 1000\n');
  assert.equal((await same(['exec', 'nothing-here', 'true'])).code, 1);
  assert.equal((await same(['exec', NAME])).code, 1);
  // A missing command: docker's 126/127 status from the exec's exit code.
  const [a, b] = [await d.docker(['exec', NAME, 'no-such-binary']), await d.berth(['exec', NAME, 'no-such-binary'])];
  assert.equal(b.code, a.code);
  assert.ok(b.code === 126 || b.code === 127, `exit ${b.code}`);
  // Detached: prints nothing, the command runs in the background.
  const det = await d.berth(['exec', '-d', NAME, 'touch', '/tmp/h6-detached']);
  assert.deepEqual([det.code, det.stdout, det.stderr], [0, '', '']);
  let found = false;
  for (let i = 0; i < 50 && !found; i++) {
    found = (await d.berth(['exec', NAME, 'test', '-f', '/tmp/h6-detached'])).code === 0;
    if (!found) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(found, 'the detached exec ran');
});

test('pause and unpause: names printed, state changed, errors as docker', async () => {
  assert.equal((await d.berth(['pause', NAME])).stdout, `${NAME}\n`);
  assert.equal(await inspect(NAME, '{{.State.Status}} {{.State.Paused}}'), 'paused true');
  await same(['pause', NAME]);
  await same(['exec', NAME, 'true']);
  assert.equal((await d.berth(['container', 'unpause', NAME])).stdout, `${NAME}\n`);
  assert.equal(await inspect(NAME, '{{.State.Status}} {{.State.Paused}}'), 'running false');
  const r = await same(['unpause', NAME, 'nothing-here']);
  assert.equal(r.code, 1);
});

test('rename: the new name sticks; errors as docker', async () => {
  const other = `${NAME}-renamed`;
  const r = await d.berth(['rename', NAME, other]);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  assert.equal(await inspect(other, '{{.Name}}'), `/${other}`);
  assert.equal((await d.berth(['rename', other, NAME])).code, 0);
  await same(['rename', 'nothing-here', 'x']);
  await same(['rename', NAME, NAME]);
  await same(['rename', NAME, ' ']);
});

test('top: the process table as docker prints it', async () => {
  const r = await same(['top', NAME]);
  assert.match(r.stdout, /sleep 600/);
  await same(['top', NAME, '-o', 'pid,comm']);
  await same(['top', 'nothing-here']);
});

test('stats --no-stream: the rows docker prints', async () => {
  const r = await same(['stats', '--no-stream', '--format', '{{.Name}} {{.ID}} {{.Container}} {{.PIDs}}', NAME]);
  assert.match(r.stdout, new RegExp(`^${NAME} [0-9a-f]{12} ${NAME} 1\n$`));
  const table = await d.berth(['stats', '--no-stream', NAME]);
  assert.equal(table.code, 0, table.stderr);
  const [head, row] = table.stdout.split('\n');
  assert.match(head, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
  assert.match(row, new RegExp(`^[0-9a-f]{12} +${NAME} +\\d+\\.\\d\\d% +[\\d.]+[KMG]?i?B / [\\d.]+[KMGT]?i?B +\\d+\\.\\d\\d% +`));
  // Without names: the running containers, found through the list (after subscribing to events).
  const all = await d.berth(['stats', '--no-stream', '--format', '{{.Name}}']);
  assert.equal(all.stdout, `${NAME}\n`);
  await same(['stats', '--no-stream', 'nothing-here']);
});

test('update: restart policy and limits applied; errors as docker', async () => {
  const r = await d.berth(['update', '--restart', 'on-failure:2', '-m', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--pids-limit', '50', NAME]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${NAME}\n`);
  assert.equal(await inspect(NAME, '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}'), 'on-failure:2 67108864 134217728 512 50');
  await same(['update', NAME]);
  await same(['update', '--restart', 'always', 'nothing-here']);
  assert.equal((await d.berth(['update', '--restart', 'no', NAME])).code, 0);
});

test('events: the same lines as docker for a window of lifecycle events', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const name = `${NAME}-ev`;
  assert.equal((await d.berth(['run', '--name', name, 'busybox', 'true'])).code, 0);
  assert.equal((await d.berth(['rm', name])).code, 0);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  // --until in the near future: the stream ends there.
  await new Promise((r) => setTimeout(r, 1500));
  const window = ['--since', since, '--until', until, '--filter', `container=${name}`];
  const plain = await same(['events', ...window]);
  const actions = plain.stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[2]);
  for (const a of ['create', 'start', 'die', 'destroy']) assert.ok(actions.includes(a), `${a} in ${plain.stdout}`);
  assert.match(plain.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container create [0-9a-f]{64} \\(image=busybox, name=${name}\\)$`, 'm'));
  await same(['events', ...window, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{json .Actor.Attributes}}']);
  await same(['events', ...window, '--format', 'json']);
  await same(['events', '--format', '{{.Nope}}']);
});

test('container prune: removes the stopped containers and reports them', async () => {
  const id = (await d.berth(['create', 'busybox', 'true'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const declined = await d.berth(['container', 'prune'], { input: 'n\n' });
  assert.deepEqual([declined.code, declined.stdout], [0, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ']);
  const r = await d.berth(['container', 'prune', '-f']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Deleted Containers:\n(?:[0-9a-f]{64}\n)*${id}\n(?:[0-9a-f]{64}\n)*\nTotal reclaimed space: \\d+(\\.\\d+)?[kMG]?B\n$`));
  assert.equal((await d.berth(['inspect', id])).code, 1);
  // The running container stays; a second prune finds nothing.
  assert.equal(await inspect(NAME, '{{.State.Running}}'), 'true');
  await same(['container', 'prune', '-f']);
});
