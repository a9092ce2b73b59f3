// Digests a registry accepts: sha256 (everyone's) and sha512 (the OCI spec allows it).
// sha256 digests go through src/content/digest.ts, the rule the rest of berth uses; this
// module only adds the second algorithm and the mapping of a bad one to DIGEST_INVALID.
import { createHash, type Hash } from 'node:crypto';
import { isDigest } from '../../content/digest.ts';
import { regError } from './errors.ts';

export type Algorithm = 'sha256' | 'sha512';

const SHA512_RE = /^sha512:[a-f0-9]{128}$/;

export interface ParsedDigest {
  digest: string;
  algorithm: Algorithm;
  hex: string;
}

/** The digest's parts, or undefined unless it is a well-formed sha256 or sha512 digest. */
export function parseDigest(s: string): ParsedDigest | undefined {
  const algorithm: Algorithm | undefined = isDigest(s) ? 'sha256' : SHA512_RE.test(s) ? 'sha512' : undefined;
  return algorithm && { digest: s, algorithm, hex: s.slice(algorithm.length + 1) };
}

/** Like parseDigest, but a malformed digest is the client's DIGEST_INVALID. */
export function requireDigest(s: string | null | undefined): ParsedDigest {
  const d = s ? parseDigest(s) : undefined;
  if (!d) throw regError('DIGEST_INVALID', { digest: s ?? '' }, { message: 'invalid digest' });
  return d;
}

export function hasherFor(algorithm: Algorithm): Hash {
  return createHash(algorithm);
}

export function digestBytes(algorithm: Algorithm, data: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
