// Repository names and tags as the OCI Distribution spec defines them. The name pattern is
// the path part of src/image/reference.ts's grammar (the same distribution/reference rule),
// without a domain: a registry sees "a/b/c", never "host:5000/a/b/c".
import { REMOTE_NAME_PATTERN } from '../../image/reference.ts';
import { regError } from './errors.ts';

const NAME_RE = new RegExp(`^${REMOTE_NAME_PATTERN}$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Docker's limit on a whole name (distribution/reference NameTotalLengthMax). */
const NAME_MAX = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= NAME_MAX && NAME_RE.test(name);
}

export function assertRepositoryName(name: string): string {
  if (!isRepositoryName(name)) throw regError('NAME_INVALID', { name });
  return name;
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}
