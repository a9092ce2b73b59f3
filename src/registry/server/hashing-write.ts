// Writing a request body to a file while hashing it, so a blob is never held in memory and
// never read twice: the bytes pass through the hashers on their way to the disk.
import { createWriteStream } from 'node:fs';
import type { Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';

/** Streams `source` into `path` (appending with flags "a"); returns the bytes written. */
export async function writeHashed(source: Readable, path: string, flags: 'w' | 'a', hashers: Hash[]): Promise<number> {
  let written = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (const h of hashers) h.update(chunk);
      written += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(source, tap, createWriteStream(path, { flags, mode: 0o644 }));
  return written;
}

/** Hashes a file from disk (when the running hash of an upload was lost, e.g. by a restart). */
export async function hashFile(path: string, hash: Hash): Promise<string> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
