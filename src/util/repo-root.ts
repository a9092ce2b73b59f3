import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The repository root: the nearest directory above this module holding package.json
 * (works from src/util/ and from the compiled dist/src/util/), where build/ lives. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
