// A container's root filesystem on the host, for `docker cp`, diff and export: a running (or
// paused) container's overlay is already mounted at <exec-root>/containers/<id>/rootfs; a
// stopped one's is mounted under <exec-root>/cp/<id> for the duration and unmounted after.
// Copies running at once on one stopped container share that mount.
//
// `docker cp` also reaches the container's volumes and binds (diff and export do not): a
// running container's files are taken from its own mount namespace (/proc/<pid>/root, with
// its volumes, binds and tmpfs mounts); for a stopped one the volumes and binds are bound
// onto the temporary root, each target resolved inside it by directory fd.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import type { Snapshotter } from '../snapshot/snapshotter.ts';
import { mountAll, unmount } from '../snapshot/mount.ts';
import { openRootDir, resolvePath } from './archive-path.ts';
import type { MountPoint } from '../volume/mount-point.ts';
import { MS_BIND, MS_REC, mount } from '../util/native.ts';
import { EngineError } from '../util/errors.ts';

export interface ContainerRootDeps {
  store: ContainerStore;
  execRoot: string;
  snapshotter: Pick<Snapshotter, 'mounts'>;
  /** Runs `fn` while the container cannot start (its lock): a start mounts the same upper dir. */
  exclusive?: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
  /** A volume's directory, its options mounted (volumes with driver options), and the release after. */
  volumes?: { mountPath(name: string): Promise<string>; release(name: string): Promise<void> };
}

export interface RootOptions {
  /** With the container's volumes and binds in place (docker cp). */
  mounts?: boolean;
}

export type WithRoot = <T>(ref: string, fn: (rootDir: string, rec: ContainerRecord) => Promise<T>, opts?: RootOptions) => Promise<T>;

/** The mount point a container path lies in (the deepest one), if any. */
export function mountPointAt(rec: ContainerRecord, path: string): MountPoint | undefined {
  const p = ('/' + path).replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  let best: MountPoint | undefined;
  for (const m of Object.values(rec.MountPoints ?? {})) {
    if (p === m.Destination || p.startsWith(m.Destination === '/' ? '/' : m.Destination + '/')) {
      if (!best || m.Destination.length > best.Destination.length) best = m;
    }
  }
  return best;
}

/** /proc/<pid>/root of a running container's init, checked to be that container's still. */
async function liveRoot(rec: ContainerRecord): Promise<string | undefined> {
  const pid = rec.State.Pid;
  if (!pid) return undefined;
  const cgroup = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  // A pid reused by another process after an exit belongs to another cgroup.
  return cgroup.includes(rec.Id) ? `/proc/${pid}/root` : undefined;
}

interface TempMount {
  key: string;
  dir: string;
  users: number;
  ready: Promise<void>;
  /** Volumes whose directories were asked for (released after the unmount). */
  volumes: string[];
}

export function containerRootAccess(d: ContainerRootDeps): WithRoot {
  const temp = new Map<string, TempMount>();

  async function acquire(rec: ContainerRecord, withMounts: boolean): Promise<TempMount> {
    const key = withMounts ? `${rec.Id}+mounts` : rec.Id;
    let m = temp.get(key);
    if (!m) {
      const dir = join(d.execRoot, 'cp', withMounts ? `${rec.Id}-m` : rec.Id);
      const volumes: string[] = [];
      const ready = (async () => {
        await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        await mountAll(await d.snapshotter.mounts(rec.Id), dir);
        if (!withMounts) return;
        try {
          await bindMountPoints(rec, dir, volumes);
        } catch (err) {
          await unmount(dir);
          throw err;
        }
      })();
      m = { dir, users: 0, ready, volumes, key };
      temp.set(key, m);
      ready.catch(async () => {
        if (temp.get(key) === m) temp.delete(key);
        for (const v of volumes) await d.volumes?.release(v).catch(() => undefined);
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

  async function release(m: TempMount): Promise<void> {
    if (--m.users > 0) return;
    if (temp.get(m.key) === m) temp.delete(m.key);
    await unmount(m.dir); // lazily, with the binds below it
    await fsp.rmdir(m.dir).catch(() => {});
    for (const v of m.volumes) await d.volumes?.release(v).catch(() => undefined);
  }

  /** Binds each volume and bind source onto its target in the root, parents first. */
  async function bindMountPoints(rec: ContainerRecord, dir: string, volumes: string[]): Promise<void> {
    const points = Object.values(rec.MountPoints ?? {})
      .filter((p) => p.Type !== 'tmpfs')
      .sort((a, b) => a.Destination.split('/').length - b.Destination.split('/').length);
    if (!points.length) return;
    const root = await openRootDir(dir);
    try {
      for (const p of points) {
        let source = p.Source;
        if (p.Type === 'volume' && p.Name && d.volumes) {
          source = await d.volumes.mountPath(p.Name);
          volumes.push(p.Name);
        }
        const st = await fsp.stat(source).catch(() => undefined);
        if (!st) continue; // a bind source gone from the host: the start would make it
        // The target is made inside the root as the runtime would, never through a link out.
        const target = await resolvePath(root, p.Destination, { followFinal: true, mkdirs: st.isDirectory() });
        try {
          if (target.name && !(await target.lstat().catch(() => undefined))) {
            await (await fsp.open(target.hostPath, 'wx', 0o644)).close();
          }
          const flags = MS_BIND | (p.Spec.BindOptions?.NonRecursive ? 0 : MS_REC);
          mount(source, target.hostPath, null, flags, null);
        } finally {
          await target.close();
        }
      }
    } finally {
      await root.close();
    }
  }

  const mounted = (rec: ContainerRecord) => rec.State.Status === 'running' || rec.State.Status === 'paused';
  const runningRoot = async (rec: ContainerRecord, withMounts: boolean): Promise<string> => {
    if (!withMounts) return join(d.execRoot, 'containers', rec.Id, 'rootfs');
    const live = await liveRoot(rec);
    if (!live) throw new EngineError(409, `container ${rec.Id} is not running`);
    return live;
  };
  return async (ref, fn, opts = {}) => {
    const rec = d.store.get(ref); // 404 "No such container: ref"
    const withMounts = !!opts.mounts && Object.keys(rec.MountPoints ?? {}).length > 0;
    if (mounted(rec)) return fn(await runningRoot(rec, withMounts), rec);
    const copy = async () => {
      // It may have started while the lock was awaited: then its own mount serves.
      if (mounted(rec)) return fn(await runningRoot(rec, withMounts), rec);
      const m = await acquire(rec, withMounts);
      try {
        return await fn(m.dir, rec);
      } finally {
        await release(m);
      }
    };
    // A container between two runs of a restart policy has no mount either.
    return d.exclusive ? d.exclusive(rec.Id, copy) : copy();
  };
}
