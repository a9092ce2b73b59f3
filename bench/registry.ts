// Push and pull of an image of about 200 MB in several layers through a local registry:
// berthd against Docker (Debian's docker.io) side by side in one run, both through the
// docker CLI to Debian's reference registry (goal: berth at most 0.8x Docker's time on
// both); then berth's own registry against the reference registry serving the same pushes
// and pulls from berthd.
//
// Every push goes to a registry started empty for it, so each one uploads every layer; each
// pull follows an rmi of the image, so every layer is fetched and unpacked again. The
// first push of an engine also compresses; later ones may reuse what it kept (berth keeps
// its compressed layers, Docker does not), so the first push is shown on its own.
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from '../test/helpers/daemon.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { startBerthRegistry } from '../test/helpers/berth-registry.ts';
import { startReferenceDockerd, type ReferenceDockerd } from './lib/reference-dockerd.ts';
import { makeBulkImage } from './lib/bulk-image.ts';
import { machineLine, median } from './lib/stats.ts';

const N = Number(process.env.BENCH_N ?? 3);
const TOTAL_MIB = Number(process.env.BENCH_IMAGE_MIB ?? 200);
const LAYERS = 5;
const IMAGE = 'bench/bulk:latest';

interface Registry {
  host: string;
  stop(): Promise<void>;
}

function timed(host: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', ['-H', host, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

function docker(host: string, args: string[]): void {
  const r = spawnSync('docker', ['-H', host, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
}

/** Push to a fresh registry each run, then pull after an rmi (the last registry serves the pulls). */
async function series(engineHost: string, fresh: () => Promise<Registry>): Promise<{ push: number[]; pull: number[] }> {
  const push: number[] = [];
  const pull: number[] = [];
  const refs: string[] = [];
  let reg: Registry | undefined;
  try {
    for (let i = 0; i < N; i++) {
      await reg?.stop();
      reg = await fresh();
      const ref = `${reg.host}/bench/bulk:${i}`;
      docker(engineHost, ['tag', IMAGE, ref]);
      refs.push(ref);
      push.push(timed(engineHost, ['push', ref]));
    }
    // Only the image's own tag stays, so the pull's rmi removes the layers and every pull
    // fetches and unpacks all of them.
    const ref = refs.at(-1)!;
    for (const r of refs) docker(engineHost, ['rmi', r]);
    docker(engineHost, ['pull', ref]);
    docker(engineHost, ['rmi', IMAGE]);
    for (let i = 0; i < N; i++) {
      docker(engineHost, ['rmi', ref]);
      pull.push(timed(engineHost, ['pull', ref]));
    }
    docker(engineHost, ['tag', ref, IMAGE]);
    docker(engineHost, ['rmi', ref]);
  } finally {
    await reg?.stop();
  }
  return { push, pull };
}

const fmt = (xs: number[]) => `median ${(median(xs) / 1000).toFixed(2)} s (runs: ${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`;

async function main(): Promise<void> {
  const d = await startDaemon({ loadBusybox: false });
  const work = join(d.dataRoot, '..', 'registry-bench');
  await fsp.mkdir(work, { recursive: true });
  const tar = join(work, 'bulk.tar');
  let dk: ReferenceDockerd | undefined;
  try {
    await makeBulkImage(tar, { totalMiB: TOTAL_MIB, layers: LAYERS, tag: IMAGE });
    const size = (await fsp.stat(tar)).size;
    docker(d.host, ['load', '-i', tar]);
    const reference = async () => startRegistry();
    let berthRoot = 0;
    const own = async () => startBerthRegistry(join(work, `berth-registry-${berthRoot++}`));

    const berth = await series(d.host, reference);
    dk = await startReferenceDockerd(join(work, 'dockerd'), tar);
    const docker20 = dk ? await series(dk.host, reference) : undefined;
    const ownSeries = await series(d.host, own);

    console.log(machineLine());
    console.log(`image: ${(size / 2 ** 20).toFixed(0)} MiB uncompressed in ${LAYERS} layers (compresses about 2.6x); ${N} pushes (each to an empty registry) and ${N} pulls (each after rmi)`);
    console.log(`berthd push -> docker-registry:  ${fmt(berth.push)}`);
    console.log(`berthd pull <- docker-registry:  ${fmt(berth.pull)}`);
    if (dk && docker20) {
      console.log(`Docker ${dk.version} push -> docker-registry: ${fmt(docker20.push)}`);
      console.log(`Docker ${dk.version} pull <- docker-registry: ${fmt(docker20.pull)}`);
      console.log(`ratio berth/Docker: push ${(median(berth.push) / median(docker20.push)).toFixed(2)}x, first push ${(berth.push[0]! / docker20.push[0]!).toFixed(2)}x, pull ${(median(berth.pull) / median(docker20.pull)).toFixed(2)}x (goal <= 0.8x)`);
    } else console.log('Docker: not installed (Debian docker.io), no side-by-side figures');
    console.log(`berthd push -> berth registry:   ${fmt(ownSeries.push)}`);
    console.log(`berthd pull <- berth registry:   ${fmt(ownSeries.pull)}`);
    console.log(`ratio berth registry/docker-registry: push ${(median(ownSeries.push) / median(berth.push)).toFixed(2)}x, pull ${(median(ownSeries.pull) / median(berth.pull)).toFixed(2)}x`);
  } finally {
    await dk?.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await d.cleanup();
  }
}

await main();
