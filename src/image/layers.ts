// Layer helpers: chain ids (OCI image spec) and transparent decompression of layer tars,
// which come uncompressed, gzip'd or zstd'd; the format is told by magic bytes, not names.
import { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { badParameter } from '../util/errors.ts';
import { digestOf } from '../content/digest.ts';

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : digestOf(`${out[out.length - 1]} ${d}`));
  return out;
}

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz';

export function detectCompression(head: Uint8Array): Compression {
  const b = (i: number) => (i < head.length ? head[i] : -1);
  if (b(0) === 0x1f && b(1) === 0x8b && b(2) === 0x08) return 'gzip';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  return 'none';
}

/** Yields the uncompressed bytes of a possibly compressed stream. */
const DECOMPRESS_CHUNK = 256 * 1024;

export async function* decompress(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Uint8Array> {
    if (first.length) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const kind = detectCompression(first);
  if (kind === 'none') {
    yield* all();
    return;
  }
  if (kind !== 'gzip' && kind !== 'zstd') throw badParameter(`unsupported layer compression: ${kind}`);
  // Output in large pieces: zlib's 16 KiB default makes every later step (tar reading,
  // hashing, file writes) run per 16 KiB, and the garbage of it costs as much as the work.
  const z = kind === 'gzip' ? createGunzip({ chunkSize: DECOMPRESS_CHUNK }) : createZstdDecompress({ chunkSize: DECOMPRESS_CHUNK });
  const input = Readable.from(all(), { objectMode: false });
  input.on('error', (err) => z.destroy(err));
  input.pipe(z);
  try {
    for await (const chunk of z) yield chunk as Buffer;
  } finally {
    input.destroy();
    z.destroy();
  }
}
