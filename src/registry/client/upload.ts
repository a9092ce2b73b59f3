// Blob uploads (OCI distribution spec "push"): cross-repository mount, monolithic
// POST-then-PUT, and chunked PATCHes with Content-Range closed by a PUT with the digest.
import type { Descriptor } from './types.ts';
import { assertDigest } from '../../content/digest.ts';
import { repositoryScope } from './auth.ts';
import { RegistryError } from './errors.ts';
import { responseError, type Transport } from './transport.ts';

async function startUpload(t: Transport, name: string, query = '', extraScopes?: string[], signal?: AbortSignal): Promise<Response> {
  return t.request('POST', `/v2/${name}/blobs/uploads/${query}`, { headers: { 'Content-Length': '0' }, extraScopes, signal });
}

function locationOf(t: Transport, res: Response): string {
  const loc = res.headers.get('location');
  if (!loc) throw new RegistryError(500, [{ code: 'BLOB_UPLOAD_INVALID' }], `registry sent no Location for an upload (status ${res.status})`);
  return t.url(loc);
}

async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

/** POST ?mount=&from=: true when the registry mounted the blob (201). */
export async function mountBlob(t: Transport, name: string, digest: string, from: string): Promise<boolean> {
  assertDigest(digest);
  const q = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const res = await startUpload(t, name, q, [repositoryScope(from, ['pull'])]);
  if (res.status === 201) {
    await drain(res);
    return true;
  }
  if (res.status === 202) {
    // The registry opened an upload instead; cancel it (the caller pushes the blob itself).
    const loc = res.headers.get('location');
    await drain(res);
    if (loc) await t.request('DELETE', t.url(loc)).then(drain, () => undefined);
    return false;
  }
  throw await responseError(res);
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** Regroups a stream into chunks of exactly size bytes (the last may be shorter). */
async function* rechunk(src: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    let chunk = c;
    while (chunk.length > 0) {
      const take = Math.min(size - n, chunk.length);
      parts.push(chunk.subarray(0, take));
      n += take;
      chunk = chunk.subarray(take);
      if (n === size) {
        yield Buffer.concat(parts, n);
        parts = [];
        n = 0;
      }
    }
  }
  if (n > 0) yield Buffer.concat(parts, n);
}

/** `signal` ends an upload at once, also one whose bytes are already on the socket. */
export async function pushBlob(t: Transport, name: string, desc: Descriptor, body: () => AsyncIterable<Buffer>, opts: { chunkSize?: number; signal?: AbortSignal } = {}): Promise<void> {
  assertDigest(desc.digest);
  const signal = opts.signal;
  const start = await startUpload(t, name, '', undefined, signal);
  if (start.status === 201) {
    await drain(start); // some registries accept an empty POST as complete (never for real blobs)
  } else if (start.status !== 202) {
    throw await responseError(start);
  }
  let location = locationOf(t, start);
  await drain(start);
  if (!opts.chunkSize) {
    const res = await t.request('PUT', withDigest(location, desc.digest), {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
      body: body(),
      signal,
    });
    if (res.status !== 201 && !res.ok) throw await responseError(res);
    await drain(res);
    return;
  }
  let offset = 0;
  for await (const chunk of rechunk(body(), opts.chunkSize)) {
    const res = await t.request('PATCH', location, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
      body: chunk,
      signal,
    });
    if (res.status !== 202) throw await responseError(res);
    location = locationOf(t, res);
    await drain(res);
    offset += chunk.length;
  }
  if (offset !== desc.size) throw new RegistryError(500, [{ code: 'SIZE_INVALID' }], `blob ${desc.digest}: pushed ${offset} bytes, expected ${desc.size}`);
  const res = await t.request('PUT', withDigest(location, desc.digest), { headers: { 'Content-Length': '0' }, signal });
  if (res.status !== 201 && !res.ok) throw await responseError(res);
  await drain(res);
}
