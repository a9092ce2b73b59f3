// What berth's networking costs, measured in one run against references from the same run:
// (a) `docker run --rm busybox true` on the default bridge (netns, veth, address, /etc
//     files) against `--network none`, alternating; prints both medians and the difference
//     (goal: under 10 ms);
// (b) TCP throughput from the host into a container's sink (`nc -l -p 5001 > /dev/null`):
//     through a published port on 127.0.0.1 (DNAT, route_localnet, masquerade) against
//     straight to the container's address, with the host's own loopback as the ceiling.
import { spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { machineLine, median } from './lib/stats.ts';
import { removeAll } from './lib/containers.ts';

const N = Number(process.env.BENCH_N ?? 15);
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 50);
const MB = Number(process.env.BENCH_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function timeMs(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('docker', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** Sends MB megabytes to host:port and waits for the peer to close (it has read them all); MB/s. */
function send(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let left = MB;
    let t0 = 0n;
    const s = connect({ host, port });
    s.setTimeout(30_000, () => s.destroy(new Error(`no progress sending to ${host}:${port}`)));
    const pump = () => {
      while (left > 0) {
        left--;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('connect', () => {
      t0 = process.hrtime.bigint();
      pump();
    });
    s.on('data', () => undefined);
    s.on('error', reject);
    s.on('close', (hadError) => {
      if (hadError) return;
      if (left > 0) return reject(new Error(`${host}:${port} closed with ${left} MB unsent`));
      resolve(MB / (Number(process.hrtime.bigint() - t0) / 1e9));
    });
  });
}

/** Tries until the sink listens again (it restarts nc after every connection). */
async function sendWhenReady(host: string, port: number): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      return await send(host, port);
    } catch (err) {
      if (process.env.BENCH_DEBUG) console.error(`attempt ${i}: ${(err as Error).message}`);
      if (i > 100) throw err;
      await sleep(50);
    }
  }
}

async function startupCost(env: NodeJS.ProcessEnv): Promise<{ bridge: number[]; none: number[] }> {
  const series = { bridge: [] as number[], none: [] as number[] };
  for (let i = -3; i < N; i++) { // three warm-up rounds
    await sleep(PAUSE_MS);
    const b = timeMs(['run', '--rm', 'busybox', 'true'], env);
    await sleep(PAUSE_MS);
    const n = timeMs(['run', '--rm', '--network', 'none', 'busybox', 'true'], env);
    if (i < 0) continue;
    series.bridge.push(b);
    series.none.push(n);
  }
  return series;
}

async function throughput(d: TestDaemon): Promise<{ published: number[]; direct: number[]; loopback: number[] }> {
  const sink = 'while true; do nc -l -p 5001 > /dev/null; done';
  // -i: busybox nc closes its side of the connection at the end of its stdin (/dev/null
  // without -i), which would end the transfer after the first megabyte.
  const r = await d.docker(['run', '-d', '-i', '--name', 'bench-sink', '-p', '127.0.0.1:0:5001', 'busybox', 'sh', '-c', sink]);
  if (r.code !== 0) throw new Error(`sink: ${r.stderr}`);
  const port = Number(/:(\d+)$/m.exec((await d.docker(['port', 'bench-sink', '5001'])).stdout)?.[1]);
  const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'bench-sink'])).stdout.trim();
  if (!port || !ip) throw new Error(`sink has no port (${port}) or address (${ip})`);
  // The ceiling: a sink in this process on the host's loopback.
  const local = createServer((c) => c.on('data', () => undefined));
  await new Promise<void>((res) => local.listen(0, '127.0.0.1', () => res()));
  const localPort = (local.address() as { port: number }).port;
  const out = { published: [] as number[], direct: [] as number[], loopback: [] as number[] };
  try {
    await sendWhenReady('127.0.0.1', port); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      out.published.push(await sendWhenReady('127.0.0.1', port));
      out.direct.push(await sendWhenReady(ip, 5001));
      out.loopback.push(await send('127.0.0.1', localPort));
    }
  } finally {
    await new Promise<void>((res) => local.close(() => res()));
  }
  return out;
}

async function main(): Promise<void> {
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  try {
    const s = await startupCost(env);
    const t = await throughput(d);
    const line = (label: string, xs: number[]) => `${label.padEnd(44)} median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)})`;
    const rate = (label: string, xs: number[]) => `${label.padEnd(44)} median ${median(xs).toFixed(0)} MB/s (max ${Math.max(...xs).toFixed(0)})`;
    console.log(machineLine());
    console.log(`(a) runs: ${N} each, alternating, ${PAUSE_MS} ms pause before each`);
    console.log(line('docker run --rm busybox true (bridge):', s.bridge));
    console.log(line('docker run --rm --network none busybox true:', s.none));
    const diff = median(s.bridge) - median(s.none);
    console.log(`bridge networking adds ${diff.toFixed(1)} ms per run (goal < 10 ms); ratio bridge/none: ${(median(s.bridge) / median(s.none)).toFixed(2)}x`);
    console.log(`(b) ${MB} MB from the host into nc -l in a container, ${ROUNDS} rounds each`);
    console.log(rate('through the published port 127.0.0.1:PORT:', t.published));
    console.log(rate("straight to the container's IP:5001:", t.direct));
    console.log(rate("host loopback to a sink on the host:", t.loopback));
    console.log(`ratio published/direct: ${(median(t.published) / median(t.direct)).toFixed(2)}x; direct/loopback: ${(median(t.direct) / median(t.loopback)).toFixed(2)}x`);
  } finally {
    await removeAll(env);
    await d.cleanup();
  }
}

await main();
