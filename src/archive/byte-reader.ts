// Pulls exact byte counts out of an async stream of chunks without copying bodies: the tar
// reader needs whole 512-byte header blocks (which may straddle chunks) and bounded body
// slices.

export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunks: Buffer[] = [];
  private available = 0;
  private ended = false;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  /** Pulls chunks until at least n bytes are buffered; false when the stream ended first. */
  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.length === 0) continue;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
      this.chunks.push(b);
      this.available += b.length;
    }
    return this.available >= n;
  }

  /** Exactly n bytes; null when the stream ended before any of them; throws on a partial read. */
  async read(n: number, onTruncated: () => Error): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.available === 0) return null;
      throw onTruncated();
    }
    const first = this.chunks[0]!;
    if (first.length >= n) return this.take(n);
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const part = this.take(Math.min(need, this.chunks[0]!.length));
      parts.push(part);
      need -= part.length;
    }
    return Buffer.concat(parts, n);
  }

  /** Between 1 and max bytes (whatever is at hand, pulling one chunk if none); null at the end. */
  async readSome(max: number): Promise<Buffer | null> {
    if (!(await this.fill(1))) return null;
    return this.take(Math.min(max, this.chunks[0]!.length));
  }

  /** Discards n bytes; returns how many were actually there. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const got = await this.readSome(n - skipped);
      if (!got) break;
      skipped += got.length;
    }
    return skipped;
  }

  /** Releases the underlying stream (e.g. closes a file) when the consumer stops early. */
  async close(): Promise<void> {
    this.chunks = [];
    this.available = 0;
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.available -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    this.chunks[0] = first.subarray(n);
    return first.subarray(0, n);
  }
}
