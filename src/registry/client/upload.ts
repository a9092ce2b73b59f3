// Blob uploads (OCI distribution spec "push"): cross-repository mount, monolithic
// POST-then-PUT, chunked PATCHes with Content-Range, and one streamed PATCH for a blob whose
// digest is known only at its end; the last two are closed by a PUT with the digest.
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

async function openUpload(t: Transport, name: string, signal?: AbortSignal): Promise<string> {
  const start = await startUpload(t, name, '', undefined, signal);
  if (start.status === 201) {
    await drain(start); // some registries accept an empty POST as complete (never for real blobs)
  } else if (start.status !== 202) {
    throw await responseError(start);
  }
  const location = locationOf(t, start);
  await drain(start);
  return location;
}

/** PATCHes of chunkSize bytes with their Content-Range; the upload's next location and its size. */
async function patchChunks(t: Transport, location: string, body: AsyncIterable<Buffer>, chunkSize: number, signal?: AbortSignal): Promise<{ location: string; size: number }> {
  let offset = 0;
  for await (const chunk of rechunk(body, chunkSize)) {
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
  return { location, size: offset };
}

/** The closing PUT: the registry checks the digest of everything sent. */
async function closeUpload(t: Transport, location: string, desc: Descriptor, sent: number, signal?: AbortSignal): Promise<void> {
  if (sent !== desc.size) throw new RegistryError(500, [{ code: 'SIZE_INVALID' }], `blob ${desc.digest}: pushed ${sent} bytes, expected ${desc.size}`);
  const res = await t.request('PUT', withDigest(location, desc.digest), { headers: { 'Content-Length': '0' }, signal });
  if (res.status !== 201 && !res.ok) throw await responseError(res);
  await drain(res);
}

/** `signal` ends an upload at once, also one whose bytes are already on the socket. */
export async function pushBlob(t: Transport, name: string, desc: Descriptor, body: () => AsyncIterable<Buffer>, opts: { chunkSize?: number; signal?: AbortSignal } = {}): Promise<void> {
  assertDigest(desc.digest);
  const signal = opts.signal;
  const location = await openUpload(t, name, signal);
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
  const sent = await patchChunks(t, location, body(), opts.chunkSize, signal);
  await closeUpload(t, sent.location, desc, sent.size, signal);
}

/**
 * Uploads a blob whose digest is known only once its last byte is out (a layer gzip'd on
 * its way, as dockerd pushes): one streamed PATCH (or chunkSize PATCHes), then the PUT with
 * the digest that `finish` gives after the body has ended.
 */
export async function pushBlobStreamed(t: Transport, name: string, body: AsyncIterable<Buffer>, finish: () => Promise<Descriptor>, opts: { chunkSize?: number; signal?: AbortSignal } = {}): Promise<Descriptor> {
  const signal = opts.signal;
  let location = await openUpload(t, name, signal);
  let sent = 0;
  if (opts.chunkSize) {
    ({ location, size: sent } = await patchChunks(t, location, body, opts.chunkSize, signal));
  } else {
    const counted = (async function* () {
      for await (const c of body) {
        sent += c.length;
        yield c;
      }
    })();
    const res = await t.request('PATCH', location, { headers: { 'Content-Type': 'application/octet-stream' }, body: counted, signal });
    if (res.status !== 202) throw await responseError(res);
    location = locationOf(t, res);
    await drain(res);
  }
  const desc = await finish();
  assertDigest(desc.digest);
  await closeUpload(t, location, desc, sent, signal);
  return desc;
}
