// One daemon per exec-root: a pid file, refused while the process it names is a live berthd
// (dockerd's rule and message). A stale file from a killed daemon is simply replaced.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';

async function isBerthd(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('daemon/main.js');
}

export async function claimPidFile(execRoot: string): Promise<{ release(): Promise<void> }> {
  const path = join(execRoot, 'berthd.pid');
  const old = Number((await fsp.readFile(path, 'utf8').catch(() => '')).trim());
  if (await isBerthd(old)) throw new Error(`pid file found, ensure berthd is not running or delete ${path}`);
  await writeFileAtomic(path, `${process.pid}`, 0o644);
  return { release: () => fsp.rm(path, { force: true }) };
}
