// Resolving a path inside a container's root filesystem as the container would see it:
// symlinks are followed, but an absolute target or a ".." restarts from / or stops at
// the rootfs's own root, never escaping to the host. The image controls the rootfs,
// so a link such as /etc/passwd -> /host/secret must read <rootfs>/host/secret.
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { badParameter } from '../util/errors.ts';

const MAX_LINKS = 255;

/** The host path that `path`, interpreted inside `root`, refers to. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const pending = path.split('/');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let target: string | undefined;
    try {
      const st = await fsp.lstat(candidate);
      if (st.isSymbolicLink()) target = await fsp.readlink(candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Nothing further exists: the rest of the path cannot contain links.
      if (code === 'ENOENT' || code === 'ENOTDIR') return join(root, ...resolved, part, ...pending);
      throw err;
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: 'ELOOP' });
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return join(root, ...resolved);
}

/** The most read of a file inside a container (an /etc/passwd is far smaller). */
const MAX_ROOT_FILE = 1 << 20;

/**
 * Reads a regular file inside root (see resolveInRoot); undefined when it does not exist.
 * The container owns that tree: O_NOFOLLOW closes the window where the last component is
 * swapped for a link after resolution, O_NONBLOCK keeps a FIFO from hanging the open, only a
 * regular file is read (never a device node the container made) and at most 1 MiB of it.
 */
export async function readFileInRoot(root: string, path: string): Promise<string | undefined> {
  const hostPath = await resolveInRoot(root, path);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw badParameter(`${path} in the container is not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, MAX_ROOT_FILE));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
