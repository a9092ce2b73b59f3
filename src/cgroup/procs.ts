// The processes in a cgroup and its descendants (a container may make sub-groups), for
// `docker top`: what runc's `ps` and containerd's task.Pids read.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../util/native.ts';
import { procsDir, type CgroupLayout } from './layout.ts';

/** Pids in the cgroup tree at `dir`, ascending; [] when the group does not exist. */
export async function procsUnder(dir: string): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch (err) {
      if (hasCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    const text = await fsp.readFile(join(d, 'cgroup.procs'), 'utf8').catch((err) => {
      if (hasCode(err, 'ENOENT')) return '';
      throw err;
    });
    for (const s of text.split('\n')) if (/^\d+$/.test(s)) pids.add(Number(s));
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => walk(join(d, e.name))));
  };
  await walk(dir);
  return [...pids].sort((a, b) => a - b);
}

/** Pids in a container's cgroup (e.g. cgroupPath "/berth/<id>"). */
export async function cgroupProcs(layout: CgroupLayout, cgroupPath: string): Promise<number[]> {
  const dir = procsDir(layout, cgroupPath);
  return dir ? procsUnder(dir) : [];
}

/** How many processes the container's cgroup holds. */
export async function cgroupProcCount(layout: CgroupLayout, cgroupPath: string): Promise<number> {
  return (await cgroupProcs(layout, cgroupPath)).length;
}
