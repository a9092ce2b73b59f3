// GET, HEAD and DELETE /v2/<name>/blobs/<digest>. A repository serves only blobs linked
// into it (pushed or mounted there), whatever else the store holds. GET honours a single
// byte Range (206), which clients use to resume a download.
import { pipeline } from 'node:stream/promises';
import type { Ctx } from './context.ts';
import { requireDigest } from './digests.ts';
import { regError } from './errors.ts';
import { send } from './http.ts';

/** A single "bytes=a-b", "bytes=a-" or "bytes=-n" range over size bytes; undefined for none. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const unsatisfiable = () => regError('BLOB_UNKNOWN', { range: header }, { status: 416, message: 'requested range not satisfiable', headers: { 'Content-Range': `bytes */${size}` } });
  if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable();
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw unsatisfiable();
  return { start, end };
}

async function statBlob(ctx: Ctx) {
  const d = requireDigest(ctx.ref);
  const size = await ctx.storage.repoBlobSize(ctx.name, d);
  if (size === undefined) throw regError('BLOB_UNKNOWN', { digest: d.digest });
  return { d, size };
}

export async function headBlob(ctx: Ctx): Promise<void> {
  const { d, size } = await statBlob(ctx);
  send(ctx.res, 200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': d.digest, 'Accept-Ranges': 'bytes', ETag: `"${d.digest}"` });
}

export async function getBlob(ctx: Ctx): Promise<void> {
  const { d, size } = await statBlob(ctx);
  const range = parseRange(ctx.req.headers.range, size);
  const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': d.digest, 'Accept-Ranges': 'bytes', ETag: `"${d.digest}"` };
  const { res } = ctx;
  if (range) {
    res.statusCode = 206;
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['Content-Length'] = range.end - range.start + 1;
  } else {
    res.statusCode = 200;
    headers['Content-Length'] = size;
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (size === 0) return void res.end();
  try {
    await pipeline(ctx.storage.readBlob(d, range), res);
  } catch (err) {
    // A client that hangs up (or closes as soon as it has the last byte) is no server error.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}

export async function deleteBlob(ctx: Ctx): Promise<void> {
  const d = requireDigest(ctx.ref);
  if (!(await ctx.storage.unlinkBlob(ctx.name, d))) throw regError('BLOB_UNKNOWN', { digest: d.digest });
  send(ctx.res, 202, { 'Docker-Content-Digest': d.digest });
}
