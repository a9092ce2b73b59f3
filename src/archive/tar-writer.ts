// Streaming tar writer onto a Node Writable, waiting for 'drain' when the stream's buffer
// is full so a slow consumer (an HTTP response, a pipe) bounds our memory.
import { BLOCK, completeHeader, encodeHeader, paddingFor } from './tar-header.ts';
import type { TarEntryType, TarHeader } from './tar-header.ts';

export type TarWriterHeader = Partial<TarHeader> & { name: string; type: TarEntryType };

export class TarWriter {
  private readonly out: NodeJS.WritableStream;
  private failure: Error | undefined;
  private finished = false;
  // Entries are serialized: a second add() waits for the first to be fully written.
  private queue: Promise<void> = Promise.resolve();

  constructor(out: NodeJS.WritableStream) {
    this.out = out;
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
    // A reader that hung up (a client gone mid-download) fails every later write at once:
    // a 'drain' or 'close' awaited after the close would never come.
    out.on('close', () => {
      this.failure ??= new Error('tar writer: output closed');
    });
  }

  /** Writes one entry. For files the body's length must equal header.size (which defaults to
   * the length of a Buffer body). */
  add(header: TarWriterHeader, body?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const run = this.queue.then(() => this.addNow(header, body));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Writes the end-of-archive marker (two zero blocks) and ends the stream. */
  finish(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.finished) return;
      this.finished = true;
      await this.write(Buffer.alloc(2 * BLOCK));
      await new Promise<void>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        this.out.once('error', reject);
        this.out.end(() => {
          this.out.removeListener('error', reject);
          resolve();
        });
      });
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async addNow(partial: TarWriterHeader, body?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.finished) throw new Error('tar writer: add() after finish()');
    const bytesBody = body instanceof Uint8Array ? body : undefined;
    const size = partial.type === 'file' ? (partial.size ?? bytesBody?.length ?? 0) : 0;
    const header = completeHeader({ ...partial, size });
    if (header.type !== 'file' && body && (bytesBody ? bytesBody.length > 0 : true)) {
      throw new Error(`tar writer: ${header.name}: only files have a body`);
    }
    await this.write(encodeHeader(header));
    let written = 0;
    if (bytesBody) {
      if (bytesBody.length !== size) throw new Error(`tar writer: ${header.name}: body is ${bytesBody.length} bytes, header says ${size}`);
      if (size) await this.write(bytesBody);
      written = size;
    } else if (body && !(body instanceof Uint8Array)) {
      for await (const chunk of body) {
        written += chunk.length;
        if (written > size) throw new Error(`tar writer: ${header.name}: body longer than its size ${size}`);
        if (chunk.length) await this.write(chunk);
      }
    }
    if (written !== size) throw new Error(`tar writer: ${header.name}: body is ${written} bytes, header says ${size}`);
    const pad = paddingFor(size);
    if (pad.length) await this.write(pad);
  }

  private write(chunk: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.out.write(chunk)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.out.removeListener('drain', onDrain);
        this.out.removeListener('error', done);
        this.out.removeListener('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? new Error('tar writer: output closed'));
      this.out.on('drain', onDrain);
      this.out.on('error', done);
      this.out.on('close', onClose);
    });
  }
}
