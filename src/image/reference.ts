// Docker's image reference grammar (distribution/reference, "normalized named"):
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain "/"] path-component ["/" path-component]*
// A familiar name ("busybox", "user/app") gets the default domain docker.io and, for a
// single path component, the "library/" namespace. The error texts are Docker's own.
import { EngineError, badParameter } from '../util/errors.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

export interface Reference {
  /** Registry host[:port], e.g. "docker.io" or "localhost:5000". */
  domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
/** A repository path without a domain ("library/busybox", "a/b/c"): what a registry itself validates. */
export const REMOTE_NAME_PATTERN = remoteName;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const TAG_RE = new RegExp(`^${tagPat}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const SHORT_IDENTIFIER_RE = /^[a-f0-9]{1,64}$/;

const refError = (message: string) => badParameter(message);

/** go-digest's validation of a parsed "algorithm:encoded" string. */
function validateDigest(d: string): string {
  const i = d.indexOf(':');
  const alg = d.slice(0, i);
  const enc = d.slice(i + 1);
  if (alg === 'sha256' || alg === 'sha384' || alg === 'sha512') {
    const len = alg === 'sha256' ? 64 : alg === 'sha384' ? 96 : 128;
    if (enc.length !== len) throw refError('invalid checksum digest length');
    if (!/^[a-f0-9]+$/.test(enc)) throw refError('invalid checksum digest format');
    return d;
  }
  throw refError('unsupported digest algorithm');
}

/** Parses a reference exactly as written (no defaults): distribution/reference Parse. */
export function parseExact(s: string): Reference {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === '') throw refError('repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) throw refError('repository name must be lowercase');
    throw refError('invalid reference format');
  }
  const name = m[1];
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw refError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  const nm = ANCHORED_NAME_RE.exec(name);
  const ref: Reference = nm ? { domain: nm[1] ?? '', path: nm[2] } : { domain: '', path: name };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = validateDigest(m[3]);
  return ref;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  let domain: string;
  let remainder: string;
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a user-supplied reference with Docker's normalization (ParseNormalizedNamed):
 * the default domain and library/ namespace are filled in; no default tag is added.
 */
export function parseReference(s: string): Reference {
  if (IDENTIFIER_RE.test(s)) throw refError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) throw refError(`invalid reference format: repository name (${remote}) must be lowercase`);
  return parseExact(`${domain}/${remainder}`);
}

/** The reference with the default tag added when it has neither tag nor digest (TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: DEFAULT_TAG };
  return ref;
}

/** Full repository name, e.g. "docker.io/library/busybox". */
export function fullName(ref: Reference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** The name followed by the reference's ":tag" and "@digest", where it has them. */
function withTagAndDigest(name: string, ref: Reference): string {
  let s = name;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Full reference string, e.g. "docker.io/library/busybox:latest". */
export function referenceString(ref: Reference): string {
  return withTagAndDigest(fullName(ref), ref);
}

/** Parses and normalizes to the full name with the default tag: busybox -> docker.io/library/busybox:latest. */
export function normalize(s: string): string {
  return referenceString(withDefaultTag(parseReference(s)));
}

/** The short form docker shows: docker.io/library/busybox -> busybox, docker.io/user/app -> user/app. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  let path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) path = rest;
  }
  return path;
}

/** Familiar name with tag and digest: "busybox:latest", "user/app@sha256:...". */
export function familiarString(ref: Reference): string {
  return withTagAndDigest(familiarName(ref), ref);
}

/** Familiar form of a full reference string (as stored): "docker.io/library/busybox:latest" -> "busybox:latest". */
export function familiarize(full: string): string {
  return familiarString(parseExact(full));
}

export function isDigestRef(ref: Reference): boolean {
  return ref.digest !== undefined;
}

export function isTagged(ref: Reference): boolean {
  return ref.tag !== undefined;
}

/** A name without tag or digest (IsNameOnly). */
export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}

/** A 64-hex image id, optionally with "sha256:". */
export function isFullId(s: string): boolean {
  return IDENTIFIER_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** Could s be an id or an id prefix ("3f57", "sha256:3f57")? */
export function isIdPrefix(s: string): boolean {
  return SHORT_IDENTIFIER_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** Replaces the tag (reference.WithTag); the digest is dropped as Docker does. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw refError('invalid tag format');
  return { domain: ref.domain, path: ref.path, tag };
}

/**
 * The repo and tag form values of POST /images/{name}/tag, /images/create?fromSrc and
 * /commit, combined as Docker's httputils.RepoTagReference does. undefined for an empty repo.
 */
export function repoTagReference(repo: string, tag: string, digestError = 'cannot import digest reference'): Reference | undefined {
  if (!repo) return undefined;
  const ref = parseReference(repo);
  if (ref.digest !== undefined) throw badParameter(digestError);
  if (tag) return withTag(ref, tag);
  return withDefaultTag(ref);
}

/** True for the errors this module throws (all are 400s). */
export function isReferenceError(err: unknown): err is EngineError {
  return err instanceof EngineError && err.status === 400;
}
