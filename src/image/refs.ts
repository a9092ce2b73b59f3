// Repository references (tags and digests) to image ids, kept in memory with a reverse
// index and persisted as one JSON object, rewritten atomically on every change.
import { readJson, writeJsonAtomic } from '../util/atomic.ts';
import { parseExact, referenceString } from './reference.ts';

export class RefIndex {
  private readonly path: string;
  /** Full reference string ("docker.io/library/busybox:latest") -> image id. */
  private readonly byRef = new Map<string, string>();
  private readonly byImage = new Map<string, Set<string>>();

  constructor(path: string) {
    this.path = path;
  }

  /** Loads the file, keeping only well-formed references to images that exist. Returns whether any were dropped. */
  async load(exists: (id: string) => boolean): Promise<boolean> {
    this.byRef.clear();
    this.byImage.clear();
    let dropped = false;
    for (const [key, id] of Object.entries((await readJson<Record<string, string>>(this.path)) ?? {})) {
      if (exists(id) && isRefKey(key)) this.add(key, id);
      else dropped = true;
    }
    return dropped;
  }

  async save(): Promise<void> {
    const obj: Record<string, string> = {};
    for (const k of [...this.byRef.keys()].sort()) obj[k] = this.byRef.get(k)!;
    await writeJsonAtomic(this.path, obj);
  }

  get(key: string): string | undefined {
    return this.byRef.get(key);
  }

  /** The full reference strings of an image, sorted as Docker sorts them. */
  of(id: string): string[] {
    return [...(this.byImage.get(id) ?? [])].sort();
  }

  count(id: string): number {
    return this.byImage.get(id)?.size ?? 0;
  }

  /** Points key at id (moving it from another image if needed). */
  set(key: string, id: string): void {
    this.delete(key);
    this.add(key, id);
  }

  delete(key: string): boolean {
    const old = this.byRef.get(key);
    if (old === undefined) return false;
    this.byRef.delete(key);
    const set = this.byImage.get(old);
    set?.delete(key);
    if (set && set.size === 0) this.byImage.delete(old);
    return true;
  }

  private add(key: string, id: string): void {
    this.byRef.set(key, id);
    let set = this.byImage.get(id);
    if (!set) this.byImage.set(id, (set = new Set()));
    set.add(key);
  }
}

/** A stored key is a full, normalized reference with a tag or a digest. */
function isRefKey(key: string): boolean {
  try {
    const r = parseExact(key);
    return r.domain !== '' && (r.tag !== undefined || r.digest !== undefined) && referenceString(r) === key;
  } catch {
    return false;
  }
}
