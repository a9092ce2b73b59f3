// Performing the mounts a Snapshotter returns (containerd's Mount shape) and undoing them.
//
// The kernel copies at most one page (4096 bytes) of mount data. An overlay with many
// layers can exceed that even with the snapshotter's short layer links, so when the data
// is too long the overlay's paths are made relative to their common parent directory and
// the mount is made from there (chdir, mount, chdir back: synchronous, so no other code of
// this process runs in between). This is why mountAll must run on the main thread.
import { dirname, relative, sep } from 'node:path';
import type { Mount } from './snapshotter.ts';
import {
  MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SHARED, MS_SLAVE,
  hasCode, mount, umount2,
} from '../util/native.ts';

const MAX_DATA = 4095; // one page, less the terminating NUL

const FLAGS: Record<string, number> = {
  ro: MS_RDONLY, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC, bind: MS_BIND, rbind: MS_BIND | MS_REC,
};
const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE, rprivate: MS_PRIVATE | MS_REC, slave: MS_SLAVE, rslave: MS_SLAVE | MS_REC,
  shared: MS_SHARED, rshared: MS_SHARED | MS_REC,
};
// Options that only restate the defaults.
const DEFAULTS = new Set(['rw', 'suid', 'dev', 'exec', 'defaults']);

interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string[];
}

function parseOptions(options: string[]): ParsedOptions {
  const parsed: ParsedOptions = { flags: 0, propagation: 0, data: [] };
  for (const o of options) {
    if (o in FLAGS) parsed.flags |= FLAGS[o]!;
    else if (o in PROPAGATION) parsed.propagation = PROPAGATION[o]!;
    else if (!DEFAULTS.has(o)) parsed.data.push(o);
  }
  return parsed;
}

const PATH_OPTIONS = ['lowerdir', 'upperdir', 'workdir'];

function commonDir(paths: string[]): string {
  let common = dirname(paths[0]!);
  for (const p of paths) {
    while (common !== '/' && !(p + sep).startsWith(common + sep)) common = dirname(common);
  }
  return common;
}

/** The overlay data with its paths relative to one directory, for data over a page. */
function relativeOverlayData(data: string[]): { cwd: string; data: string } {
  const paths: string[] = [];
  for (const o of data) {
    const [key, value] = splitOption(o);
    if (PATH_OPTIONS.includes(key)) paths.push(...value.split(':'));
  }
  const cwd = commonDir(paths.filter((p) => p.startsWith('/')));
  const out = data.map((o) => {
    const [key, value] = splitOption(o);
    if (!PATH_OPTIONS.includes(key)) return o;
    return `${key}=${value.split(':').map((p) => (p.startsWith('/') ? relative(cwd, p) || '.' : p)).join(':')}`;
  });
  return { cwd, data: out.join(',') };
}

function splitOption(o: string): [string, string] {
  const eq = o.indexOf('=');
  return eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
}

function mountOne(m: Mount, target: string): void {
  const { flags, propagation, data } = parseOptions(m.options);
  const isBind = m.type === 'bind' || (flags & MS_BIND) !== 0;
  if (isBind) {
    mount(m.source, target, null, MS_BIND | (flags & MS_REC), null);
    // Bind mounts ignore other flags on creation; they take effect on a remount.
    const extra = flags & ~(MS_BIND | MS_REC);
    if (extra) mount(null, target, null, MS_BIND | MS_REMOUNT | extra, null);
  } else {
    const text = data.join(',');
    if (text.length > MAX_DATA && m.type === 'overlay') {
      const rel = relativeOverlayData(data);
      if (rel.data.length > MAX_DATA) throw new Error(`overlay mount options too long (${rel.data.length} bytes) even with relative paths`);
      const previous = process.cwd();
      process.chdir(rel.cwd);
      try {
        mount(m.source, target, m.type, flags, rel.data);
      } finally {
        process.chdir(previous);
      }
    } else {
      mount(m.source, target, m.type, flags, text);
    }
  }
  if (propagation) mount(null, target, null, propagation, null);
}

/** Mounts each of mounts on target in order (later ones on top). On failure, what was
 * already mounted is unmounted again. */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      mountOne(m, target);
      done++;
    }
  } catch (err) {
    for (; done > 0; done--) umountQuiet(target);
    throw err;
  }
}

function umountQuiet(target: string): boolean {
  try {
    umount2(target, MNT_DETACH);
    return true;
  } catch (err) {
    if (hasCode(err, 'EINVAL', 'ENOENT')) return false;
    throw err;
  }
}

/** Unmounts everything mounted at target (lazily: MNT_DETACH). Not mounted is not an
 * error. */
export async function unmount(target: string): Promise<void> {
  // Mounts can be stacked on one target; peel until nothing is left (bounded).
  for (let i = 0; i < 64; i++) if (!umountQuiet(target)) return;
}
