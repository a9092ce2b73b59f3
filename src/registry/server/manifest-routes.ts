// GET, HEAD, PUT and DELETE /v2/<name>/manifests/<tag|digest>. A push is refused unless
// everything the manifest names is already in the repository (MANIFEST_BLOB_UNKNOWN);
// then the bytes are stored as a blob, linked as a revision, indexed under their subject
// for the referrers API, and only last tagged: a crash in between leaves an untagged
// revision at worst, never a tag that points at nothing.
import { promises as fsp } from 'node:fs';
import type { Ctx } from './context.ts';
import { digestBytes, parseDigest, requireDigest, type ParsedDigest } from './digests.ts';
import { regError } from './errors.ts';
import { readSmallBody, send } from './http.ts';
import { parseManifest, type ManifestInfo } from './manifest.ts';
import { isTag } from './names.ts';
import type { Storage } from './storage.ts';

/** distribution's limit; the spec asks registries to take at least 4 MiB. */
const MANIFEST_LIMIT = 4 << 20;

type Reference = { tag: string; digest?: undefined } | { tag?: undefined; digest: ParsedDigest };

function parseReference(ref: string, forPush: boolean): Reference {
  if (ref.includes(':')) return { digest: requireDigest(ref) };
  if (!isTag(ref)) throw forPush ? regError('MANIFEST_INVALID', { tag: ref }, { message: 'invalid tag' }) : regError('MANIFEST_UNKNOWN', { tag: ref });
  return { tag: ref };
}

/** The manifest's bytes if the repository has that revision, else undefined. */
export async function readManifest(storage: Storage, name: string, d: ParsedDigest): Promise<{ mediaType: string; bytes: Buffer } | undefined> {
  const mediaType = await storage.manifestMediaType(name, d);
  if (mediaType === undefined) return undefined;
  const bytes = await fsp.readFile(storage.blobPath(d)).catch(() => undefined);
  return bytes && { mediaType, bytes };
}

async function resolve(ctx: Ctx): Promise<{ d: ParsedDigest; mediaType: string; bytes: Buffer }> {
  const ref = parseReference(ctx.ref, false);
  const digest = ref.digest?.digest ?? (await ctx.storage.resolveTag(ctx.name, ref.tag!));
  const d = digest ? parseDigest(digest) : undefined;
  const found = d && (await readManifest(ctx.storage, ctx.name, d));
  if (!d || !found) throw regError('MANIFEST_UNKNOWN', ref.tag !== undefined ? { tag: ref.tag } : { digest: ctx.ref });
  return { d, ...found };
}

export async function getManifest(ctx: Ctx): Promise<void> {
  const m = await resolve(ctx);
  send(ctx.res, 200, { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.d.digest, ETag: `"${m.d.digest}"` }, m.bytes);
}

export async function headManifest(ctx: Ctx): Promise<void> {
  const m = await resolve(ctx);
  send(ctx.res, 200, { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.d.digest, ETag: `"${m.d.digest}"`, 'Content-Length': m.bytes.length });
}

/** MANIFEST_BLOB_UNKNOWN unless every blob and child manifest is in the repository. */
async function checkReferences(storage: Storage, name: string, info: ManifestInfo): Promise<void> {
  for (const b of info.blobs) {
    // Foreign layers (with urls) live elsewhere by design.
    if (b.urls?.length) continue;
    const size = await storage.repoBlobSize(name, parseDigest(b.digest)!);
    if (size === undefined) throw regError('MANIFEST_BLOB_UNKNOWN', { digest: b.digest });
  }
  for (const m of info.manifests) {
    if ((await storage.manifestMediaType(name, parseDigest(m.digest)!)) === undefined) throw regError('MANIFEST_BLOB_UNKNOWN', { digest: m.digest });
  }
}

export async function putManifest(ctx: Ctx): Promise<void> {
  const ref = parseReference(ctx.ref, true);
  const bytes = await readSmallBody(ctx.req, MANIFEST_LIMIT);
  const info = parseManifest(bytes, ctx.req.headers['content-type']);
  const d = parseDigest(digestBytes(ref.digest?.algorithm ?? 'sha256', bytes))!;
  if (ref.digest && ref.digest.digest !== d.digest) throw regError('DIGEST_INVALID', { expected: ref.digest.digest, actual: d.digest });
  const { storage, name } = ctx;
  await checkReferences(storage, name, info);
  await storage.putSmallBlob(bytes, d);
  await storage.linkManifest(name, d, info.mediaType);
  if (info.subject) await storage.linkReferrer(name, parseDigest(info.subject.digest)!, d);
  if (ref.tag !== undefined) await storage.setTag(name, ref.tag, d.digest);
  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${d.digest}`, 'Docker-Content-Digest': d.digest };
  if (info.subject) headers['OCI-Subject'] = info.subject.digest;
  send(ctx.res, 201, headers);
}

/**
 * By tag: removes the tag only. By digest: removes the revision, every tag on it and its
 * referrers entry; its blobs stay until `berth registry gc`.
 */
export async function deleteManifest(ctx: Ctx): Promise<void> {
  const ref = parseReference(ctx.ref, false);
  const { storage, name } = ctx;
  if (ref.tag !== undefined) {
    if (!(await storage.deleteTag(name, ref.tag))) throw regError('MANIFEST_UNKNOWN', { tag: ref.tag });
    return send(ctx.res, 202);
  }
  const m = await readManifest(storage, name, ref.digest);
  if (!m) throw regError('MANIFEST_UNKNOWN', { digest: ref.digest.digest });
  for (const tag of await storage.tags(name)) {
    if ((await storage.resolveTag(name, tag)) === ref.digest.digest) await storage.deleteTag(name, tag);
  }
  try {
    const subject = parseManifest(m.bytes, m.mediaType).subject;
    if (subject) await storage.unlinkReferrer(name, parseDigest(subject.digest)!, ref.digest);
  } catch {
    // Stored manifests were valid when pushed; nothing to unindex otherwise.
  }
  await storage.unlinkManifest(name, ref.digest);
  send(ctx.res, 202);
}
