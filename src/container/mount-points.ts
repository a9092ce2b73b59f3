// A container's mount points, decided at create as dockerd's registerMountPoints and
// createContainerOSSpecificSettings do: the volumes of --volumes-from containers first,
// then -v (Binds) and --mount (Mounts) over them, then an anonymous volume for each path
// of Config.Volumes (the image's VOLUME and `-v /path`) that nothing else covers. The
// volumes this asks for are created here; a create that fails afterwards removes those
// it made.
import { existsSync } from 'node:fs';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';
import { duplicateMountPoint, inheritedMountPoint, isAnonymous, parseBind, parseMountSpec, parseVolumesFrom, type MountPoint } from '../volume/mount-point.ts';
import type { VolumeService } from '../volume/service.ts';
import { posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import { log } from '../util/log.ts';

export interface MountPlanDeps {
  volumes: Pick<VolumeService, 'create' | 'get' | 'remove'>;
  store: Pick<ContainerStore, 'get'>;
}

/** What a create made, to undo if the create fails later. */
export interface MountRegistration {
  mountPoints: Record<string, MountPoint>;
  createdVolumes: string[];
}

export async function registerMountPoints(rec: ContainerRecord, d: MountPlanDeps): Promise<MountRegistration> {
  const hc = rec.HostConfig;
  const points = new Map<string, MountPoint>();
  const created: string[] = [];
  // A volume that did not exist before this create is undone with it.
  // dockerd shows Mode "z" for local volumes of -v and --mount, "" for Config.Volumes ones.
  const ensureVolume = async (mp: MountPoint, opts: { labels?: Record<string, string> | null; driverOpts?: Record<string, string> | null } = {}, relabel = true) => {
    const existed = !!mp.Name && hasVolume(d, mp.Name);
    const v = await d.volumes.create({ Name: mp.Name ?? '', Driver: mp.Driver ?? '', Labels: opts.labels ?? null, DriverOpts: opts.driverOpts ?? null });
    if (!existed) created.push(v.Name);
    mp.Name = v.Name;
    mp.Driver = v.Driver;
    mp.Source = v.Mountpoint;
    if (relabel && mp.Driver === 'local' && mp.Mode === '') mp.Mode = 'z';
  };
  try {
    // 1. --volumes-from: the donor's mount points (read-only with ":ro").
    for (const spec of hc.VolumesFrom ?? []) {
      const { id, mode } = parseVolumesFrom(spec);
      const donor = d.store.get(id);
      for (const m of Object.values(donor.MountPoints ?? {})) {
        if (m.Type === 'volume' && m.Name) d.volumes.get(m.Name); // gone: dockerd's "no such volume"
        points.set(m.Destination, inheritedMountPoint(m, mode));
      }
    }
    // 2. -v and --mount; the same destination twice (or also a --tmpfs) is an error.
    const taken = new Set<string>();
    for (const raw of hc.Binds ?? []) {
      const mp = parseBind(raw, hc.VolumeDriver ?? '');
      if (taken.has(mp.Destination) || (hc.Tmpfs && mp.Destination in hc.Tmpfs)) throw duplicateMountPoint(mp.Destination);
      if (mp.Type === 'volume') await ensureVolume(mp);
      taken.add(mp.Destination);
      points.set(mp.Destination, mp);
    }
    for (const m of hc.Mounts ?? []) {
      const mp = parseMountSpec(m, existsSync);
      if (taken.has(mp.Destination)) throw duplicateMountPoint(m.Target ?? '');
      if (mp.Type === 'volume') {
        await ensureVolume(mp, { labels: m.VolumeOptions?.Labels, driverOpts: m.VolumeOptions?.DriverConfig?.Options });
      }
      taken.add(mp.Destination);
      points.set(mp.Destination, mp);
    }
    // 3. Config.Volumes: anonymous volumes where nothing is mounted yet.
    for (const path of Object.keys(rec.Config.Volumes ?? {})) {
      const dest = posix.normalize(path).replace(/(.)\/$/, '$1');
      if (!posix.isAbsolute(dest)) throw badParameter(`invalid mount config for type "volume": invalid mount path: '${path}' mount path must be absolute`);
      if (dest === '/') throw badParameter(`invalid mount config for type "volume": invalid specification: destination can't be '/'`);
      if (points.has(dest) || (hc.Tmpfs && dest in hc.Tmpfs)) continue;
      const mp: MountPoint = { Type: 'volume', Source: '', Destination: dest, Mode: '', RW: true, Propagation: '', CopyData: true, Spec: {} };
      await ensureVolume(mp, {}, false);
      points.set(dest, mp);
    }
  } catch (err) {
    await removeVolumes(d, created);
    throw err;
  }
  return { mountPoints: Object.fromEntries(points), createdVolumes: created };
}

function hasVolume(d: MountPlanDeps, name: string): boolean {
  try {
    d.volumes.get(name);
    return true;
  } catch {
    return false;
  }
}

/** Removes volumes (a failed create's, or anonymous ones at rm -v); in use elsewhere is no error. */
export async function removeVolumes(d: Pick<MountPlanDeps, 'volumes'>, names: string[]): Promise<void> {
  for (const name of names) {
    await d.volumes.remove(name).catch((err) => log.debug('volume kept', { volume: name, error: (err as Error).message }));
  }
}

/** The anonymous volumes of a container: `rm -v` and `run --rm` remove them. */
export function anonymousVolumes(rec: ContainerRecord): string[] {
  return Object.values(rec.MountPoints ?? {}).flatMap((m) => (isAnonymous(m) && m.Name ? [m.Name] : []));
}

/** Containers whose mount points use the volume (created and stopped ones too). */
export function containersUsing(store: { list(): ContainerRecord[] }, volume: string): string[] {
  return store
    .list()
    .filter((c) => Object.values(c.MountPoints ?? {}).some((m) => m.Type === 'volume' && m.Name === volume))
    .map((c) => c.Id);
}
