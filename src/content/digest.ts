// Content digests ("sha256:<64 lowercase hex>"). Every digest that reaches a file path is
// checked here first, so a malformed or hostile digest can never name a path.
import { createHash, type Hash } from 'node:crypto';
import { badParameter } from '../util/errors.ts';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** Throws a 400 unless s is a well-formed sha256 digest. */
export function assertDigest(s: unknown, what = 'digest'): string {
  if (!isDigest(s)) throw badParameter(`invalid ${what}: ${JSON.stringify(s)}`);
  return s;
}

export function hexOf(digest: string): string {
  return assertDigest(digest).slice('sha256:'.length);
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

export function newHasher(): Hash {
  return createHash('sha256');
}
