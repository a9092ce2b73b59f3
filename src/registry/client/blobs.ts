// Blob GET/HEAD. A blob streams through a hash and a byte count; a mismatch with the
// descriptor throws when the stream ends, so a consumer commits nothing it has not verified.
import type { Descriptor } from './types.ts';
import { assertDigest, newHasher } from '../../content/digest.ts';
import { RegistryError } from './errors.ts';
import { responseError, type Transport } from './transport.ts';

export function blobPath(name: string, digest: string): string {
  return `/v2/${name}/blobs/${assertDigest(digest)}`;
}

export async function fetchBlob(t: Transport, name: string, desc: Descriptor, opts: { signal?: AbortSignal; offset?: number } = {}): Promise<AsyncIterable<Buffer>> {
  const offset = opts.offset ?? 0;
  const headers: Record<string, string> = {};
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  const res = await t.request('GET', blobPath(name, desc.digest), { headers, signal: opts.signal });
  if (!res.ok) throw await responseError(res);
  const body = res.body;
  // Locked now, not at the first read: fetch cancels an unread, unlocked body once its
  // Response is garbage-collected, and a layer may wait for its parent before it is read
  // (the stream would end at 0 bytes).
  const reader = body?.[Symbol.asyncIterator]();
  // A registry that ignores Range sends the whole blob: skip what the caller has.
  let skip = offset > 0 && res.status !== 206 ? offset : 0;
  // With an offset the caller holds the first bytes, so only it can check the digest.
  const verifyDigest = offset === 0 || skip > 0;
  async function* stream(): AsyncGenerator<Buffer> {
    const hash = newHasher();
    let size = skip > 0 ? 0 : offset;
    if (!reader) throw new RegistryError(500, [{ code: 'UNKNOWN' }], `empty response for blob ${desc.digest}`);
    try {
      for await (const raw of { [Symbol.asyncIterator]: () => reader }) {
        let chunk = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        if (verifyDigest) hash.update(chunk);
        size += chunk.length;
        if (size > desc.size) throw new RegistryError(500, [{ code: 'SIZE_INVALID' }], `blob ${desc.digest}: more than the expected ${desc.size} bytes`);
        if (skip > 0) {
          const n = Math.min(skip, chunk.length);
          skip -= n;
          chunk = chunk.subarray(n);
          if (chunk.length === 0) continue;
        }
        yield chunk;
      }
    } finally {
      // Left early (an error, a consumer that stopped): the rest is not wanted.
      await reader.return?.().catch(() => undefined);
    }
    if (size !== desc.size) throw new RegistryError(500, [{ code: 'SIZE_INVALID' }], `blob ${desc.digest}: got ${size} bytes, expected ${desc.size}`);
    if (verifyDigest) {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) throw new RegistryError(500, [{ code: 'DIGEST_INVALID' }], `digest mismatch: expected ${desc.digest}, got ${got}`);
    }
  }
  return stream();
}

export async function statBlob(t: Transport, name: string, digest: string): Promise<Descriptor | undefined> {
  const res = await t.request('HEAD', blobPath(name, digest));
  if (res.status === 404) return undefined;
  if (!res.ok) throw await responseError(res);
  const size = Number(res.headers.get('content-length') ?? NaN);
  return { mediaType: (res.headers.get('content-type') ?? 'application/octet-stream').split(';')[0], digest, size: Number.isFinite(size) ? size : -1 };
}
