// Resident memory of berth's per-container monitors with N idle containers (default 50),
// against Docker's per-container shim (containerd-shim-runc-v2) for the same containers,
// measured in the same run where Debian's docker.io is installed. Goal: <= 2 MiB resident
// per running container.
import { join } from 'node:path';
import { startDaemon, run, BUSYBOX_TAR } from '../test/helpers/daemon.ts';
import { startReferenceDockerd } from './lib/reference-dockerd.ts';
import { removeAll } from './lib/containers.ts';
import { machineLine, MiB, pidsMatching, pssKiB, statusKiB } from './lib/stats.ts';

const N = Number(process.env.BENCH_CONTAINERS ?? 50);

function summarize(label: string, pids: number[]): { rss: number; pss: number } {
  const rss = pids.reduce((s, p) => s + statusKiB(p, 'VmRSS'), 0);
  const pss = pids.reduce((s, p) => s + pssKiB(p), 0);
  const n = Math.max(pids.length, 1);
  console.log(`${label.padEnd(34)} ${pids.length} processes; per container: RSS ${MiB(rss / n)} MiB, PSS ${MiB(pss / n)} MiB`);
  return { rss: rss / n, pss: pss / n };
}

async function startIdle(env: NodeJS.ProcessEnv, prefix: string, extra: string[] = []): Promise<void> {
  for (let i = 0; i < N; i++) {
    const r = await run('docker', ['run', '-d', ...extra, '--name', `${prefix}${i}`, 'busybox', 'sleep', '100000'], { env });
    if (r.code !== 0) throw new Error(`run ${i} failed: ${r.stderr}`);
  }
}

async function main(): Promise<void> {
  console.log(machineLine());
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  let berth: { rss: number; pss: number };
  try {
    await startIdle(env, 'idle-');
    berth = summarize('berth-monitor:', pidsMatching('berth-monitor', d.execRoot));
    const berthd = d.proc.pid!;
    console.log(`${'berthd itself:'.padEnd(34)} RSS ${MiB(statusKiB(berthd, 'VmRSS'))} MiB with ${N} containers`);
  } finally {
    await removeAll(env);
    await d.cleanup();
  }
  console.log(`goal: <= 2 MiB resident per container: ${berth.rss <= 2048 ? 'met' : 'NOT met'} (${MiB(berth.rss)} MiB)`);
  const dk = await startReferenceDockerd(join(d.dataRoot, '..', '..', `berth-bench-dockerd-${process.pid}`), BUSYBOX_TAR);
  if (!dk) return;
  try {
    const dkEnv = { ...process.env, DOCKER_HOST: dk.host };
    await startIdle(dkEnv, 'idle-', ['--network', 'none']);
    const shim = summarize(`containerd-shim (Docker ${dk.version}):`, pidsMatching('containerd-shim'));
    console.log(`ratio berth monitor / Docker shim: RSS ${(berth.rss / shim.rss).toFixed(3)}x, PSS ${(berth.pss / shim.pss).toFixed(3)}x`);
    await removeAll(dkEnv);
  } finally {
    await dk.stop();
  }
}

await main();
