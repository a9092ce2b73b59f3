// Content-addressed blob store: root/blobs/sha256/<hex>. Blobs are written under
// root/ingest/<random> while being hashed and renamed into place only once complete (and
// verified), so a blob path never holds partial or wrong content, even after kill -9.
import { createReadStream, promises as fsp, type ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EngineError, notFound } from '../util/errors.ts';
import { assertDigest, hexOf, isDigest, newHasher } from './digest.ts';

/** Bytes are gathered up to this size before a write, so small chunks cost few syscalls. */
const WRITE_BATCH = 1 << 20;

/** A fully written, hashed blob not yet visible in the store. */
export interface PendingBlob {
  readonly digest: string;
  readonly size: number;
  /** Where the bytes are until commit or discard (readable meanwhile). */
  readonly path: string;
  /** Moves the blob into the store (a no-op if it is there already). */
  commit(): Promise<void>;
  /** Deletes the temporary file. Safe to call after commit. */
  discard(): Promise<void>;
}

export function digestMismatch(expected: string, actual: string): EngineError {
  return new EngineError(400, `digest mismatch: expected ${expected}, got ${actual}`);
}

export class ContentStore {
  readonly root: string;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  /** Creates the layout and drops ingest files that a crash left behind. */
  async init(): Promise<void> {
    await fsp.mkdir(this.blobDir, { recursive: true });
    await fsp.rm(this.ingestDir, { recursive: true, force: true });
    await fsp.mkdir(this.ingestDir, { recursive: true });
  }

  path(digest: string): string {
    return join(this.blobDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    if (!isDigest(digest)) return false;
    try {
      return (await fsp.stat(this.path(digest))).isFile();
    } catch {
      return false;
    }
  }

  async size(digest: string): Promise<number> {
    try {
      return (await fsp.stat(this.path(digest))).size;
    } catch (err) {
      throw this.mapMissing(err, digest);
    }
  }

  /** A stream of the blob; a missing blob fails on the first read with ENOENT. */
  readStream(digest: string): ReadStream {
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  async readBytes(digest: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.path(digest));
    } catch (err) {
      throw this.mapMissing(err, digest);
    }
  }

  async put(bytes: Uint8Array, expected?: string): Promise<string> {
    return (await this.ingest([bytes], expected)).digest;
  }

  /** Stores a stream; with expected, a mismatch keeps nothing and throws. */
  async ingest(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expected?: string): Promise<{ digest: string; size: number }> {
    if (expected !== undefined) assertDigest(expected);
    const pending = await this.spool(stream);
    try {
      if (expected !== undefined && pending.digest !== expected) throw digestMismatch(expected, pending.digest);
      await pending.commit();
    } finally {
      await pending.discard();
    }
    return { digest: pending.digest, size: pending.size };
  }

  /**
   * Writes a stream to a temporary ingest file and hashes it; the caller commits or discards.
   * `verifiedBy`: the digest the caller checks itself on the very same bytes (a layer's
   * unpacking hashes them), so they are not hashed twice; it commits only after that check.
   */
  async spool(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: { verifiedBy?: string } = {}): Promise<PendingBlob> {
    if (opts.verifiedBy !== undefined) assertDigest(opts.verifiedBy);
    const tmp = join(this.ingestDir, randomBytes(16).toString('hex'));
    const hash = opts.verifiedBy === undefined ? newHasher() : undefined;
    let size = 0;
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      let batch: Uint8Array[] = [];
      let batched = 0;
      // Batches go out with writev: one system call, and no copy of the bytes (a copy of a
      // 200 MB layer is 200 MB more for the garbage collector).
      const flush = async () => {
        if (batched === 0) return;
        const parts = batch;
        batch = [];
        batched = 0;
        await writeAll(fh, parts);
      };
      for await (const chunk of stream) {
        hash?.update(chunk);
        size += chunk.length;
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) await flush();
      }
      await flush();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const digest = hash ? `sha256:${hash.digest('hex')}` : opts.verifiedBy!;
    const target = this.path(digest);
    return {
      digest,
      size,
      path: tmp,
      commit: async () => {
        // rename() replaces atomically; an existing blob has the same bytes by definition.
        await fsp.rename(tmp, target);
      },
      discard: async () => {
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  async delete(digest: string): Promise<void> {
    await fsp.rm(this.path(digest), { force: true });
  }

  async list(): Promise<string[]> {
    const names = await fsp.readdir(this.blobDir).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest).sort();
  }

  private mapMissing(err: unknown, digest: string): unknown {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return notFound(`content ${digest}: not found`);
    return err;
  }
}

/** Writes every part, resuming after a short write. */
async function writeAll(fh: FileHandle, parts: Uint8Array[]): Promise<void> {
  let rest = parts;
  while (rest.length > 0) {
    let n = (await fh.writev(rest)).bytesWritten;
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)];
  }
}
