// Manifest GET/HEAD/PUT. A manifest fetched by digest must hash to it; one fetched by tag
// must match the Docker-Content-Digest the registry states, when it states one.
import type { Descriptor } from './types.ts';
import { MANIFEST_ACCEPT } from './types.ts';
import { digestOf, isDigest } from '../../content/digest.ts';
import { RegistryError } from './errors.ts';
import { responseError, type Transport } from './transport.ts';

/** dockerd refuses manifests above 4 MiB. */
const MAX_MANIFEST = 4 << 20;

function manifestPath(name: string, ref: string): string {
  return `/v2/${name}/manifests/${encodeURIComponent(ref).replace(/%3A/gi, ':')}`;
}

/** A media type from Content-Type, else from the document's own "mediaType" field. */
export function manifestMediaType(contentType: string | null, bytes: Buffer): string {
  const ct = (contentType ?? '').split(';')[0].trim();
  if (ct && ct !== 'application/json' && ct !== 'text/plain' && ct !== 'application/octet-stream') return ct;
  try {
    const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; schemaVersion?: number; manifests?: unknown; layers?: unknown; fsLayers?: unknown };
    if (typeof j.mediaType === 'string') return j.mediaType;
    if (j.manifests) return 'application/vnd.oci.image.index.v1+json';
    if (j.layers) return 'application/vnd.oci.image.manifest.v1+json';
    if (j.schemaVersion === 1 || j.fsLayers) return 'application/vnd.docker.distribution.manifest.v1+json';
  } catch {
    // not JSON: the caller rejects it
  }
  return ct || 'application/octet-stream';
}

async function readLimited(res: Response, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      n += chunk.length;
      if (n > limit) {
        await res.body.cancel().catch(() => undefined);
        throw new RegistryError(500, [{ code: 'MANIFEST_INVALID' }], `manifest too large: over ${limit} bytes`);
      }
      parts.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(parts, n);
}

export async function getManifest(t: Transport, name: string, ref: string): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const res = await t.request('GET', manifestPath(name, ref), { headers: { Accept: MANIFEST_ACCEPT.join(', ') } });
  if (!res.ok) throw await responseError(res);
  const bytes = await readLimited(res, MAX_MANIFEST);
  const digest = digestOf(bytes);
  if (isDigest(ref)) {
    if (digest !== ref) throw new RegistryError(500, [{ code: 'DIGEST_INVALID' }], `manifest verification failed for digest ${ref}`);
  } else {
    const stated = res.headers.get('docker-content-digest');
    if (stated && isDigest(stated) && stated !== digest) throw new RegistryError(500, [{ code: 'DIGEST_INVALID' }], `manifest verification failed for digest ${stated}`);
  }
  return { descriptor: { mediaType: manifestMediaType(res.headers.get('content-type'), bytes), digest, size: bytes.length }, bytes };
}

export async function headManifest(t: Transport, name: string, ref: string): Promise<Descriptor | undefined> {
  const res = await t.request('HEAD', manifestPath(name, ref), { headers: { Accept: MANIFEST_ACCEPT.join(', ') } });
  if (res.status === 404) return undefined;
  if (!res.ok) throw await responseError(res);
  const digest = res.headers.get('docker-content-digest') ?? (isDigest(ref) ? ref : undefined);
  const size = Number(res.headers.get('content-length') ?? NaN);
  if (!digest || !isDigest(digest) || !Number.isFinite(size)) {
    // A registry that does not state the digest on HEAD: fetch the manifest instead.
    return (await getManifest(t, name, ref)).descriptor;
  }
  const ct = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  return { mediaType: ct || 'application/octet-stream', digest, size };
}

export async function putManifest(t: Transport, name: string, ref: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const res = await t.request('PUT', manifestPath(name, ref), { headers: { 'Content-Type': mediaType }, body: bytes });
  if (res.status !== 201 && !res.ok) throw await responseError(res);
  await res.arrayBuffer().catch(() => undefined);
  const digest = digestOf(bytes);
  const stated = res.headers.get('docker-content-digest');
  if (stated && isDigest(stated) && stated !== digest) throw new RegistryError(500, [{ code: 'DIGEST_INVALID' }], `registry stated digest ${stated} for a manifest whose digest is ${digest}`);
  return { mediaType, digest, size: bytes.length };
}

/** All tags of a repository (GET /v2/<name>/tags/list, following rel="next" links). */
export async function listTags(t: Transport, name: string): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `/v2/${name}/tags/list`;
  for (let page = 0; next && page < 1000; page++) {
    const res = await t.request('GET', next, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw await responseError(res);
    const body = (await res.json().catch(() => ({}))) as { tags?: string[] | null };
    for (const tag of body.tags ?? []) if (typeof tag === 'string') tags.push(tag);
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
    next = link ? link[1] : undefined;
  }
  return tags;
}
