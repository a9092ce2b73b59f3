// berthd start-up: from exec to the first answered /_ping, with an empty data-root and with
// one holding an image and 20 containers. Reference in the same run: `runc --version`
// (a Go binary's bare start-up) — the daemon should be ready in well under a second.
import { spawn, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, ping, REPO } from '../test/helpers/daemon.ts';

async function timeStart(args: string[], socket: string): Promise<number> {
  const t0 = performance.now();
  const p = spawn(join(REPO, 'bin', 'berthd'), args, { stdio: 'ignore' });
  while (!(await ping(socket))) await new Promise((r) => setTimeout(r, 2));
  const ms = performance.now() - t0;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const d = await startDaemon();
  try {
    for (let i = 0; i < 20; i++) await d.docker(['create', 'busybox', 'true']);
    await d.stop('SIGTERM');
    const args = ['--data-root', d.dataRoot, '--exec-root', d.execRoot, '-H', d.host, '--cgroup-parent', d.cgroupParent, '--config-file', join(d.dataRoot, '..', 'none.json'), '--bridge', d.bridge];
    const loaded: number[] = [];
    for (let i = 0; i < 7; i++) loaded.push(await timeStart(args, d.socket));
    const emptyRoot = join(d.dataRoot, '..', 'empty');
    const emptyArgs = ['--data-root', join(emptyRoot, 'd'), '--exec-root', join(emptyRoot, 'x'), '-H', `unix://${join(emptyRoot, 's.sock')}`, '--config-file', join(d.dataRoot, '..', 'none.json'), '--bridge', `${d.bridge}e`];
    const empty: number[] = [];
    for (let i = 0; i < 7; i++) empty.push(await timeStart(emptyArgs, join(emptyRoot, 's.sock')));
    const go: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      spawnSync('runc', ['--version']);
      go.push(performance.now() - t0);
    }
    console.log(`berthd ready (empty data-root):              median ${median(empty).toFixed(1)} ms`);
    console.log(`berthd ready (1 image, 20 containers):       median ${median(loaded).toFixed(1)} ms`);
    console.log(`reference, runc --version (Go start-up):     median ${median(go).toFixed(1)} ms`);
    await fsp.rm(emptyRoot, { recursive: true, force: true });
    await d.restart();
  } finally {
    await d.cleanup();
  }
}

await main();
