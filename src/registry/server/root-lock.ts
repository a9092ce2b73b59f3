// Which process serves a --root: the server writes its pid to <root>/serve.pid, and gc
// refuses to run while that process lives. gc deleting a blob that a push is about to
// reference would lose data (distribution's rule: stop the registry, or make it read-only,
// before collecting).
import { promises as fsp, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const pidFile = (root: string) => join(root, 'serve.pid');

/**
 * Records this process as root's server. The pid file is created exclusively, so of two
 * servers started at once only one wins; a file left by a dead server (kill -9) is taken over.
 */
export async function claimRoot(root: string): Promise<void> {
  await fsp.mkdir(root, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.writeFile(pidFile(root), String(process.pid), { flag: 'wx', mode: 0o644 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const other = servingPid(root);
    if (other !== undefined) throw new Error(`${root} is already served by process ${other} (remove ${pidFile(root)} if it is gone)`);
    await fsp.rm(pidFile(root), { force: true });
  }
}

/** Removes the pid file if it is this process's (sync: called on exit). */
export function releaseRoot(root: string): void {
  if (servingPid(root) === process.pid) rmSync(pidFile(root), { force: true });
}

/** The pid of a live process serving root, if any. */
export function servingPid(root: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(root), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

export async function rootExists(root: string): Promise<boolean> {
  return (await fsp.stat(join(root, 'blobs')).catch(() => undefined))?.isDirectory() ?? false;
}
