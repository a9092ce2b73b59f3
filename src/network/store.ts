// Network records on disk: one JSON file per network (<dir>/<id>.json), each written with a
// temp file + rename so a kill -9 leaves the old or the new record, never a torn one.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { isTempName, readJson, writeJsonAtomic } from '../util/atomic.ts';
import type { NetworkRecord } from './types.ts';

export class NetworkStore {
  readonly dir: string;
  private readonly byId = new Map<string, NetworkRecord>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Loads every record; leftovers of interrupted writes are removed. */
  static async open(dir: string): Promise<NetworkStore> {
    const s = new NetworkStore(dir);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(dir)) {
      if (isTempName(name)) {
        await fsp.rm(join(dir, name), { force: true });
        continue;
      }
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      let rec: NetworkRecord | undefined;
      try {
        rec = await readJson<NetworkRecord>(join(dir, name));
      } catch {
        continue; // an unreadable record is skipped rather than stopping the daemon
      }
      if (rec && rec.Id && rec.Name) s.byId.set(rec.Id, rec);
    }
    return s;
  }

  list(): NetworkRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): NetworkRecord | undefined {
    return this.byId.get(id);
  }

  async save(rec: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${rec.Id}.json`), rec);
    this.byId.set(rec.Id, rec);
  }

  async delete(id: string): Promise<void> {
    await fsp.rm(join(this.dir, `${id}.json`), { force: true });
    this.byId.delete(id);
  }
}
