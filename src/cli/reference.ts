// Image references as docker's client reads them (distribution/reference): "busybox" is
// docker.io/library/busybox, ":latest" is implied, and the familiar form drops both again.

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const HEX64 = /^[a-f0-9]{64}$/;

export class ReferenceError extends Error {}

export interface Reference {
  /** Full name: "docker.io/library/busybox". */
  name: string;
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i < 0 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = 'docker.io';
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !rest.includes('/')) rest = 'library/' + rest;
  return [domain, rest];
}

/** reference.Parse: the reference as written (no normalization). */
export function parseReference(s: string): Reference {
  const m = REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw new ReferenceError('invalid reference format');
    if (REFERENCE.test(s.toLowerCase())) throw new ReferenceError(`invalid reference format: repository name (${s.split(/[:@]/)[0]}) must be lowercase`);
    throw new ReferenceError('invalid reference format');
  }
  const name = m[1];
  if (name.length > 255) throw new ReferenceError('repository name must not be more than 255 characters');
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = slash >= 0 && (/[.:]/.test(first) || first === 'localhost');
  return { name, domain: hasDomain ? first : '', path: hasDomain ? name.slice(slash + 1) : name, tag: m[2], digest: m[3] };
}

/** reference.ParseNormalizedNamed */
export function parseNormalizedNamed(s: string): Reference {
  if (HEX64.test(s)) throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const [domain, remainder] = splitDomain(s);
  const nameEnd = remainder.search(/[:@]/);
  const remoteName = nameEnd < 0 ? remainder : remainder.slice(0, nameEnd);
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ReferenceError(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  const ref = parseReference(`${domain}/${remainder}`);
  return { ...ref, domain, path: ref.name.slice(domain.length + 1) };
}

/** reference.ParseAnyReference: an image id ("sha256:…" or 64 hex) or a normalized name. */
export function parseAnyReference(s: string): Reference | { id: string } {
  if (HEX64.test(s)) return { id: `sha256:${s}` };
  if (/^sha256:[a-f0-9]{64}$/.test(s)) return { id: s };
  return parseNormalizedNamed(s);
}

export function familiarName(ref: Reference): string {
  if (ref.domain !== 'docker.io') return ref.name;
  let p = ref.path;
  if (p.startsWith('library/') && !p.slice(8).includes('/')) p = p.slice(8);
  return p;
}

export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** Adds ":latest" when the reference has neither tag nor digest. */
export function tagNameOnly(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
}
