// 1 GB of container output (default; BENCH_LOG_BYTES to change) through berth's json-file
// log, against the same output written straight to a file by raw `runc run` in the same run.
// Also: berthd's peak memory while the log is written and read back (the monitor writes the
// log, so berthd should not grow), the time `docker logs` takes to read it all, and whether a
// second container's slow trickle of lines keeps its pace while the flood runs.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, run, BUSYBOX_TAR } from '../test/helpers/daemon.ts';
import { startReferenceDockerd } from './lib/reference-dockerd.ts';
import { machineLine, MiB, statusKiB } from './lib/stats.ts';

const BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1_000_000_000);
const LINE = '0123456789'.repeat(9) + 'abcdefghi'; // 99 characters + newline = 100 bytes a line
const FLOOD = `yes ${LINE} | head -c ${BYTES}`;
const TICKS = 300;
const TICK = `i=0; while [ $i -lt ${TICKS} ]; do echo tick $i; i=$((i+1)); usleep 10000; done`;

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Largest gap in ms between consecutive log timestamps of a container, and its line count. */
async function tickGaps(env: NodeJS.ProcessEnv, name: string): Promise<{ lines: number; maxGapMs: number }> {
  const r = await run('docker', ['logs', '-t', name], { env });
  const times = r.stdout.split('\n').filter(Boolean).map((l) => Date.parse(l.split(' ')[0]));
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
  return { lines: times.length, maxGapMs: gap };
}

async function main(): Promise<void> {
  console.log(machineLine());
  console.log(`output: ${(BYTES / 1e6).toFixed(0)} MB in 100-byte lines`);
  const d = await startDaemon();
  const env = { ...process.env, DOCKER_HOST: d.host };
  const work = join(d.dataRoot, '..', 'logs-bench');
  try {
    // Reference: the same pipeline under raw runc, stdout to a plain file on the same disk.
    const lower = (await d.docker(['image', 'inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'busybox'])).stdout.trim();
    const bundle = join(work, 'bundle');
    await fsp.mkdir(bundle, { recursive: true });
    spawnSync('runc', ['spec'], { cwd: bundle });
    const spec = JSON.parse(await fsp.readFile(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['sh', '-c', FLOOD];
    spec.root = { path: lower, readonly: true };
    await fsp.writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const rawFile = join(work, 'raw.out');
    const fd = openSync(rawFile, 'w');
    let t0 = process.hrtime.bigint();
    spawnSync('runc', ['--root', join(work, 'state'), 'run', '--bundle', bundle, 'logs-bench-raw'], { stdio: ['ignore', fd, 'inherit'] });
    const rawSec = seconds(t0);
    closeSync(fd);
    console.log(`raw runc, stdout to a file:        ${rawSec.toFixed(2)} s (${(statSync(rawFile).size / 1e6 / rawSec).toFixed(0)} MB/s)`);
    await fsp.rm(rawFile);

    // The trickle alone first, for its undisturbed pace.
    await run('docker', ['run', '--name', 'tick-alone', 'busybox', 'sh', '-c', TICK], { env });
    const alone = await tickGaps(env, 'tick-alone');

    const berthd = d.proc.pid!;
    const rssBefore = statusKiB(berthd, 'VmRSS');
    t0 = process.hrtime.bigint();
    await run('docker', ['run', '-d', '--name', 'flood', 'busybox', 'sh', '-c', FLOOD], { env });
    const tick = spawn('docker', ['run', '--name', 'tick-flood', 'busybox', 'sh', '-c', TICK], { env, stdio: 'ignore' });
    const tickDone = new Promise((r) => tick.once('exit', r)); // it may end before the flood does
    await run('docker', ['wait', 'flood'], { env, timeoutMs: 3_600_000 });
    const writeSec = seconds(t0);
    await tickDone;
    const logFile = (await d.docker(['inspect', '-f', '{{.LogPath}}', 'flood'])).stdout.trim();
    console.log(`berth, json-file log:              ${writeSec.toFixed(2)} s (${(BYTES / 1e6 / writeSec).toFixed(0)} MB/s of output; log file ${(statSync(logFile).size / 1e6).toFixed(0)} MB)`);
    console.log(`ratio berth/raw runc (writing):    ${(writeSec / rawSec).toFixed(2)}x`);
    const peakWriting = statusKiB(berthd, 'VmHWM');

    t0 = process.hrtime.bigint();
    const reader = spawn('docker', ['logs', 'flood'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    let bytes = 0;
    reader.stdout.on('data', (c: Buffer) => {
      bytes += c.length;
      for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
    });
    await new Promise((r) => reader.once('exit', r));
    const readSec = seconds(t0);
    console.log(`docker logs, read back:            ${readSec.toFixed(2)} s (${(bytes / 1e6 / readSec).toFixed(0)} MB/s), ${lines} lines of ${BYTES / 100} expected`);
    console.log(`berthd RSS: ${MiB(rssBefore)} MiB before, peak ${MiB(peakWriting)} MiB while the log was written, peak ${MiB(statusKiB(berthd, 'VmHWM'))} MiB after it was read back`);

    const flooded = await tickGaps(env, 'tick-flood');
    console.log(`a second container's 10 ms ticks:  ${alone.lines}/${TICKS} lines, largest gap ${alone.maxGapMs} ms alone; ${flooded.lines}/${TICKS} lines, largest gap ${flooded.maxGapMs} ms during the flood`);
    await run('docker', ['rm', '-f', 'flood', 'tick-alone', 'tick-flood'], { env });

    // Docker, where Debian's docker.io is installed: the same output through its json-file.
    const dk = await startReferenceDockerd(join(work, 'dockerd'), BUSYBOX_TAR);
    if (dk) {
      try {
        const dkEnv = { ...process.env, DOCKER_HOST: dk.host };
        t0 = process.hrtime.bigint();
        await run('docker', ['run', '-d', '--network', 'none', '--name', 'flood', 'busybox', 'sh', '-c', FLOOD], { env: dkEnv });
        await run('docker', ['wait', 'flood'], { env: dkEnv, timeoutMs: 3_600_000 });
        const dkWrite = seconds(t0);
        t0 = process.hrtime.bigint();
        const r = spawnSync('docker', ['logs', 'flood'], { env: dkEnv, stdio: ['ignore', 'ignore', 'ignore'] });
        const dkRead = seconds(t0);
        console.log(`Docker ${dk.version}: written in ${dkWrite.toFixed(2)} s, read back in ${dkRead.toFixed(2)} s${r.status === 0 ? '' : ' (logs failed)'}`);
        console.log(`ratio berth/Docker: writing ${(writeSec / dkWrite).toFixed(2)}x, reading ${(readSec / dkRead).toFixed(2)}x`);
        await run('docker', ['rm', '-f', 'flood'], { env: dkEnv });
      } finally {
        await dk.stop();
      }
    }
  } finally {
    spawnSync('runc', ['--root', join(work, 'state'), 'delete', '--force', 'logs-bench-raw']);
    await fsp.rm(work, { recursive: true, force: true });
    await d.cleanup();
  }
}

await main();
