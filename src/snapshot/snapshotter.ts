// The snapshotter contract: committed (read-only) layer snapshots keyed by chain id, and
// active (writable) snapshots for containers, keyed by container id. The overlay
// implementation is snapshot/overlay.ts; any other implementation must pass the shared
// suite in test/unit/snapshotter-suite.ts.

/** A mount that makes a snapshot usable, in the shape of an OCI/containerd mount. */
export interface Mount {
  type: string; // 'overlay' or 'bind'
  source: string;
  options: string[];
}

export interface ApplyResult {
  /** sha256 of the uncompressed layer tar, "sha256:<hex>" */
  diffId: string;
  /** bytes of the uncompressed tar */
  size: number;
}

export interface ApplyLayerOptions {
  /** Settles when the parent's own apply has (its failure fails this one too). */
  parentReady?: Promise<unknown>;
}

export interface Snapshotter {
  /** Creates the directories it needs and removes leftovers of interrupted operations. */
  init(): Promise<void>;
  /** Whether the committed snapshot for this chain id exists. */
  has(chainId: string): Promise<boolean>;
  /**
   * Unpacks an uncompressed layer tar on top of parent (undefined for a base layer) and
   * commits it under chainId. Atomic: an interrupted apply leaves nothing visible.
   * When expectedDiffId is given and the tar's digest differs, it fails and keeps nothing.
   * With opts.parentReady the parent may still be being applied: the unpacking starts at
   * once, waits for parentReady only where it needs the parent's content, and commits
   * after it (a pull unpacks its layers side by side).
   */
  applyLayer(parent: string | undefined, chainId: string, tar: AsyncIterable<Uint8Array>, expectedDiffId?: string, opts?: ApplyLayerOptions): Promise<ApplyResult>;
  /** Removes a committed snapshot (callers make sure nothing uses it). */
  remove(chainId: string): Promise<void>;
  /** Disk usage in bytes of one committed snapshot's own layer. */
  usage(chainId: string): Promise<number>;
  /** Creates a writable snapshot on top of parent and returns the mounts that assemble it. */
  prepare(key: string, parent: string | undefined): Promise<Mount[]>;
  /** The mounts for an existing writable snapshot. */
  mounts(key: string): Promise<Mount[]>;
  /** The directory holding the writable layer's changes (overlay: upper dir). */
  upperDir(key: string): string;
  /** Removes a writable snapshot; it must not be mounted. */
  removeActive(key: string): Promise<void>;
}
