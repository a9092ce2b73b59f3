// /v2/<name>/blobs/uploads/: starting (POST), feeding (PATCH), finishing (PUT), checking
// (GET) and cancelling (DELETE) blob uploads, plus the two POST shortcuts: a monolithic
// push with ?digest= and a cross-repository mount with ?mount=&from=.
import { promises as fsp } from 'node:fs';
import type { Ctx } from './context.ts';
import { hasherFor, parseDigest, requireDigest, type ParsedDigest } from './digests.ts';
import { regError } from './errors.ts';
import { send } from './http.ts';
import { isRepositoryName } from './names.ts';
import { writeHashed } from './hashing-write.ts';
import { parseContentRange, rangeHeader } from './uploads.ts';

function blobCreated(ctx: Ctx, d: ParsedDigest): void {
  send(ctx.res, 201, { Location: `/v2/${ctx.name}/blobs/${d.digest}`, 'Docker-Content-Digest': d.digest });
}

function uploadStatus(ctx: Ctx, uuid: string, size: number, status: number): void {
  send(ctx.res, status, { Location: `/v2/${ctx.name}/blobs/uploads/${uuid}`, Range: rangeHeader(size), 'Docker-Upload-UUID': uuid });
}

/** The whole blob in the POST body: hashed into tmp/, kept only if the digest matches. */
async function monolithic(ctx: Ctx, d: ParsedDigest): Promise<void> {
  const tmp = ctx.storage.tempPath();
  try {
    const hash = hasherFor(d.algorithm);
    await writeHashed(ctx.req, tmp, 'w', [hash]);
    const actual = `${d.algorithm}:${hash.digest('hex')}`;
    if (actual !== d.digest) throw regError('DIGEST_INVALID', { expected: d.digest, actual });
    await ctx.storage.commitBlob(tmp, d);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  await ctx.storage.linkBlob(ctx.name, d);
  blobCreated(ctx, d);
}

/** Links a blob of another repository here, when that repository really has it. */
async function tryMount(ctx: Ctx, mount: string, from: string | null): Promise<boolean> {
  const d = parseDigest(mount);
  if (!d || !from || !isRepositoryName(from)) return false;
  if ((await ctx.storage.repoBlobSize(from, d)) === undefined) return false;
  await ctx.storage.linkBlob(ctx.name, d);
  blobCreated(ctx, d);
  return true;
}

export async function postUpload(ctx: Ctx): Promise<void> {
  const q = ctx.url.searchParams;
  const mount = q.get('mount');
  if (mount !== null) {
    ctx.req.resume();
    if (await tryMount(ctx, mount, q.get('from'))) return;
  } else if (q.has('digest')) {
    return monolithic(ctx, requireDigest(q.get('digest')));
  }
  const uuid = await ctx.uploads.start(ctx.name);
  uploadStatus(ctx, uuid, 0, 202);
}

export async function patchUpload(ctx: Ctx): Promise<void> {
  const range = parseContentRange(ctx.req.headers['content-range']);
  const size = await ctx.uploads.append(ctx.name, ctx.ref, ctx.req, range);
  uploadStatus(ctx, ctx.ref, size, 202);
}

export async function putUpload(ctx: Ctx): Promise<void> {
  const d = requireDigest(ctx.url.searchParams.get('digest'));
  const range = parseContentRange(ctx.req.headers['content-range']);
  await ctx.uploads.finish(ctx.name, ctx.ref, d, ctx.req, range);
  blobCreated(ctx, d);
}

export async function getUpload(ctx: Ctx): Promise<void> {
  uploadStatus(ctx, ctx.ref, await ctx.uploads.size(ctx.name, ctx.ref), 204);
}

export async function deleteUpload(ctx: Ctx): Promise<void> {
  await ctx.uploads.cancel(ctx.name, ctx.ref);
  send(ctx.res, 204);
}
