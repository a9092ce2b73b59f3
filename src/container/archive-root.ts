// A container's root filesystem on the host, for `docker cp`: a running (or paused)
// container's overlay is already mounted at <exec-root>/containers/<id>/rootfs; a stopped
// one's is mounted for the copy under <exec-root>/cp/<id> and unmounted after it. Copies
// running at once on one stopped container share that mount.
//
// Not covered: volumes and bind mounts live in the container's mount namespace, not in
// this overlay, so `docker cp` sees (and writes) the image layer under them, not them.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import type { Snapshotter } from '../snapshot/snapshotter.ts';
import { mountAll, unmount } from '../snapshot/mount.ts';

export interface ContainerRootDeps {
  store: ContainerStore;
  execRoot: string;
  snapshotter: Pick<Snapshotter, 'mounts'>;
  /** Runs `fn` while the container cannot start (its lock): a start mounts the same upper dir. */
  exclusive?: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
}

export type WithRoot = <T>(ref: string, fn: (rootDir: string, rec: ContainerRecord) => Promise<T>) => Promise<T>;

interface TempMount {
  dir: string;
  users: number;
  ready: Promise<void>;
}

export function containerRootAccess(d: ContainerRootDeps): WithRoot {
  const temp = new Map<string, TempMount>();

  async function acquire(rec: ContainerRecord): Promise<TempMount> {
    let m = temp.get(rec.Id);
    if (!m) {
      const dir = join(d.execRoot, 'cp', rec.Id);
      const ready = (async () => {
        await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        await mountAll(await d.snapshotter.mounts(rec.Id), dir);
      })();
      m = { dir, users: 0, ready };
      temp.set(rec.Id, m);
      ready.catch(() => {
        if (temp.get(rec.Id) === m) temp.delete(rec.Id);
      });
    }
    m.users++;
    try {
      await m.ready;
    } catch (err) {
      m.users--;
      throw err;
    }
    return m;
  }

  async function release(id: string, m: TempMount): Promise<void> {
    if (--m.users > 0) return;
    if (temp.get(id) === m) temp.delete(id);
    await unmount(m.dir);
    await fsp.rmdir(m.dir).catch(() => {});
  }

  const mounted = (rec: ContainerRecord) => rec.State.Status === 'running' || rec.State.Status === 'paused';
  return async (ref, fn) => {
    const rec = d.store.get(ref); // 404 "No such container: ref"
    if (mounted(rec)) return fn(join(d.execRoot, 'containers', rec.Id, 'rootfs'), rec);
    const copy = async () => {
      // It may have started while the lock was awaited: then its own mount serves.
      if (mounted(rec)) return fn(join(d.execRoot, 'containers', rec.Id, 'rootfs'), rec);
      const m = await acquire(rec);
      try {
        return await fn(m.dir, rec);
      } finally {
        await release(rec.Id, m);
      }
    };
    // A container between two runs of a restart policy has no mount either.
    return d.exclusive ? d.exclusive(rec.Id, copy) : copy();
  };
}
