// Volume directories on disk: <root>/<name>/{_data/, volume.json}. A volume is assembled
// in a staging directory (.tmp-<name>-<rand>) and renamed into place, and a removal
// renames it away (.rm-<name>-<rand>) before deleting, so a kill -9 at any instant
// leaves a whole volume or none; open() deletes the leftovers.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeJsonAtomic, isTempName } from '../util/atomic.ts';
import type { VolumeRecord } from './types.ts';

const RECORD = 'volume.json';
export const DATA_DIR = '_data';

export class VolumeStore {
  readonly root: string;
  private readonly byName = new Map<string, VolumeRecord>();

  private constructor(root: string) {
    this.root = root;
  }

  /**
   * Loads every volume. `beforeDelete` runs on a leftover directory before it is deleted
   * (the service unmounts whatever a crashed daemon left mounted in it).
   */
  static async open(root: string, beforeDelete: (dir: string) => Promise<void> = async () => {}): Promise<VolumeStore> {
    const s = new VolumeStore(root);
    await fsp.mkdir(root, { recursive: true, mode: 0o701 });
    for (const name of await fsp.readdir(root)) {
      const dir = join(root, name);
      if (name.startsWith('.tmp-') || name.startsWith('.rm-')) {
        await beforeDelete(dir);
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      let rec: VolumeRecord | undefined;
      try {
        for (const f of await fsp.readdir(dir)) if (isTempName(f)) await fsp.rm(join(dir, f), { force: true });
        rec = await readJson<VolumeRecord>(join(dir, RECORD));
      } catch {
        continue; // not a directory of ours, or unreadable: skipped rather than stopping the daemon
      }
      if (rec && rec.Name === name) s.byName.set(name, rec);
    }
    return s;
  }

  dataPath(name: string): string {
    return join(this.root, name, DATA_DIR);
  }

  list(): VolumeRecord[] {
    return [...this.byName.values()];
  }

  get(name: string): VolumeRecord | undefined {
    return this.byName.get(name);
  }

  /** Creates a new volume's directory and record in one rename. */
  /** `owner`: who owns _data (the remapped root under --userns-remap). */
  async create(rec: VolumeRecord, owner?: { uid: number; gid: number }): Promise<void> {
    const stage = join(this.root, `.tmp-${rec.Name}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.mkdir(join(stage, DATA_DIR), { recursive: true, mode: 0o755 });
      await fsp.chmod(join(stage, DATA_DIR), 0o755); // whatever the umask: containers' users must reach it
      if (owner) await fsp.chown(join(stage, DATA_DIR), owner.uid, owner.gid);
      await writeJsonAtomic(join(stage, RECORD), rec);
      await fsp.rename(stage, join(this.root, rec.Name));
    } catch (err) {
      await fsp.rm(stage, { recursive: true, force: true });
      throw err;
    }
    this.byName.set(rec.Name, rec);
  }

  /** Forgets a volume and deletes its directory (its _data must not be mounted). */
  async delete(name: string): Promise<void> {
    const gone = join(this.root, `.rm-${name}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(join(this.root, name), gone);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.byName.delete(name);
    await fsp.rm(gone, { recursive: true, force: true });
  }
}
