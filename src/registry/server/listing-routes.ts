// The read-only listings: /v2/ (the version check), /v2/_catalog, /v2/<name>/tags/list and
// /v2/<name>/referrers/<digest>.
import type { Ctx } from './context.ts';
import { requireDigest } from './digests.ts';
import { regError } from './errors.ts';
import { sendJson } from './http.ts';
import { MEDIA, parseManifest, referrerDescriptor, type Descriptor } from './manifest.ts';
import { readManifest } from './manifest-routes.ts';
import { paginate, parseN, type Page } from './pagination.ts';

function pageHeaders(page: Page): Record<string, string> {
  return page.link ? { Link: page.link } : {};
}

export async function getBase(ctx: Ctx): Promise<void> {
  sendJson(ctx.res, 200, {});
}

export async function getCatalog(ctx: Ctx): Promise<void> {
  const q = ctx.url.searchParams;
  const page = paginate(await ctx.storage.repositories(), parseN(q.get('n')), q.get('last'), '/v2/_catalog');
  sendJson(ctx.res, 200, { repositories: page.items }, pageHeaders(page));
}

export async function getTags(ctx: Ctx): Promise<void> {
  const q = ctx.url.searchParams;
  const n = parseN(q.get('n'));
  if (!(await ctx.storage.repoExists(ctx.name))) throw regError('NAME_UNKNOWN', { name: ctx.name });
  const page = paginate(await ctx.storage.tags(ctx.name), n, q.get('last'), `/v2/${ctx.name}/tags/list`);
  sendJson(ctx.res, 200, { name: ctx.name, tags: page.items }, pageHeaders(page));
}

/**
 * The manifests whose subject is the digest, as an OCI image index. An unknown subject or
 * repository gives an empty index, never a 404 (OCI 1.1). ?artifactType= filters, and
 * the OCI-Filters-Applied header says so.
 */
export async function getReferrers(ctx: Ctx): Promise<void> {
  const subject = requireDigest(ctx.ref);
  const filter = ctx.url.searchParams.get('artifactType');
  const manifests: Descriptor[] = [];
  for (const d of await ctx.storage.referrers(ctx.name, subject)) {
    const m = await readManifest(ctx.storage, ctx.name, d);
    if (!m) continue;
    let desc: Descriptor;
    try {
      desc = referrerDescriptor(parseManifest(m.bytes, m.mediaType), d.digest, m.bytes.length);
    } catch {
      continue;
    }
    if (filter && desc.artifactType !== filter) continue;
    manifests.push(desc);
  }
  manifests.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const headers: Record<string, string> = filter ? { 'OCI-Filters-Applied': 'artifactType' } : {};
  sendJson(ctx.res, 200, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }, headers, MEDIA.ociIndex);
}
