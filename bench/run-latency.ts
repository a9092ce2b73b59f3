// `docker run --rm busybox true` through berthd against `runc run` on the same rootfs,
// measured alternately in one run. Prints both medians and the ratio (goal: <= 2x).
//
// Two more series put the ratio in context: `runc run` with the config.json berthd
// generates (Docker's defaults: seccomp profile, capabilities, masked paths, cgroups,
// namespaces), which separates what runc itself spends on Docker's security config from
// berth's own overhead; and the docker CLI's floor (start-up and one API request).
// Every run starts after a short pause, so none pays for the tail of the one before
// (a runtime delete in the background, a network namespace being torn down).
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { cpus, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, BUSYBOX_TAR } from '../test/helpers/daemon.ts';
import { startReferenceDockerd, type ReferenceDockerd } from './lib/reference-dockerd.ts';

const N = Number(process.env.BENCH_N ?? 30);
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 50);

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

/** A bundle whose config runs `true` on the given read-only rootfs. */
async function writeBundle(dir: string, spec: any, rootfs: string): Promise<void> {
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: rootfs, readonly: true };
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(join(dir, 'config.json'), JSON.stringify(spec));
}

async function main(): Promise<void> {
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  const work = join(d.dataRoot, '..', 'runc-bench');
  const defaultBundle = join(work, 'default');
  const berthBundle = join(work, 'berth-config');
  const runcRoot = join(work, 'state');
  let dk: ReferenceDockerd | undefined;
  try {
    // The raw runc side uses the image's own unpacked layer as its (read-only) rootfs.
    const lower = (await d.docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'busybox'])).stdout.trim(); // busybox has one layer
    await fsp.mkdir(defaultBundle, { recursive: true });
    spawnSync('runc', ['spec'], { cwd: defaultBundle });
    await writeBundle(defaultBundle, JSON.parse(await fsp.readFile(join(defaultBundle, 'config.json'), 'utf8')), lower);

    // berthd's config for a plain `docker run busybox`, taken from a live container. Its
    // bind mounts (/etc/hosts...) come from that container's directory, which stays while
    // the stopped container does; each run gets its own cgroup under berthd's parent.
    const id = (await d.docker(['run', '-d', '--name', 'bench-config', 'busybox', 'sleep', '1000'])).stdout.trim();
    const berthSpec = JSON.parse(await fsp.readFile(join(d.execRoot, 'containers', id, 'config.json'), 'utf8'));
    await d.docker(['kill', 'bench-config']);
    await writeBundle(berthBundle, berthSpec, lower);
    // Its network namespace was berth's sandbox, gone with the container: runc makes a new one
    // (the series measures the runtime's share, networking is compared in bench/network.ts).
    const namespaces = (berthSpec.linux.namespaces as Array<{ type: string; path?: string }>).map((n) => (n.type === 'network' ? { type: 'network' } : n));
    const berthConfigArgs = (name: string) => {
      const spec = { ...berthSpec, linux: { ...berthSpec.linux, namespaces, cgroupsPath: `${d.cgroupParent}/${name}` } };
      return fsp.writeFile(join(berthBundle, 'config.json'), JSON.stringify(spec));
    };

    // Docker itself, when Debian's docker.io is installed: its default network needs a bridge,
    // which the reference daemon does not get, so it runs with --network none (berth's
    // containers run on its default bridge, a veth and an address more).
    dk = await startReferenceDockerd(join(work, 'dockerd'), BUSYBOX_TAR);
    const dkEnv = dk && { ...process.env, DOCKER_HOST: dk.host };
    const series = { berth: [] as number[], runc: [] as number[], runcBerthConfig: [] as number[], cli: [] as number[], docker: [] as number[] };
    const once = async (i: number, keep: boolean) => {
      await sleep(PAUSE_MS);
      const b = timeMs('docker', ['run', '--rm', 'busybox', 'true'], env);
      await sleep(PAUSE_MS);
      const r = timeMs('runc', ['--root', runcRoot, 'run', '--bundle', defaultBundle, `bench-${i}`]);
      await berthConfigArgs(`bench-cfg-${i}`);
      await sleep(PAUSE_MS);
      const rc = timeMs('runc', ['--root', runcRoot, 'run', '--bundle', berthBundle, `bench-cfg-${i}`]);
      await sleep(PAUSE_MS);
      const c = timeMs('docker', ['container', 'inspect', '-f', '{{.Id}}', 'bench-config'], env);
      let k = NaN;
      if (dkEnv) {
        await sleep(PAUSE_MS);
        k = timeMs('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], dkEnv);
      }
      if (!keep) return;
      if (dkEnv) series.docker.push(k);
      series.berth.push(b);
      series.runc.push(r);
      series.runcBerthConfig.push(rc);
      series.cli.push(c);
    };
    for (let i = 0; i < 3; i++) await once(-1 - i, false); // warm-up: page cache, JIT
    for (let i = 0; i < N; i++) await once(i, true);

    const m = { berth: median(series.berth), runc: median(series.runc), cfg: median(series.runcBerthConfig), cli: median(series.cli) };
    const line = (label: string, xs: number[]) => `${label.padEnd(40)} median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)})`;
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    console.log(`machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`);
    console.log(`runs: ${N} each, alternating, ${PAUSE_MS} ms pause before each`);
    console.log(line('docker run --rm busybox true (berthd):', series.berth));
    console.log(line('runc run (same rootfs):', series.runc));
    console.log(line("runc run, berthd's config.json:", series.runcBerthConfig));
    console.log(line('docker CLI floor (container inspect):', series.cli));
    if (dk) console.log(line(`docker run via Docker ${dk.version}:`, series.docker));
    console.log(`ratio berth/runc: ${(m.berth / m.runc).toFixed(2)}x (goal <= 2x)`);
    if (dk) console.log(`ratio Docker/runc: ${(median(series.docker) / m.runc).toFixed(2)}x; berth/Docker: ${(m.berth / median(series.docker)).toFixed(2)}x`);
    console.log(`breakdown of the medians: runc on Docker's security config +${(m.cfg - m.runc).toFixed(1)} ms; ` +
      `berthd + docker CLI over that +${(m.berth - m.cfg).toFixed(1)} ms (the CLI alone: ${m.cli.toFixed(1)} ms)`);
  } finally {
    await dk?.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await d.cleanup();
  }
}

await main();
