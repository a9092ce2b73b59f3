// The init run as pid 1 for --init. dockerd looks for "docker-init" on its PATH unless
// --init-path names one; Debian's tini package provides docker-init (a link to the
// static tini), so the same lookup works here, with tini-static as a fallback.
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

const NAMES = ['docker-init', 'tini-static'];

/** The configured path when given, else the first init binary on PATH; undefined when none. */
export function findInitBinary(configured?: string, path = process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (configured) {
    if (isAbsolute(configured)) return configured;
    const dirs = path.split(delimiter).filter((d) => d !== '');
    return dirs.map((d) => join(d, configured)).find(executable) ?? configured;
  }
  for (const name of NAMES) {
    for (const dir of path.split(delimiter)) {
      if (dir !== '' && executable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}
