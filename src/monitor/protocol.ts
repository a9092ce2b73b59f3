// The framing berth-monitor speaks on its sockets, in both directions:
// 1 byte type, 4 bytes big-endian payload length, payload.

/** Largest payload either side may send in one frame. */
export const MAX_PAYLOAD = 1 << 20;

export interface Frame {
  type: string;
  payload: Buffer;
}

export function encodeFrame(type: string, payload: Uint8Array | string = ''): Buffer {
  if (type.length !== 1) throw new RangeError(`frame type must be one character: ${JSON.stringify(type)}`);
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (body.length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${body.length} bytes exceeds ${MAX_PAYLOAD}`);
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = type.charCodeAt(0);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

/** Reassembles frames from a byte stream whose chunks split them anywhere. */
export class FrameDecoder {
  #pending: Buffer[] = [];
  #pendingLength = 0;

  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.#pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#pendingLength += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.#pendingLength >= 5) {
      const head = this.#peek(5);
      const length = head.readUInt32BE(1);
      if (length > MAX_PAYLOAD) throw new RangeError(`frame payload of ${length} bytes exceeds ${MAX_PAYLOAD}`);
      if (this.#pendingLength < 5 + length) break;
      const whole = this.#take(5 + length);
      // Copy the payload so it does not pin a large shared chunk.
      frames.push({ type: String.fromCharCode(whole[0]!), payload: Buffer.from(whole.subarray(5)) });
    }
    return frames;
  }

  /** Bytes received that do not yet make a whole frame. */
  get buffered(): number {
    return this.#pendingLength;
  }

  #peek(n: number): Buffer {
    if (this.#pending[0]!.length < n) this.#pending = [Buffer.concat(this.#pending)];
    return this.#pending[0]!.subarray(0, n);
  }

  #take(n: number): Buffer {
    if (this.#pending[0]!.length < n) this.#pending = [Buffer.concat(this.#pending)];
    const first = this.#pending[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.#pending.shift();
    else this.#pending[0] = first.subarray(n);
    this.#pendingLength -= n;
    return out;
  }
}
