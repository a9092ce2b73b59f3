// --userns-remap: dockerd's remapping of container ids into a subordinate range. The
// daemon resolves USER[:GROUP] (or creates "berthremap" for "default", as dockerd does
// for "dockremap"), reads that user's ranges from /etc/subuid and /etc/subgid, and from
// then on: containers get a user namespace mapping 0.. onto those ranges, layers are
// unpacked with ownership shifted into them, and everything lives under
// <data-root>/<uid>.<gid>, apart from the unremapped daemon's images and containers.
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { badParameter } from '../util/errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { HostConfig } from './types.ts';

/** One OCI id mapping (linux.uidMappings / gidMappings). */
export interface IdRange {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdentityMapping {
  /** The user and group whose subordinate ranges are used (dockerd's RemappedRoot). */
  user: string;
  group: string;
  uids: IdRange[];
  gids: IdRange[];
}

export interface IdFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}

export const SYSTEM_ID_FILES: IdFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

/** The user created for `--userns-remap default` (dockerd: "dockremap"). */
export const DEFAULT_REMAP_USER = 'berthremap';
/** Where dockerd starts looking for a free subordinate range, and the size it gives. */
export const RANGE_START = 100000;
export const RANGE_SIZE = 65536;

interface DbEntry {
  name: string;
  id: number;
}

/** /etc/passwd or /etc/group: name and numeric id of each entry. */
function readDb(path: string): DbEntry[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: DbEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !f[0] || line.startsWith('#')) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && id >= 0) out.push({ name: f[0], id });
  }
  return out;
}

export interface SubIdEntry {
  name: string;
  start: number;
  count: number;
}

/** Lines of /etc/subuid or /etc/subgid ("name-or-uid:start:count"). */
export function parseSubIds(text: string): SubIdEntry[] {
  const out: SubIdEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length !== 3) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (!f[0] || !Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count <= 0) continue;
    out.push({ name: f[0], start, count });
  }
  return out;
}

/** First start at or above RANGE_START whose RANGE_SIZE ids overlap no existing range. */
export function nextRangeStart(entries: SubIdEntry[]): number {
  let start = RANGE_START;
  for (const e of [...entries].sort((a, b) => a.start - b.start)) {
    if (e.start < start + RANGE_SIZE && start < e.start + e.count) start = e.start + e.count;
  }
  return start;
}

/** The subordinate file with a RANGE_SIZE range added for name, or undefined when name
 * (or its uid) already has one. */
export function withRangeFor(text: string, name: string, uid: number): string | undefined {
  const entries = parseSubIds(text);
  if (entries.some((e) => e.name === name || e.name === String(uid))) return undefined;
  const start = nextRangeStart(entries);
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${body}${name}:${start}:${RANGE_SIZE}\n`;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Ranges of the user (by name or uid), stacked from container id 0 as dockerd does. */
function loadRanges(path: string, user: DbEntry): IdRange[] {
  const found = parseSubIds(readText(path)).filter((e) => e.name === user.name || e.name === String(user.id));
  if (!found.length) throw new Error(`Can't create ID mappings: no subuid ranges found for user "${user.name}"`);
  const out: IdRange[] = [];
  let containerID = 0;
  for (const e of found) {
    out.push({ containerID, hostID: e.start, size: e.count });
    containerID += e.count;
  }
  return out;
}

/** useradd -r for "default", then ranges (system users get none from the distro tools). */
async function createRemapUser(files: IdFiles): Promise<void> {
  try {
    if (files.passwd === SYSTEM_ID_FILES.passwd) execFileSync('useradd', ['-r', '-s', '/bin/false', DEFAULT_REMAP_USER], { stdio: ['ignore', 'ignore', 'pipe'] });
    const user = readDb(files.passwd).find((u) => u.name === DEFAULT_REMAP_USER);
    if (!user) throw new Error(`user ${DEFAULT_REMAP_USER} was not created`);
    await addSubordinateRanges(DEFAULT_REMAP_USER, user.id, files);
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`Error during "${DEFAULT_REMAP_USER}" user creation: ${stderr || (err as Error).message}`);
  }
}

/**
 * Gives name a RANGE_SIZE range in the subuid and subgid files, each at the first free
 * start from RANGE_START, unless it has one there already (dockerd's
 * createSubordinateRanges). On the system files through usermod --add-subuids/--add-subgids
 * as dockerd; other files (tests) are edited directly.
 */
export async function addSubordinateRanges(name: string, uid: number, files: IdFiles): Promise<void> {
  for (const [path, flag] of [[files.subuid, '-v'], [files.subgid, '-w']] as const) {
    const text = readText(path);
    const next = withRangeFor(text, name, uid);
    if (next === undefined) continue;
    const start = nextRangeStart(parseSubIds(text));
    if (path === SYSTEM_ID_FILES.subuid || path === SYSTEM_ID_FILES.subgid) {
      execFileSync('usermod', [flag, `${start}-${start + RANGE_SIZE - 1}`, name], { stdio: ['ignore', 'ignore', 'pipe'] });
    } else {
      await writeFileAtomic(path, next, 0o644);
    }
  }
}

const INT32 = /^[+-]?[0-9]+$/;

/** USER[:GROUP] | UID[:GID] | default, as dockerd's parseRemappedRoot: the names. */
async function remappedNames(spec: string, files: IdFiles): Promise<{ user: string; group: string }> {
  const parts = spec.split(':');
  if (parts.length > 2) throw new Error(`Invalid user/group specification in --userns-remap: ${JSON.stringify(spec)}`);
  const users = readDb(files.passwd);
  const groups = readDb(files.group);
  let user: string;
  let group = '';
  const first = parts[0]!;
  if (INT32.test(first)) {
    const uid = Number(first);
    const u = users.find((e) => e.id === uid);
    if (!u) throw new Error(`Uid ${uid} has no entry in /etc/passwd: user: unknown userid ${uid}`);
    user = u.name;
    if (parts.length === 1) {
      const g = groups.find((e) => e.id === uid);
      if (!g) throw new Error(`Gid ${uid} has no entry in /etc/group: group: unknown groupid ${uid}`);
      group = g.name;
    }
  } else {
    const name = first === 'default' ? DEFAULT_REMAP_USER : first;
    const u = users.find((e) => e.name === name);
    if (!u && first !== 'default') throw new Error(`Error during uid lookup for ${JSON.stringify(name)}: user: unknown user ${name}`);
    if (!u) {
      await createRemapUser(files);
      return { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER };
    }
    user = u.name;
    if (parts.length === 1) {
      if (!groups.some((e) => e.name === name)) throw new Error(`Error during gid lookup for ${JSON.stringify(name)}: group: unknown group ${name}`);
      group = name;
    }
  }
  if (parts.length === 2) {
    const second = parts[1]!;
    if (INT32.test(second)) {
      const g = groups.find((e) => e.id === Number(second));
      if (!g) throw new Error(`Gid ${Number(second)} has no entry in /etc/passwd: group: unknown groupid ${Number(second)}`);
      group = g.name;
    } else {
      if (!groups.some((e) => e.name === second)) throw new Error(`Error during groupname lookup for ${JSON.stringify(second)}: group: unknown group ${second}`);
      group = second;
    }
  }
  return { user, group };
}

/**
 * The mapping for --userns-remap, or undefined when remapping is off (no flag, or "root",
 * which dockerd accepts and ignores). Throws dockerd's messages; "default" may create the
 * berthremap user and its ranges.
 */
export async function resolveRemap(spec: string, files: IdFiles = SYSTEM_ID_FILES): Promise<IdentityMapping | undefined> {
  if (!spec) return undefined;
  const { user, group } = await remappedNames(spec, files);
  if (user === 'root') return undefined;
  const entry = readDb(files.passwd).find((e) => e.name === user);
  if (!entry) throw new Error(`Can't create ID mappings: could not get user for username ${user}`);
  // dockerd reads both files for the user (the group only names the remapped root).
  return { user, group, uids: loadRanges(files.subuid, entry), gids: loadRanges(files.subgid, entry) };
}

/** The host ids of root in the containers. */
export function rootPair(m: IdentityMapping): { uid: number; gid: number } {
  return { uid: toHost(m.uids, 0), gid: toHost(m.gids, 0) };
}

/** A container id's host id; an id outside every range cannot be represented. */
export function toHost(ranges: readonly IdRange[], id: number): number {
  for (const r of ranges) if (id >= r.containerID && id < r.containerID + r.size) return r.hostID + (id - r.containerID);
  throw badParameter(`Container ID ${id} cannot be mapped to a host ID`);
}

/** Shifts a (uid, gid) pair from a layer into the ranges. */
export function shifter(m: IdentityMapping): (uid: number, gid: number) => [number, number] {
  return (uid, gid) => [toHost(m.uids, uid), toHost(m.gids, gid)];
}

/** The inverse of toHost: a host id in the ranges as the container sees it. */
export function toContainer(ranges: readonly IdRange[], id: number): number {
  for (const r of ranges) if (id >= r.hostID && id < r.hostID + r.size) return r.containerID + (id - r.hostID);
  throw badParameter(`Host ID ${id} cannot be mapped to a container ID`);
}

/** Shifts a (uid, gid) pair of the host's files back into a layer's (commit). */
export function unshifter(m: IdentityMapping): (uid: number, gid: number) => [number, number] {
  return (uid, gid) => [toContainer(m.uids, uid), toContainer(m.gids, gid)];
}

/** The id maps of `docker cp` for a remapped container: host files owned outside the
 * ranges show as the overflow id (65534), as the kernel shows them inside. */
export function archiveIdMaps(m: IdentityMapping): { toHost: (uid: number, gid: number) => { uid: number; gid: number }; toContainer: (uid: number, gid: number) => { uid: number; gid: number } } {
  const inside = (ranges: readonly IdRange[], id: number) => {
    try {
      return toContainer(ranges, id);
    } catch {
      return OVERFLOW_ID;
    }
  };
  return {
    toHost: (uid, gid) => ({ uid: toHost(m.uids, uid), gid: toHost(m.gids, gid) }),
    toContainer: (uid, gid) => ({ uid: inside(m.uids, uid), gid: inside(m.gids, gid) }),
  };
}

const OVERFLOW_ID = 65534;

/**
 * dockerd's setupDaemonRoot under remapping: the data root becomes <root>/<uid>.<gid>,
 * owned root:<remapped gid> with 0710 so that the remapped root can traverse it but not
 * list it, and every directory above must let it through.
 */
export async function setupRemappedRoot(dataRoot: string, m: IdentityMapping): Promise<string> {
  const { uid, gid } = rootPair(m);
  const root = join(dataRoot, `${uid}.${gid}`);
  await fsp.mkdir(dataRoot, { recursive: true, mode: 0o711 });
  for (const dir of [root, join(root, 'containers')]) {
    await fsp.mkdir(dir, { recursive: true, mode: 0o710 });
    await fsp.chown(dir, 0, gid);
    await fsp.chmod(dir, 0o710);
  }
  for (let dir = dirname(root); dir !== '/'; dir = dirname(dir)) {
    const st = statSync(dir);
    if ((st.mode & 0o001) === 0) {
      throw new Error(`a subdirectory in your graphroot path (${root}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`);
    }
  }
  return root;
}

/** The spec's user namespace, unless the container asked for the host's (--userns host). */
export function usernsFor(hc: HostConfig, m: IdentityMapping | undefined): { uidMappings: IdRange[]; gidMappings: IdRange[] } | undefined {
  if (!m || hc.UsernsMode === 'host') return undefined;
  return { uidMappings: m.uids.map((r) => ({ ...r })), gidMappings: m.gids.map((r) => ({ ...r })) };
}

/** dockerd's create-time checks of options that a remapped (private) user namespace
 * cannot honour. */
export function checkUsernsConflicts(hc: HostConfig, m: IdentityMapping | undefined): void {
  if (!m || hc.UsernsMode === 'host') return;
  if (hc.Privileged) throw badParameter('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode');
  if (hc.NetworkMode === 'host') throw badParameter("cannot share the host's network namespace when user namespaces are enabled");
  if (hc.PidMode === 'host') throw badParameter('cannot share the host PID namespace when user namespaces are enabled');
}

/** Whether the default user already exists (tests clean up only what they made). */
export function userExists(name: string, files: IdFiles = SYSTEM_ID_FILES): boolean {
  return existsSync(files.passwd) && readDb(files.passwd).some((e) => e.name === name);
}

/** A container's own files (hostname, hosts, resolv.conf) belong to its root, which can
 * edit them as with Docker, and its directory lets the remapped root through (0710). */
export async function ownContainerFiles(m: IdentityMapping | undefined, dir: string, files: string[]): Promise<void> {
  if (!m) return;
  const { uid, gid } = rootPair(m);
  await fsp.chown(dir, 0, gid);
  await fsp.chmod(dir, 0o710);
  for (const f of files) await fsp.chown(f, uid, gid);
}

/** runc's init resolves the bundle's rootfs after entering the user namespace, as the
 * remapped root: the directories on the way must let it through. */
export async function openBundlePath(m: IdentityMapping | undefined, execRoot: string, bundle: string): Promise<void> {
  if (!m) return;
  const { gid } = rootPair(m);
  for (let dir = dirname(bundle); dir.startsWith(execRoot) && dir.length >= execRoot.length; dir = dirname(dir)) {
    await fsp.chmod(dir, 0o711);
    if (dir === execRoot) break;
  }
  await fsp.chown(bundle, 0, gid);
  await fsp.chmod(bundle, 0o710);
}
