// `docker run --rm busybox true` through berthd against `runc run` on the same rootfs,
// measured alternately in one run. Prints both medians and the ratio (goal: <= 2x).
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { cpus, release, totalmem } from 'node:os';
import { startDaemon } from '../test/helpers/daemon.ts';

const N = Number(process.env.BENCH_N ?? 30);

function timeMs(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  const bundle = join(d.dataRoot, '..', 'runc-bundle');
  try {
    // The raw runc side uses the image's own unpacked layer as its (read-only) rootfs.
    const lower = (await d.docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'busybox'])).stdout.trim(); // busybox has one layer
    await fsp.mkdir(bundle, { recursive: true });
    spawnSync('runc', ['spec'], { cwd: bundle });
    const spec = JSON.parse(await fsp.readFile(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['true'];
    spec.root = { path: lower, readonly: true };
    await fsp.writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const runcRoot = join(bundle, 'state');
    const berth: number[] = [];
    const runc: number[] = [];
    // warm-up: page cache, JIT
    for (let i = 0; i < 3; i++) {
      timeMs('docker', ['run', '--rm', 'busybox', 'true'], env);
      timeMs('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `bench-w${i}`]);
    }
    for (let i = 0; i < N; i++) {
      berth.push(timeMs('docker', ['run', '--rm', 'busybox', 'true'], env));
      runc.push(timeMs('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `bench-${i}`]));
    }
    const mb = median(berth);
    const mr = median(runc);
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    console.log(`machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`);
    console.log(`runs: ${N} each, alternating`);
    console.log(`docker run --rm busybox true (berthd): median ${mb.toFixed(1)} ms (min ${Math.min(...berth).toFixed(1)})`);
    console.log(`runc run (same rootfs):               median ${mr.toFixed(1)} ms (min ${Math.min(...runc).toFixed(1)})`);
    console.log(`ratio berth/runc: ${(mb / mr).toFixed(2)}x (goal <= 2x)`);
  } finally {
    await fsp.rm(bundle, { recursive: true, force: true });
    await d.cleanup();
  }
}

await main();
