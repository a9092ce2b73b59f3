// Named volumes as dockerd's volume service and local driver see them: create (a random
// 64-hex name when none is given), lookup, Docker's list/prune filters, removal refused
// while containers use the volume, and the driver options (type/device/o) mounted at first
// use and unmounted when the last user releases it or the daemon stops.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError, badParameter, conflict, notFound } from '../util/errors.ts';
import { log } from '../util/log.ts';
import { mountPoints, mountSpec, mountVolume, needsMount, unmountAll } from './mounts.ts';
import { VolumeStore } from './store.ts';
import { ANONYMOUS_LABEL, type Volume, type VolumeCreateRequest, type VolumeEventSink, type VolumeRecord, type VolumeUsage } from './types.ts';

export type VolumeFilters = Record<string, string[]>;

const LIST_FILTERS = new Set(['dangling', 'name', 'driver', 'label']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);
const VALID_OPTS = new Set(['type', 'device', 'o', 'size']);
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** dockerd's OpErr text: "<op> <name>: <cause>". */
function opErr(make: (m: string) => EngineError, op: string, name: string, cause: string): EngineError {
  return make(`${op}${name ? ' ' + name : ''}: ${cause}`);
}

export interface VolumeServiceOptions {
  /** Ids of the containers that reference a volume (created ones too, not only running). */
  inUse?: (name: string) => string[];
  events?: VolumeEventSink;
  /** Owner of new volumes' _data: the remapped root under --userns-remap. */
  dataOwner?: { uid: number; gid: number };
}

export class VolumeService {
  readonly store: VolumeStore;
  inUse: (name: string) => string[];
  events: VolumeEventSink | undefined;
  private readonly dataOwner: { uid: number; gid: number } | undefined;
  /** Containers holding each volume's mount (use/unuse). */
  private readonly users = new Map<string, Set<string>>();
  /** Volumes whose options are mounted on _data now. */
  private readonly mounted = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(store: VolumeStore, opts: VolumeServiceOptions) {
    this.store = store;
    this.inUse = opts.inUse ?? (() => []);
    this.events = opts.events;
    this.dataOwner = opts.dataOwner;
  }

  /** Opens <root> (usually <data-root>/volumes). Mounts a killed daemon left are adopted. */
  static async open(root: string, opts: VolumeServiceOptions = {}): Promise<VolumeService> {
    const store = await VolumeStore.open(root, async (dir) => {
      for (const p of await mountPoints()) if (p.startsWith(dir + '/')) unmountAll(p);
    });
    const svc = new VolumeService(store, opts);
    const points = new Set(await mountPoints());
    for (const v of store.list()) if (needsMount(v.Options) && points.has(store.dataPath(v.Name))) svc.mounted.add(v.Name);
    return svc;
  }

  /** Mutations run one at a time, so name checks and mount counts see a settled state. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async create(req: VolumeCreateRequest = {}): Promise<Volume> {
    return this.serial(async () => {
      let name = req.Name ?? '';
      const labels = req.Labels ? { ...req.Labels } : null;
      const anonymous = name === '';
      if (anonymous) name = this.randomName();
      const driver = req.Driver || 'local';
      const existing = this.store.get(name);
      if (existing) {
        if (existing.Driver !== driver) throw opErr(conflict, 'create', name, `driver '${existing.Driver}' already has volume '${name}': volume name must be unique`);
        return this.view(existing);
      }
      if (driver !== 'local') throw opErr(notFound, 'create', name, `error looking up volume plugin ${driver}: plugin "${driver}" not found`);
      if (name.length === 1) throw opErr(badParameter, 'create', name, 'volume name is too short, names should be at least two alphanumeric characters');
      if (!NAME_RE.test(name)) {
        throw opErr(badParameter, 'create', name, `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
      }
      const options = req.DriverOpts ? { ...req.DriverOpts } : null;
      validateOpts(name, options);
      const rec: VolumeRecord = {
        Name: name,
        Driver: 'local',
        CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Labels: anonymous ? { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' } : labels,
        Options: options,
      };
      await this.store.create(rec, this.dataOwner);
      this.events?.('create', rec, { driver: rec.Driver });
      return this.view(rec);
    });
  }

  get(name: string): VolumeRecord {
    const v = this.store.get(name);
    if (!v) throw opErr(notFound, 'get', name, 'no such volume');
    return v;
  }

  inspect(name: string): Volume {
    return this.view(this.get(name));
  }

  /** GET /volumes. `usage` adds UsageData (system df). */
  async list(filters: VolumeFilters = {}, usage = false): Promise<{ Volumes: Volume[]; Warnings: string[] | null }> {
    for (const k of Object.keys(filters)) if (!LIST_FILTERS.has(k)) throw badParameter(`invalid filter '${k}'`);
    let dangling: boolean | undefined;
    if (filters.dangling?.length) dangling = parseBoolFilter('dangling', filters.dangling);
    const out: Volume[] = [];
    for (const v of this.sorted()) {
      if (filters.driver?.length && !filters.driver.includes(v.Driver)) continue;
      if (filters.name?.length && !filters.name.some((n) => nameMatches(n, v.Name))) continue;
      if (!labelsPass(v.Labels ?? {}, filters)) continue;
      if (dangling !== undefined && (this.usersOf(v.Name).length === 0) !== dangling) continue;
      const view = this.view(v);
      if (usage) view.UsageData = await this.usage(v.Name);
      out.push(view);
    }
    return { Volumes: out, Warnings: null };
  }

  /** Size of _data and the number of containers referencing the volume. */
  async usage(name: string): Promise<VolumeUsage> {
    return { Size: await dirSize(this.store.dataPath(name)), RefCount: this.usersOf(name).length };
  }

  /** DELETE /volumes/{name}: refused while in use, even with force; force ignores a missing volume. */
  async remove(name: string, force = false): Promise<void> {
    return this.serial(async () => {
      const v = this.store.get(name);
      if (!v) {
        if (force) return;
        throw opErr(notFound, 'get', name, 'no such volume');
      }
      const refs = this.usersOf(name);
      if (refs.length) throw conflict(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
      await this.unmount(name);
      await this.store.delete(name);
      this.events?.('destroy', v, { driver: v.Driver });
    });
  }

  /** POST /volumes/prune: unused volumes; only anonymous ones unless all=true (Docker 23+). */
  async prune(filters: VolumeFilters = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters)) if (!PRUNE_FILTERS.has(k)) throw badParameter(`invalid filter '${k}'`);
    const all = filters.all ?? [];
    if (all.length > 1) throw badParameter(`invalid filter 'all=[${all.join(' ')}]': only one value is expected`);
    const f: VolumeFilters = { ...filters };
    if (!(all.length === 1 && parseGoBool(all[0]!))) f.label = [...(f.label ?? []), ANONYMOUS_LABEL];
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.sorted()) {
      if (!labelsPass(v.Labels ?? {}, f) || this.usersOf(v.Name).length) continue;
      const size = await dirSize(this.store.dataPath(v.Name));
      try {
        await this.remove(v.Name);
      } catch (err) {
        if (err instanceof EngineError) continue; // came into use meanwhile
        throw err;
      }
      deleted.push(v.Name);
      if (size > 0) reclaimed += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** Records that a container holds the volume (started with it mounted). */
  async use(name: string, containerId: string): Promise<void> {
    this.get(name);
    let set = this.users.get(name);
    if (!set) this.users.set(name, (set = new Set()));
    set.add(containerId);
  }

  /** Drops a container's hold; the last one out unmounts the volume's options. */
  async unuse(name: string, containerId: string): Promise<void> {
    const set = this.users.get(name);
    set?.delete(containerId);
    if (set && set.size === 0) this.users.delete(name);
    await this.release(name);
  }

  /** The directory containers bind for this volume; mounts its options the first time. */
  async mountPath(name: string): Promise<string> {
    return this.serial(async () => {
      const v = this.get(name);
      const path = this.store.dataPath(name);
      if (needsMount(v.Options) && !this.mounted.has(name)) {
        try {
          mountVolume(mountSpec(v.Options!), path);
        } catch (err) {
          throw new EngineError(500, `error while mounting volume '${path}': ${(err as Error).message}`);
        }
        this.mounted.add(name);
      }
      return path;
    });
  }

  /** Unmounts the volume's options when no container holds it any more. */
  async release(name: string): Promise<void> {
    return this.serial(async () => {
      if (this.users.get(name)?.size) return;
      await this.unmount(name);
    });
  }

  /** Daemon stop: mounted volumes no container holds are unmounted (live-restored
   * containers keep theirs, and the next daemon adopts those mounts). */
  async close(): Promise<void> {
    return this.serial(async () => {
      for (const name of [...this.mounted]) {
        if (this.users.get(name)?.size) continue;
        try {
          await this.unmount(name);
        } catch (err) {
          log.warn('volume unmount failed', { volume: name, error: (err as Error).message });
        }
      }
      this.users.clear();
    });
  }

  /** Whether the volume's options are mounted now. */
  isMounted(name: string): boolean {
    return this.mounted.has(name);
  }

  private async unmount(name: string): Promise<void> {
    if (!this.mounted.has(name)) return;
    unmountAll(this.store.dataPath(name));
    this.mounted.delete(name);
  }

  /** Containers referencing the volume: the injected lookup plus the mount holders. */
  private usersOf(name: string): string[] {
    return [...new Set([...this.inUse(name), ...(this.users.get(name) ?? [])])];
  }

  private sorted(): VolumeRecord[] {
    return this.store.list().sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  }

  private view(v: VolumeRecord): Volume {
    return {
      CreatedAt: v.CreatedAt,
      Driver: v.Driver,
      Labels: v.Labels ? { ...v.Labels } : null,
      Mountpoint: this.store.dataPath(v.Name),
      Name: v.Name,
      Options: v.Options ? { ...v.Options } : null,
      Scope: 'local',
    };
  }

  private randomName(): string {
    for (;;) {
      const name = randomBytes(32).toString('hex');
      if (!this.store.get(name)) return name;
    }
  }
}

/** The local driver's option checks (dockerd's texts). */
function validateOpts(name: string, opts: Record<string, string> | null): void {
  if (!opts) return;
  for (const k of Object.keys(opts)) if (!VALID_OPTS.has(k)) throw opErr(badParameter, 'create', name, `invalid option: "${k}"`);
  if (opts.size !== undefined) throw opErr(badParameter, 'create', name, 'quota size requested but no quota support');
  if (opts.type && !opts.device) throw opErr(badParameter, 'create', name, 'missing required option: "device"');
  if (opts.device && !opts.type) throw opErr(badParameter, 'create', name, 'missing required option: "type"');
}

/** filters.Match: an exact name, else the value as a regular expression (a substring when plain). */
function nameMatches(filter: string, name: string): boolean {
  if (filter === name) return true;
  try {
    return new RegExp(filter).test(name);
  } catch {
    return false;
  }
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  const k = filter.slice(0, eq);
  return k in labels && labels[k] === filter.slice(eq + 1);
}

/** Every `label` must match; `label!` excludes a volume that matches all of its values (dockerd's byLabelFilter). */
function labelsPass(labels: Record<string, string>, f: VolumeFilters): boolean {
  if (f.label?.length && !f.label.every((l) => labelMatches(labels, l))) return false;
  if (f['label!']?.length && f['label!'].every((l) => labelMatches(labels, l))) return false;
  return true;
}

function parseBoolFilter(key: string, values: string[]): boolean {
  const v = values.map((x) => x.toLowerCase());
  if (v.some((x) => x === 'true' || x === '1')) return true;
  if (v.some((x) => x === 'false' || x === '0')) return false;
  throw badParameter(`invalid filter '${key}=${values.join(',')}'`);
}

/** Go's strconv.ParseBool, with its error text. */
function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw badParameter(`invalid filter 'all': strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/** Bytes of the files under dir, each inode once (hard links), as dockerd's directory.Size. */
async function dirSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        await walk(p);
        continue;
      }
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
  };
  try {
    await fsp.access(dir);
  } catch {
    return -1;
  }
  await walk(dir);
  return total;
}
