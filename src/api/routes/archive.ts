// /containers/{id}/archive: HEAD (stat), GET (tar out), PUT (tar in) — `docker cp`.
import type { Router } from '../router.ts';
import type { Context } from '../context.ts';
import type { ContainerRecord } from '../../container/record.ts';
import { mountPointAt } from '../../container/archive-root.ts';
import { archiveError, archivePath, encodePathStat, extractArchive, statPath } from '../../container/archive-copy.ts';
import type { ExtractOptions, IdMap } from '../../container/archive-copy.ts';
import { readFileInRoot } from '../../runtime/rootpath.ts';
import { badParameter, EngineError } from '../../util/errors.ts';

export interface ArchiveRouteDeps {
  /** Runs fn with the container's root filesystem at a host directory (mounting a stopped
   * container's for the duration); a 404 "No such container" for unknown refs. */
  withRoot: <T>(ref: string, fn: (rootDir: string, rec: ContainerRecord) => Promise<T>, opts?: { mounts?: boolean }) => Promise<T>;
  /** --userns-remap: for a remapped container, its ids to host ids and back (undefined:
   * identity). */
  idMapsOf?: (rec: ContainerRecord) => { toHost: IdMap; toContainer: IdMap } | undefined;
}

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
/** docker cp sees (and writes) the container's volumes and binds. */
const WITH_MOUNTS = { mounts: true };

function pathParam(ctx: Context): string {
  const path = ctx.str('path');
  if (!path) throw badParameter('path cannot be empty');
  return path;
}

/** Runs fn, turning filesystem failures into Docker's errors for ref/path. */
async function mapped<T>(ref: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw archiveError(err, ref, path);
  }
}

export function archiveRoutes(r: Router, d: ArchiveRouteDeps): void {
  // HEAD before GET: the router would otherwise answer HEAD with the GET handler.
  r.add('HEAD', '/containers/{name}/archive', async (ctx) => {
    const ref = ctx.params.name;
    const path = pathParam(ctx);
    const stat = await d.withRoot(ref, (root) => mapped(ref, path, () => statPath(root, path)), WITH_MOUNTS);
    ctx.res.writeHead(200, { [STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/json' });
    ctx.res.end();
  });

  r.add('GET', '/containers/{name}/archive', async (ctx) => {
    const ref = ctx.params.name;
    const path = pathParam(ctx);
    await d.withRoot(ref, (root, rec) =>
      mapped(ref, path, () =>
        archivePath(
          root,
          path,
          ctx.res,
          (stat) => ctx.res.writeHead(200, { [STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/x-tar' }),
          d.idMapsOf?.(rec)?.toContainer,
        ),
      ),
      WITH_MOUNTS,
    );
  });

  r.add('PUT', '/containers/{name}/archive', async (ctx) => {
    const ref = ctx.params.name;
    const path = pathParam(ctx);
    await d.withRoot(ref, async (root, rec) => {
      // dockerd's checks: a read-only volume refuses, a writable one takes it even when
      // the root is read-only.
      const into = mountPointAt(rec, path);
      if (into && !into.RW) throw new EngineError(403, 'mounted volume is marked read-only');
      if (!into && rec.HostConfig.ReadonlyRootfs) throw new EngineError(403, 'container rootfs is marked read-only');
      const mapIds = d.idMapsOf?.(rec)?.toHost;
      const opts: ExtractOptions = { noOverwriteDirNonDir: ctx.bool('noOverwriteDirNonDir'), mapIds };
      // copyUIDGID (docker cp -a): with a container User everything belongs to that user,
      // as dockerd; otherwise the archive's own ids are kept either way.
      if (ctx.bool('copyUIDGID') && rec.Config.User) opts.chown = await lookupUser(root, rec.Config.User, mapIds);
      await mapped(ref, path, () => extractArchive(root, path, ctx.req, opts));
    }, WITH_MOUNTS);
    ctx.send(200);
  });
}

/** "name[:group]" or "uid[:gid]" looked up in the container's /etc/passwd and /etc/group. */
async function lookupUser(root: string, user: string, mapIds?: IdMap): Promise<{ uid: number; gid: number }> {
  const [u, g] = user.split(':', 2) as [string, string | undefined];
  const passwd = (await readFileInRoot(root, '/etc/passwd')) ?? '';
  const entry = passwd.split('\n').map((l) => l.split(':')).find((f) => f.length >= 4 && (f[0] === u || f[2] === u));
  let uid: number;
  let gid: number;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = Number(u);
  } else {
    throw badParameter(`unable to find user ${u}: no matching entries in passwd file`);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const groups = (await readFileInRoot(root, '/etc/group')) ?? '';
      const ge = groups.split('\n').map((l) => l.split(':')).find((f) => f.length >= 3 && f[0] === g);
      if (!ge) throw badParameter(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(ge[2]);
    }
  }
  return mapIds ? mapIds(uid, gid) : { uid, gid };
}
