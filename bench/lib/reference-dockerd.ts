// A reference Docker daemon for side-by-side figures, used only when Debian's docker.io is
// installed (never a dependency of berth's tests). It gets its own roots and socket and no
// firewall or bridge changes (--iptables=false keeps the host's FORWARD policy intact).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ping } from '../../test/helpers/daemon.ts';

export interface ReferenceDockerd {
  host: string;
  version: string;
  stop(): Promise<void>;
}

export async function startReferenceDockerd(base: string, imageTar: string): Promise<ReferenceDockerd | undefined> {
  if (process.env.BENCH_DOCKER === '0' || !existsSync('/usr/sbin/dockerd')) return undefined;
  const socket = join(base, 'docker.sock');
  await fsp.mkdir(base, { recursive: true });
  const proc: ChildProcess = spawn('/usr/sbin/dockerd', [
    '--iptables=false', '--ip6tables=false', '--bridge=none',
    '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'),
    '--pidfile', join(base, 'dockerd.pid'), '-H', `unix://${socket}`,
  ], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const host = `unix://${socket}`;
  const env = { ...process.env, DOCKER_HOST: host };
  spawnSync('docker', ['load', '-i', imageTar], { env, stdio: 'ignore' });
  const version = spawnSync('docker', ['version', '-f', '{{.Server.Version}}'], { env, encoding: 'utf8' }).stdout.trim();
  return {
    host,
    version,
    stop: async () => {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
      const mounts = (await fsp.readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(base));
      for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m]);
      await fsp.rm(base, { recursive: true, force: true });
    },
  };
}
