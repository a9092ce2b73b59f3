// Container records: in memory for lookups, on disk as one atomically written file per
// container. The record file is the commit point of a create: a directory without it is
// the leftover of an interrupted create and is removed at start.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './record.ts';
import { readJson, writeJsonAtomic, isTempName } from '../util/atomic.ts';
import { badParameter, conflict, notFound } from '../util/errors.ts';
import { log } from '../util/log.ts';

const RECORD = 'config.v2.json';

export class ContainerStore {
  readonly root: string;
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>();

  constructor(root: string) {
    this.root = root;
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o710 });
    for (const id of await fsp.readdir(this.root)) {
      const dir = this.dir(id);
      for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
        if (isTempName(f)) await fsp.rm(join(dir, f), { force: true });
      }
      const rec = await readJson<ContainerRecord>(join(dir, RECORD)).catch(() => undefined);
      if (!rec || rec.Id !== id) {
        log.warn('removing leftover of an interrupted create', { id });
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      this.byId.set(id, rec);
      this.byName.set(rec.Name, id);
    }
  }

  list(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Docker's lookup order: full id, exact name, then a unique id prefix. */
  find(ref: string): ContainerRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const [id, rec] of this.byId) {
      if (id.startsWith(ref)) {
        if (found) throw badParameter(`multiple IDs found with provided prefix: ${ref}`);
        found = rec;
      }
    }
    return found;
  }

  get(ref: string): ContainerRecord {
    if (!ref) throw notFound('No such container: ');
    const rec = this.find(ref);
    if (!rec) throw notFound(`No such container: ${ref}`);
    return rec;
  }

  /** Claims a name for a container being created; 409 when another container has it. */
  reserveName(name: string, id: string): void {
    const holder = this.byName.get(name);
    if (holder && holder !== id) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  /** Writes the record; the first save of a new container commits its creation. */
  async save(rec: ContainerRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir(rec.Id), RECORD), rec);
    this.byId.set(rec.Id, rec);
  }

  /** Removes the record first (the commit point of a removal), then the directory. */
  async remove(rec: ContainerRecord): Promise<void> {
    await fsp.rm(join(this.dir(rec.Id), RECORD), { force: true });
    this.byId.delete(rec.Id);
    this.releaseName(rec.Name, rec.Id);
    await fsp.rm(this.dir(rec.Id), { recursive: true, force: true });
  }
}
