// Docker's rules for deleting images (daemon/images/image_delete.go): which references
// count as "one repository", whether a name is an id prefix, and the conflict kinds.
import { fullName, type Reference } from './reference.ts';

/** A container that uses an image: a bare id counts as a stopped container. */
export type ImageUser = string | { id: string; running: boolean };
export type UsedBy = (imageId: string) => readonly ImageUser[];

export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export const CONFLICT_DEPENDENT_CHILD = 1;
export const CONFLICT_RUNNING = 2;
export const CONFLICT_ACTIVE_REFERENCE = 4;
export const CONFLICT_STOPPED = 8;
/** Conflicts force does not override. */
export const CONFLICT_HARD = CONFLICT_DEPENDENT_CHILD | CONFLICT_RUNNING;
export const CONFLICT_SOFT = CONFLICT_ACTIVE_REFERENCE | CONFLICT_STOPPED;

export function normalizeUsers(list: readonly ImageUser[]): { id: string; running: boolean }[] {
  return list.map((u) => (typeof u === 'string' ? { id: u, running: false } : u));
}

/** Docker's isImageIDPrefix: "sha256:3f57..." or "3f57..." prefixes of the id. */
export function isImageIdPrefix(id: string, s: string): boolean {
  return id.startsWith(s) || id.slice('sha256:'.length).startsWith(s);
}

/** All references within one repository, with at most one tag (Docker's isSingleReference). */
export function isSingleReference(refs: readonly Reference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: Reference | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) canonical.add(fullName(r));
    else if (!single) single = r;
    else return false;
  }
  single ??= refs[0];
  return canonical.size === 1 && canonical.has(fullName(single));
}
