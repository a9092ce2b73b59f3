// A container's mount points made ready at each start, as dockerd's setupMounts: volumes
// mounted (driver options) and held while it runs, bind sources created when missing,
// the image's content copied into an empty volume on the first start, a volume subpath
// pinned by file descriptor so a link swapped in later cannot redirect it, and the OCI
// mount entries with dockerd's options (rbind/bind, ro or rro, propagation).
import { execFile } from 'node:child_process';
import { constants, promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import type { ContainerRecord } from './record.ts';
import { openRootDir, resolvePath } from './archive-path.ts';
import { tmpfsMount } from '../runtime/mounts.ts';
import type { OciMount } from '../runtime/types.ts';
import { parseMountinfo } from '../explain/mountinfo.ts';
import { convertTmpfsOptions, type MountPoint } from '../volume/mount-point.ts';
import { copyIntoEmptyVolume } from '../volume/copy-up.ts';
import type { VolumeService } from '../volume/service.ts';
import { EngineError, badParameter } from '../util/errors.ts';
import { MNT_DETACH, MS_BIND, hasCode, mount, umount2 } from '../util/native.ts';
import { log } from '../util/log.ts';

/** What the task runner asks of the mounts at a start and at an exit. */
export interface TaskMounts {
  /** OCI mounts for the container's mount points; `rootfs` is its mounted root (not yet running). */
  setup(rec: ContainerRecord, rootfs: string, runtimePath: string): Promise<OciMount[]>;
  /** After the run: volumes released, subpath pins undone. */
  release(rec: ContainerRecord): Promise<void>;
  /** A container found running at daemon start holds its volumes again. */
  adopt(rec: ContainerRecord): void;
  /** Daemon start: subpath pins of containers that do not run any more (a crash left them). */
  cleanupOrphans(active: Set<string>): Promise<void>;
}

export interface ContainerMountsOptions {
  volumes: VolumeService;
  execRoot: string;
}

const O_PATH = 0o10000000;

export class ContainerMounts implements TaskMounts {
  private readonly o: ContainerMountsOptions;
  private readonly rro = new Map<string, Promise<boolean>>();
  /** Containers whose volumes are held now (mount events were sent). */
  private readonly holding = new Set<string>();

  constructor(o: ContainerMountsOptions) {
    this.o = o;
  }

  private pinDir(id: string): string {
    return join(this.o.execRoot, 'subpaths', id);
  }

  async setup(rec: ContainerRecord, rootfs: string, runtimePath: string): Promise<OciMount[]> {
    const points = Object.values(rec.MountPoints ?? {}).sort((a, b) => (a.Destination < b.Destination ? -1 : 1));
    const out: OciMount[] = [];
    const held: string[] = [];
    try {
      for (const [i, mp] of points.entries()) {
        if (mp.Type === 'tmpfs') {
          out.push(tmpfsMount(mp.Destination, convertTmpfsOptions(mp.Spec)));
          continue;
        }
        let source = mp.Source;
        if (mp.Type === 'volume' && mp.Name) {
          source = await this.o.volumes.mountPath(mp.Name);
          await this.o.volumes.use(mp.Name, rec.Id);
          held.push(mp.Name);
          const sub = mp.Spec.VolumeOptions?.Subpath;
          if (sub) source = await this.pinSubpath(rec.Id, i, source, sub);
          else if (mp.CopyData) await this.copyImageContent(rootfs, mp, source);
          this.o.volumes.events?.('mount', { Name: mp.Name, Driver: mp.Driver ?? 'local' }, {
            container: rec.Id,
            destination: mp.Destination,
            driver: mp.Driver ?? 'local',
            propagation: mp.Propagation,
            'read/write': String(mp.RW),
          });
        } else if (mp.Type === 'bind') {
          await createBindSource(source);
          await checkPropagation(mp);
        }
        out.push({ destination: mp.Destination, type: 'bind', source, options: await this.bindOptions(mp, runtimePath) });
      }
      if (held.length) this.holding.add(rec.Id);
      return out;
    } catch (err) {
      this.holding.add(rec.Id);
      await this.releaseNames(rec, held);
      throw err;
    }
  }

  async release(rec: ContainerRecord): Promise<void> {
    const names = Object.values(rec.MountPoints ?? {}).flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : []));
    await this.releaseNames(rec, names);
  }

  adopt(rec: ContainerRecord): void {
    for (const m of Object.values(rec.MountPoints ?? {})) {
      if (m.Type !== 'volume' || !m.Name) continue;
      this.holding.add(rec.Id);
      void this.o.volumes.use(m.Name, rec.Id).catch(() => undefined);
    }
  }

  async cleanupOrphans(active: Set<string>): Promise<void> {
    const root = join(this.o.execRoot, 'subpaths');
    for (const id of await fsp.readdir(root).catch(() => [] as string[])) {
      if (!active.has(id)) await unpinAll(join(root, id));
    }
  }

  /** Idempotent: an exit found at daemon start releases what no run of this daemon held. */
  private async releaseNames(rec: ContainerRecord, names: string[]): Promise<void> {
    const held = this.holding.delete(rec.Id);
    await unpinAll(this.pinDir(rec.Id));
    for (const name of names) {
      await this.o.volumes.unuse(name, rec.Id).catch((err) => log.warn('volume release failed', { volume: name, error: err }));
      if (!held) continue;
      const driver = Object.values(rec.MountPoints ?? {}).find((m) => m.Name === name)?.Driver ?? 'local';
      this.o.volumes.events?.('unmount', { Name: name, Driver: driver }, { container: rec.Id, driver });
    }
  }

  /**
   * dockerd's populateVolumes, done at the first start (the root is mounted then anyway):
   * the image's directory at the destination, looked up inside the root without leaving
   * it, into the volume if that is empty. Once tried, the mount point copies no more.
   */
  private async copyImageContent(rootfs: string, mp: MountPoint, volumeDir: string): Promise<void> {
    const root = await openRootDir(rootfs);
    try {
      const found = await resolvePath(root, mp.Destination, { followFinal: true }).catch((err) => {
        if (hasCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
        throw err;
      });
      if (!found) return;
      try {
        const st = await found.lstat().catch(() => undefined);
        if (!st) return;
        // An image file where the volume goes: dockerd's refusal for a Config.Volumes path.
        if (!st.isDirectory()) {
          if (!mp.Spec.Type) throw badParameter(`cannot mount volume over existing file, file exists ${join(rootfs, mp.Destination)}`);
          return;
        }
        await copyIntoEmptyVolume(found.hostPath, volumeDir);
      } finally {
        await found.close();
      }
    } finally {
      await root.close();
    }
    mp.CopyData = false;
  }

  /**
   * `volume-subpath`: the path is resolved inside the volume by directory fd and bind-mounted
   * from that fd onto a private pin, which the runtime then binds: a link a container swaps
   * into the volume afterwards changes nothing.
   */
  private async pinSubpath(id: string, index: number, volumeDir: string, sub: string): Promise<string> {
    const root = await openRootDir(volumeDir);
    try {
      const found = await resolvePath(root, posix.normalize('/' + sub), { followFinal: true }).catch((err) => {
        throw new EngineError(400, `cannot access path ${join(volumeDir, sub)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      });
      try {
        const st = await found.lstat().catch(() => undefined);
        if (!st) throw new EngineError(400, `cannot access path ${join(volumeDir, sub)}: ENOENT`);
        const pin = join(this.pinDir(id), String(index));
        await fsp.mkdir(this.pinDir(id), { recursive: true, mode: 0o700 });
        if (st.isDirectory()) await fsp.mkdir(pin, { mode: 0o700 }).catch(ignoreExists);
        else await (await fsp.open(pin, constants.O_CREAT | constants.O_WRONLY, 0o600)).close();
        // A directory is the resolved handle itself; a file is opened (not followed) beside it.
        const fd = found.name ? await fsp.open(found.hostPath, O_PATH | constants.O_NOFOLLOW) : undefined;
        try {
          mount(`/proc/self/fd/${(fd ?? found.dir).fd}`, pin, null, MS_BIND, null);
        } finally {
          await fd?.close();
        }
        return pin;
      } finally {
        await found.close();
      }
    } finally {
      await root.close();
    }
  }

  /** dockerd's bind options: rbind (bind if non-recursive), ro or rro, the propagation. */
  private async bindOptions(mp: MountPoint, runtimePath: string): Promise<string[]> {
    const bo = mp.Spec.BindOptions;
    const opts = [bo?.NonRecursive ? 'bind' : 'rbind'];
    if (!mp.RW) {
      let rro = !bo?.ReadOnlyNonRecursive;
      if (rro && !(await this.supportsRro(runtimePath))) {
        if (bo?.ReadOnlyForceRecursive) throw badParameter('recursively read-only mounts are not supported by the runtime');
        rro = false;
      }
      opts.push(rro ? 'rro' : 'ro');
    }
    if (mp.Propagation) opts.push(mp.Propagation);
    return opts;
  }

  /** Whether the runtime knows "rro" (`<runtime> features`, asked once per runtime). */
  private supportsRro(runtimePath: string): Promise<boolean> {
    let p = this.rro.get(runtimePath);
    if (!p) {
      p = new Promise((resolve) => {
        execFile(runtimePath, ['features'], { timeout: 10_000 }, (err, stdout) => {
          if (err) return resolve(false);
          try {
            resolve(((JSON.parse(stdout) as { mountOptions?: string[] }).mountOptions ?? []).includes('rro'));
          } catch {
            resolve(false);
          }
        });
      });
      this.rro.set(runtimePath, p);
    }
    return p;
  }
}

function ignoreExists(err: unknown): void {
  if (!hasCode(err, 'EEXIST')) throw err;
}

/** dockerd creates a missing bind source as a directory (a file in the way is left to the runtime). */
async function createBindSource(source: string): Promise<void> {
  try {
    await fsp.mkdir(source, { recursive: true, mode: 0o755 });
  } catch (err) {
    if (hasCode(err, 'EEXIST', 'ENOTDIR')) return;
    throw new EngineError(500, `error while creating mount source path '${source}': ${(err as Error).message}`);
  }
}

/** Shared or slave propagation needs a host mount of the same kind under the source. */
async function checkPropagation(mp: MountPoint): Promise<void> {
  const p = mp.Propagation;
  const shared = p === 'shared' || p === 'rshared';
  const slave = p === 'slave' || p === 'rslave';
  if (!shared && !slave) return;
  const real = await fsp.realpath(mp.Source);
  const entries = parseMountinfo(await fsp.readFile('/proc/self/mountinfo', 'utf8'));
  let best: (typeof entries)[number] | undefined;
  for (const e of entries) {
    const under = e.mountPoint === '/' || real === e.mountPoint || real.startsWith(e.mountPoint + '/');
    if (under && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  if (!best) return;
  const isShared = best.optional.some((o) => o.startsWith('shared:'));
  const isSlave = best.optional.some((o) => o.startsWith('master:'));
  if (shared && !isShared) throw new EngineError(500, `path ${mp.Source} is mounted on ${best.mountPoint} but it is not a shared mount`);
  if (slave && !isShared && !isSlave) throw new EngineError(500, `path ${mp.Source} is mounted on ${best.mountPoint} but it is not a shared or slave mount`);
}

/** Detaches and removes the subpath pins of a container (the directory holds nothing else). */
export async function unpinAll(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    try {
      umount2(p, MNT_DETACH);
    } catch (err) {
      if (!hasCode(err, 'EINVAL', 'ENOENT')) throw err;
    }
    // rm, never recursive: a pin still mounted must not let a removal reach into the volume.
    await fsp.rmdir(p).catch(() => fsp.unlink(p)).catch(() => undefined);
  }
  await fsp.rmdir(dir).catch(() => undefined);
}
