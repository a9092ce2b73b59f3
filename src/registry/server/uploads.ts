// Blob upload sessions (POST, PATCH, PUT, GET, DELETE on /blobs/uploads/<uuid>). A
// session is a directory under the repository holding the bytes so far; its size on disk is
// the truth about progress, so a session survives a restart of the server. The running
// sha256 lives in memory and is used at PUT only while it has seen exactly the bytes on
// disk; after a restart or a failed chunk the file is hashed again instead.
import { randomUUID, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../../util/atomic.ts';
import { listDir, type Storage } from './storage.ts';
import { hasherFor, type ParsedDigest } from './digests.ts';
import { regError } from './errors.ts';
import { hashFile, writeHashed } from './hashing-write.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Session {
  hash?: Hash;
  /** Bytes the hash has seen. */
  hashed: number;
  busy: boolean;
}

/** An upload's Range header value: the inclusive range received, "0-0" when none. */
export function rangeHeader(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}

/** Parses a PATCH Content-Range: "<start>-<end>" (docker's form) or "bytes <start>-<end>[/len]". */
export function parseContentRange(s: string | undefined): { start: number; end: number } | undefined {
  if (s === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(s.trim());
  if (!m || Number(m[2]) < Number(m[1])) throw regError('BLOB_UPLOAD_INVALID', { contentRange: s }, { message: 'invalid Content-Range' });
  return { start: Number(m[1]), end: Number(m[2]) };
}

export class Uploads {
  private readonly storage: Storage;
  private readonly sessions = new Map<string, Session>();

  constructor(storage: Storage) {
    this.storage = storage;
  }

  private dir(name: string, uuid: string): string {
    if (!UUID_RE.test(uuid)) throw regError('BLOB_UPLOAD_UNKNOWN', { uuid });
    return join(this.storage.repoDir(name), '_uploads', uuid);
  }

  private dataPath(name: string, uuid: string): string {
    return join(this.dir(name, uuid), 'data');
  }

  async start(name: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.dir(name, uuid);
    await fsp.mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, 'startedat'), new Date().toISOString(), 0o644);
    await fsp.writeFile(join(dir, 'data'), '', { mode: 0o644 });
    this.sessions.set(uuid, { hash: hasherFor('sha256'), hashed: 0, busy: false });
    return uuid;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN for no such session in this repository. */
  async size(name: string, uuid: string): Promise<number> {
    try {
      return (await fsp.stat(this.dataPath(name, uuid))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw regError('BLOB_UPLOAD_UNKNOWN', { uuid });
      throw err;
    }
  }

  /** Runs fn with the session to itself: a second request on it meanwhile is refused. */
  private async exclusive<T>(name: string, uuid: string, fn: (s: Session, size: number) => Promise<T>): Promise<T> {
    const size = await this.size(name, uuid);
    let s = this.sessions.get(uuid);
    if (!s) {
      s = { hashed: 0, busy: false };
      this.sessions.set(uuid, s);
    }
    if (s.busy) throw regError('BLOB_UPLOAD_INVALID', { uuid }, { message: 'upload is in use by another request' });
    s.busy = true;
    try {
      return await fn(s, size);
    } finally {
      s.busy = false;
    }
  }

  /**
   * Appends a chunk. With a Content-Range it must start where the upload ends (else 416,
   * with the Range the client should resume from) and be as long as it says.
   */
  async append(name: string, uuid: string, body: Readable, range?: { start: number; end: number }): Promise<number> {
    return this.exclusive(name, uuid, (s, size) => this.appendLocked(name, uuid, s, size, body, range));
  }

  private async appendLocked(name: string, uuid: string, s: Session, size: number, body: Readable, range?: { start: number; end: number }): Promise<number> {
    if (range && range.start !== size) {
      body.resume();
      throw regError('BLOB_UPLOAD_INVALID', { expectedStart: size, start: range.start }, { status: 416, message: 'chunk out of order', headers: { Location: `/v2/${name}/blobs/uploads/${uuid}`, Range: rangeHeader(size), 'Docker-Upload-UUID': uuid } });
    }
    const path = this.dataPath(name, uuid);
    const hashing = s.hash !== undefined && s.hashed === size;
    if (!hashing) s.hash = undefined;
    let written: number;
    try {
      written = await writeHashed(body, path, 'a', s.hash ? [s.hash] : []);
    } catch (err) {
      // Part of the chunk may be on disk and in the hash: the client resumes from the
      // size GET reports, and PUT hashes the file again.
      s.hash = undefined;
      throw err;
    }
    s.hashed += written;
    if (range && written !== range.end - range.start + 1) {
      await fsp.truncate(path, size);
      s.hash = undefined;
      throw regError('SIZE_INVALID', { contentRange: `${range.start}-${range.end}`, received: written });
    }
    return size + written;
  }

  /**
   * Completes the upload: appends the final chunk (if any), checks the digest and moves the
   * bytes into the blob store. A digest mismatch cancels the session, as distribution does.
   */
  async finish(name: string, uuid: string, digest: ParsedDigest, body: Readable, range?: { start: number; end: number }): Promise<number> {
    return this.exclusive(name, uuid, async (s, before) => {
      const size = await this.appendLocked(name, uuid, s, before, body, range);
      const path = this.dataPath(name, uuid);
      const actual = digest.algorithm === 'sha256' && s.hash && s.hashed === size ? s.hash.digest('hex') : await hashFile(path, hasherFor(digest.algorithm));
      s.hash = undefined;
      if (`${digest.algorithm}:${actual}` !== digest.digest) {
        await this.remove(name, uuid);
        throw regError('DIGEST_INVALID', { expected: digest.digest, actual: `${digest.algorithm}:${actual}` });
      }
      await this.storage.commitBlob(path, digest);
      await this.storage.linkBlob(name, digest);
      await this.remove(name, uuid);
      return size;
    });
  }

  /** Removes the session; one busy with a chunk is refused rather than cut mid-write. */
  async cancel(name: string, uuid: string): Promise<void> {
    await this.exclusive(name, uuid, () => this.remove(name, uuid));
  }

  private async remove(name: string, uuid: string): Promise<void> {
    this.sessions.delete(uuid);
    await fsp.rm(this.dir(name, uuid), { recursive: true, force: true });
  }

  /** Removes sessions started more than maxAgeMs ago (abandoned; distribution purges too). */
  async purgeStale(maxAgeMs: number, now = Date.now()): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await this.storage.repositoriesWithUploads()) {
      for (const uuid of await listDir(join(this.storage.repoDir(name), '_uploads'))) {
        const dir = join(this.storage.repoDir(name), '_uploads', uuid);
        const started = Date.parse((await fsp.readFile(join(dir, 'startedat'), 'utf8').catch(() => '')) || '');
        if (!UUID_RE.test(uuid) || !(started > now - maxAgeMs)) {
          await fsp.rm(dir, { recursive: true, force: true });
          removed.push(`${name}/${uuid}`);
        }
      }
    }
    return removed;
  }
}
