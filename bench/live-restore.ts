// Live restore of N running containers (default 50): berthd is killed with SIGKILL and
// started again; measured from the new berthd's exec to its first answered /_ping (it
// re-attaches to every monitor before it serves) and to a `docker ps` listing all N as
// running. Reference, same run: the same daemon's start with no containers running.
import { spawnSync } from 'node:child_process';
import { startDaemon, run, type TestDaemon } from '../test/helpers/daemon.ts';
import { removeAll } from './lib/containers.ts';
import { machineLine, median } from './lib/stats.ts';

const N = Number(process.env.BENCH_CONTAINERS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function killAndRestart(d: TestDaemon): Promise<number> {
  await d.stop('SIGKILL');
  const t0 = process.hrtime.bigint();
  await d.restart(); // returns at the first answered /_ping
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  console.log(machineLine());
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  try {
    const empty: number[] = [];
    for (let i = 0; i < ROUNDS; i++) empty.push(await killAndRestart(d));
    for (let i = 0; i < N; i++) {
      const r = await run('docker', ['run', '-d', '--name', `lr-${i}`, 'busybox', 'sleep', '100000'], { env });
      if (r.code !== 0) throw new Error(r.stderr);
    }
    const pidsBefore = (await run('docker', ['inspect', '-f', '{{.State.Pid}}', ...Array.from({ length: N }, (_, i) => `lr-${i}`)], { env })).stdout;
    const ready: number[] = [];
    const listed: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      ready.push(await killAndRestart(d));
      const ps = spawnSync('docker', ['ps', '-q', '--filter', 'status=running'], { env, encoding: 'utf8' });
      listed.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const running = ps.stdout.split('\n').filter(Boolean).length;
      if (running !== N) throw new Error(`after restart ${i + 1}: ${running} of ${N} running`);
    }
    const pidsAfter = (await run('docker', ['inspect', '-f', '{{.State.Pid}}', ...Array.from({ length: N }, (_, i) => `lr-${i}`)], { env })).stdout;
    console.log(`rounds: ${ROUNDS}; containers: ${N}; same pids after every restart: ${pidsBefore === pidsAfter ? 'yes' : 'NO'}`);
    console.log(`berthd ready, no containers (reference): median ${median(empty).toFixed(1)} ms`);
    console.log(`berthd ready after kill -9, ${N} running:  median ${median(ready).toFixed(1)} ms`);
    console.log(`... and docker ps lists all ${N} running:   median ${median(listed).toFixed(1)} ms`);
    console.log(`ratio restore/empty start: ${(median(ready) / median(empty)).toFixed(2)}x; per container: ${((median(ready) - median(empty)) / N).toFixed(2)} ms`);
  } finally {
    await removeAll(env);
    await d.cleanup();
  }
}

await main();
