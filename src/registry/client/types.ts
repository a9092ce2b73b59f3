// The public contract of the distribution (registry v2 / OCI distribution) client. Pull and
// push, in the daemon, use only these types; the implementation lives beside this file.
export interface AuthConfig { username?: string; password?: string; auth?: string; email?: string; serveraddress?: string; identitytoken?: string; registrytoken?: string }
export interface RegistryOptions { insecureRegistries: string[]; mirrors: string[]; userAgent?: string }
export interface Platform { architecture: string; os: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] }
export interface Descriptor { mediaType: string; digest: string; size: number; platform?: Platform; annotations?: Record<string, string>; urls?: string[]; artifactType?: string }
export type Scope = 'pull' | 'push';
export interface Repository {
  readonly registry: string; // host[:port] as the reference names it ("docker.io" for Docker Hub)
  readonly name: string;     // repository path, e.g. "library/busybox"
  getManifest(ref: string): Promise<{ descriptor: Descriptor; bytes: Buffer }>; // tag or digest; digest verified
  headManifest(ref: string): Promise<Descriptor | undefined>;
  putManifest(ref: string, mediaType: string, bytes: Buffer): Promise<Descriptor>;
  fetchBlob(desc: Descriptor, opts?: { signal?: AbortSignal; offset?: number }): Promise<AsyncIterable<Buffer>>; // throws at the end on digest or size mismatch
  statBlob(digest: string): Promise<Descriptor | undefined>;
  mountBlob(digest: string, fromRepository: string): Promise<boolean>; // true: mounted (201)
  pushBlob(desc: Descriptor, body: () => AsyncIterable<Buffer>, opts?: { chunkSize?: number; signal?: AbortSignal }): Promise<void>; // monolithic when chunkSize is unset
  /** A blob whose descriptor `finish` gives once the body has ended (streamed PATCH, then PUT). */
  pushBlobStreamed(body: AsyncIterable<Buffer>, finish: () => Promise<Descriptor>, opts?: { chunkSize?: number; signal?: AbortSignal }): Promise<Descriptor>;
  /** GET /v2/<name>/tags/list, following Link pagination (docker pull -a). */
  listTags(): Promise<string[]>;
}
export interface RegistryClient {
  repository(registry: string, name: string, auth: AuthConfig | undefined, scopes: Scope[]): Repository;
  /** POST /auth: checks credentials against the registry; an identity token when the token server returns a refresh token. */
  checkLogin(registry: string, auth: AuthConfig): Promise<{ identityToken?: string }>;
}

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
} as const;

/** What a manifest GET/HEAD accepts, in the order dockerd sends it. */
export const MANIFEST_ACCEPT = [MediaTypes.dockerManifest, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.ociIndex];
