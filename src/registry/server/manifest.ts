// What the registry must understand of a manifest: its media type, the blobs and child
// manifests it references (checked to exist on push, followed by gc), its subject (the
// referrers API) and its artifactType. Everything else in it is the client's business.
import { parseDigest } from './digests.ts';
import { regError } from './errors.ts';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const IMAGE_TYPES = new Set<string>([MEDIA.dockerManifest, MEDIA.ociManifest]);
const INDEX_TYPES = new Set<string>([MEDIA.dockerList, MEDIA.ociIndex]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ManifestInfo {
  mediaType: string;
  /** Config and layers: blobs that must be in the repository. */
  blobs: Descriptor[];
  /** An index's entries: manifests that must be in the repository. */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A media type without parameters ("application/json; charset=utf-8" -> "application/json"). */
export function bareMediaType(s: string | undefined): string {
  return (s ?? '').split(';')[0].trim().toLowerCase();
}

function invalid(reason: string): Error {
  return regError('MANIFEST_INVALID', { reason });
}

function descriptor(v: unknown, where: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw invalid(`${where} is not a descriptor`);
  const d = v as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw invalid(`${where}.mediaType is missing`);
  if (typeof d.digest !== 'string' || !parseDigest(d.digest)) throw invalid(`${where}.digest is not a valid digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where}.size is not a size`);
  return d as unknown as Descriptor;
}

function descriptors(v: unknown, where: string): Descriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`${where} is not a list`);
  return v.map((d, i) => descriptor(d, `${where}[${i}]`));
}

/**
 * Parses a pushed manifest. The media type is the request's Content-Type, else the body's
 * mediaType, else guessed from its shape (an OCI manifest may omit mediaType); the two
 * must agree when both are given. Only the four schema-2/OCI types are accepted.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ManifestInfo {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('not a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = bareMediaType(contentType);
  const known = (t: string) => IMAGE_TYPES.has(t) || INDEX_TYPES.has(t);
  const mediaType = known(header) ? header : declared ?? (Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest);
  if (declared !== undefined && declared !== mediaType) throw invalid(`mediaType ${declared} does not match Content-Type ${mediaType}`);
  if (!known(mediaType)) throw invalid(`unsupported manifest media type ${mediaType}`);
  const info: ManifestInfo = { mediaType, blobs: [], manifests: [] };
  if (IMAGE_TYPES.has(mediaType)) {
    if (doc.config === undefined) throw invalid('config is missing');
    if (!Array.isArray(doc.layers) && mediaType === MEDIA.dockerManifest) throw invalid('layers is missing');
    info.blobs = [descriptor(doc.config, 'config'), ...descriptors(doc.layers, 'layers')];
  } else {
    info.manifests = descriptors(doc.manifests, 'manifests');
  }
  if (doc.subject !== undefined) info.subject = descriptor(doc.subject, 'subject');
  if (typeof doc.artifactType === 'string') info.artifactType = doc.artifactType;
  if (typeof doc.annotations === 'object' && doc.annotations !== null) info.annotations = doc.annotations as Record<string, string>;
  return info;
}

/**
 * The descriptor of a manifest in a referrers index. An image manifest without an
 * artifactType is listed under its config's media type (OCI 1.1 says so).
 */
export function referrerDescriptor(info: ManifestInfo, digest: string, size: number): Descriptor {
  const d: Descriptor = { mediaType: info.mediaType, digest, size };
  const artifactType = info.artifactType ?? (IMAGE_TYPES.has(info.mediaType) ? info.blobs[0]?.mediaType : undefined);
  if (artifactType) d.artifactType = artifactType;
  if (info.annotations) d.annotations = info.annotations;
  return d;
}

/** Every digest a manifest keeps alive: its blobs and its child manifests (gc's marking). */
export function referencedDigests(info: ManifestInfo): string[] {
  return [...info.blobs, ...info.manifests].map((d) => d.digest);
}
