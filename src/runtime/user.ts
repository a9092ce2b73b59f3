// Resolving `-u user[:group]` and --group-add against the image's /etc/passwd and
// /etc/group, with the rules runc's libcontainer/user applies for Docker: names must
// exist, numeric ids need not, supplementary groups come from group membership only
// when no group was named, and the primary gid leads the additional gids.
import { badParameter } from '../util/errors.ts';
import { readFileInRoot } from './rootpath.ts';
import type { OciUser } from './types.ts';

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;

function parseId(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number(s) : undefined;
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw badParameter(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

function lines(text: string | undefined): string[][] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

export interface ResolvedUser extends OciUser {
  additionalGids: number[];
  /** Home directory from passwd ("/" when unknown). */
  home: string;
}

/** Resolves a Docker user spec against passwd/group contents (undefined = file absent). */
export function resolveUserFrom(spec: string, groupAdd: readonly string[], passwdText: string | undefined, groupText: string | undefined): ResolvedUser {
  const sep = spec.indexOf(':');
  const userArg = sep < 0 ? spec : spec.slice(0, sep);
  const groupArg = sep < 0 ? '' : spec.slice(sep + 1);
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  const userNum = parseId(userArg);
  const entry = passwd.find((u) => (userArg === '' ? u.uid === 0 : userNum !== undefined ? u.uid === userNum : u.name === userArg));
  if (entry) {
    ({ uid, gid, name } = entry);
    home = entry.home || '/';
  } else if (userArg !== '') {
    if (userNum === undefined) throw badParameter(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = checkRange(userNum);
  }

  let sgids: number[] = [];
  if (groupArg !== '') {
    const groupNum = parseId(groupArg);
    const g = groups.find((e) => (groupNum !== undefined ? e.gid === groupNum : e.name === groupArg));
    if (g) gid = g.gid;
    else if (groupNum === undefined) throw badParameter(`unable to find group ${groupArg}: no matching entries in group file`);
    else gid = checkRange(groupNum);
  } else if (name !== '') {
    // Supplementary groups only in the implicit form, as runc does.
    sgids = groups.filter((e) => e.members.includes(name)).map((e) => e.gid);
  }

  const added = groupAdd.map((ag) => {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    if (g) return g.gid;
    const n = parseId(ag);
    if (n === undefined) throw badParameter(`unable to find group ${ag}: no matching entries in group file`);
    return checkRange(n);
  });

  return { uid, gid, home, additionalGids: [...new Set([gid, ...sgids, ...added])] };
}

/** Resolves the user inside a rootfs, reading its passwd/group without escaping it. */
export async function resolveUser(rootfs: string, spec: string, groupAdd: readonly string[] = []): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readFileInRoot(rootfs, '/etc/passwd'), readFileInRoot(rootfs, '/etc/group')]);
  return resolveUserFrom(spec, groupAdd, passwd, group);
}
