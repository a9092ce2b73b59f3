// `berth explain`: how one running container is isolated, read from the kernel. The record
// gives only the container's pid and which profile berth generated; every other fact comes
// from /proc/<pid> and cgroupfs, so a limit the kernel clamped or a namespace that was not
// unshared shows as it really is.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../cgroup/layout.ts';
import type { ContainerRecord } from '../container/record.ts';
import type { HostFacts, OciSpec } from '../runtime/types.ts';
import { defaultMaskedPaths, defaultReadonlyPaths } from '../runtime/spec.ts';
import { parseSecurityOpts } from '../runtime/security-opts.ts';
import { conflict } from '../util/errors.ts';
import { readCgroupFacts } from './cgroup-limits.ts';
import { maskedState, parseMountinfo, readonlyState, toMountFacts } from './mountinfo.ts';
import { nsInode, parseIdMap, parseStatus, userName } from './proc-status.ts';
import type { ExplainReport, NamespaceFact, NamespaceType, SeccompFacts } from './types.ts';
import { containerCgroupPath } from '../runtime/resources.ts';
import { readFileInRoot } from '../runtime/rootpath.ts';
import { readNetworkFacts } from './network.ts';

export interface ExplainDeps {
  store: { get(ref: string): ContainerRecord; list(): ContainerRecord[] };
  layout: CgroupLayout;
  cgroupParent: string;
  /** The daemon's host facts: Docker's masked paths include host-specific ones. */
  host: HostFacts;
  /** The OCI spec the container was started with (its bundle's config.json), if readable. */
  spec(rec: ContainerRecord): Promise<OciSpec | undefined>;
  /** procfs mount (tests may point elsewhere). */
  proc?: string;
  /** berth's nft table of published ports. */
  portsTable?: string;
}

const NAMESPACES: NamespaceType[] = ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup', 'time'];

async function readOr(path: string, def = ''): Promise<string> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return def;
  }
}

async function linkInode(path: string): Promise<number> {
  try {
    return nsInode(await fsp.readlink(path));
  } catch {
    return 0;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function isRunning(rec: ContainerRecord): boolean {
  return (rec.State.Status === 'running' || rec.State.Status === 'paused') && rec.State.Pid > 0;
}

async function namespaces(d: ExplainDeps, proc: string, rec: ContainerRecord): Promise<NamespaceFact[]> {
  const others = d.store.list().filter((o) => o.Id !== rec.Id && isRunning(o));
  const out: NamespaceFact[] = [];
  for (const type of NAMESPACES) {
    const inode = await linkInode(join(proc, String(rec.State.Pid), 'ns', type));
    // The host is pid 1's namespace; where /proc/1 is not ours to read (berthd itself in a
    // sandbox), berthd's own namespace, which is what --pid host and the like join.
    const hostInode = (await linkInode(join(proc, '1', 'ns', type))) || (await linkInode(join(proc, 'self', 'ns', type)));
    const sharedWith: NamespaceFact['SharedWith'] = [];
    if (inode !== 0 && inode !== hostInode) {
      for (const o of others) {
        if ((await linkInode(join(proc, String(o.State.Pid), 'ns', type))) === inode) sharedWith.push({ Id: o.Id, Name: o.Name.replace(/^\//, '') });
      }
    }
    const mode = inode !== 0 && inode === hostInode ? 'host' : sharedWith.length ? 'shared' : 'private';
    out.push({ Type: type, Inode: inode, HostInode: hostInode, Mode: mode, SharedWith: sharedWith });
  }
  return out;
}

function seccompFacts(rec: ContainerRecord, spec: OciSpec | undefined, mode: number, filters: number): SeccompFacts {
  const choice = parseSecurityOpts(rec.HostConfig.SecurityOpt).seccomp;
  const section = spec?.linux?.seccomp;
  const profile = typeof choice === 'object' ? 'custom' : choice === 'unconfined' || (spec && !section) || (!spec && rec.HostConfig.Privileged) ? 'unconfined' : 'default';
  const modeName = mode === 0 ? 'disabled' : mode === 1 ? 'strict' : mode === 2 ? 'filter' : 'unknown';
  return { Mode: mode, ModeName: modeName, Filters: filters, Profile: profile, Rules: section?.syscalls?.length ?? 0, DefaultAction: section?.defaultAction ?? '' };
}

/** The report for a running (or paused) container; 409 otherwise, 404 for an unknown name. */
export async function explainContainer(d: ExplainDeps, ref: string): Promise<ExplainReport> {
  const rec = d.store.get(ref);
  if (rec.State.Status === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
  if (!isRunning(rec)) throw conflict(`Container ${rec.Id} is not running`);
  const proc = d.proc ?? '/proc';
  const pidDir = join(proc, String(rec.State.Pid));
  const statusText = await readOr(join(pidDir, 'status'));
  // The process is gone between the record and now: the container is stopping.
  if (statusText === '') throw conflict(`Container ${rec.Id} is not running`);
  const status = parseStatus(statusText);
  const spec = await d.spec(rec).catch(() => undefined);

  const entries = parseMountinfo(await readOr(join(pidDir, 'mountinfo')));
  const rootDir = join(pidDir, 'root');
  const maskedCandidates = [...new Set([...defaultMaskedPaths(d.host), ...(spec?.linux?.maskedPaths ?? [])])];
  const readonlyCandidates = [...new Set([...defaultReadonlyPaths(), ...(spec?.linux?.readonlyPaths ?? [])])];
  const maskedPaths = [];
  for (const p of maskedCandidates) maskedPaths.push(maskedState(entries, p, await exists(join(rootDir, p))));
  const readonlyPaths = [];
  for (const p of readonlyCandidates) readonlyPaths.push(readonlyState(entries, p, await exists(join(rootDir, p))));

  const euid = status.uid[1] ?? -1;
  const report: ExplainReport = {
    Id: rec.Id,
    Name: rec.Name.replace(/^\//, ''),
    Pid: rec.State.Pid,
    Namespaces: await namespaces(d, proc, rec),
    Cgroup: await readCgroupFacts(d.layout, await readOr(join(pidDir, 'cgroup')), containerCgroupPath(d.cgroupParent, rec.HostConfig, rec.Id)),
    Capabilities: status.caps,
    NoNewPrivs: status.noNewPrivs,
    Seccomp: seccompFacts(rec, spec, status.seccomp, status.seccompFilters),
    MaskedPaths: maskedPaths,
    ReadonlyPaths: readonlyPaths,
    User: {
      Uid: status.uid,
      Gid: status.gid,
      Groups: status.groups,
      // Through the container's own root, symlinks resolved inside it: never a host file.
      Name: euid >= 0 ? userName((await readFileInRoot(rootDir, '/etc/passwd').catch(() => undefined)) ?? '', euid) : '',
      UidMap: parseIdMap(await readOr(join(pidDir, 'uid_map'))),
      GidMap: parseIdMap(await readOr(join(pidDir, 'gid_map'))),
    },
    Network: await readNetworkFacts(proc, rec.State.Pid, d.portsTable),
    Mounts: toMountFacts(entries),
  };
  return report;
}
