// The streams attached to one container: output fans out to every attached client; input
// from clients that asked for stdin goes to the container. Output is never buffered here
// for clients that are not attached (the log has it).
//
// How one client's input ends follows dockerd (container/stream/attach.go): with a TTY the
// detach keys end the session (the container keeps running, its stdin stays open for the
// next attach); when the input reaches its end, a StdinOnce container without a TTY gets
// its stdin closed, and every other client's session simply ends there.

export interface AttachClient {
  stdout: boolean;
  stderr: boolean;
  /** Writes one chunk of container output (stream 1 = stdout, 2 = stderr). */
  write(stream: 1 | 2, data: Buffer): void;
  /** The session is over (the container stopped, the input ended, or the client detached). */
  end(): void;
  /** Input the client sends to the container's stdin, if it attached stdin. */
  stdin?: AsyncIterable<Buffer>;
  /** The container has a TTY: the input is scanned for the detach keys. */
  tty?: boolean;
  /** Closes the container's stdin when this client's input ends (StdinOnce); hub default when absent. */
  closeStdin?: boolean;
  /** The detach sequence (TTY only); ctrl-p,ctrl-q when empty or absent. */
  detachKeys?: Uint8Array;
  /** Called once when the client typed the detach keys, before end(). */
  onDetach?(): void;
}

export interface StdinSink {
  /** False when the pump should await stdinDrained() before writing more. */
  writeStdin(data: Buffer): boolean | void;
  stdinDrained?(): Promise<void>;
  closeStdin(): void;
}

export class AttachHub {
  private clients = new Set<AttachClient>();
  private sink: StdinSink | undefined;
  private pendingInput: AttachClient[] = [];
  /** Whether the container's stdin closes when the first attached client's input ends. */
  stdinOnce = false;
  /** The current run's output switch: its monitor writes the log itself and sends output
   * to berthd only while somebody is attached, so unwatched output costs berthd nothing. */
  private listener: ((wanted: boolean) => void) | undefined;

  /** Registers the current run's switch; returns whether output is wanted now. */
  subscribe(onChange: (wanted: boolean) => void): boolean {
    this.listener = onChange;
    return this.clients.size > 0;
  }

  private changed(before: number): void {
    if (before > 0 !== this.clients.size > 0) this.listener?.(this.clients.size > 0);
  }

  get size(): number {
    return this.clients.size;
  }

  add(client: AttachClient): () => void {
    const before = this.clients.size;
    this.clients.add(client);
    this.changed(before);
    if (client.stdin) {
      if (this.sink) void this.pump(client, this.sink);
      else this.pendingInput.push(client);
    }
    return () => this.drop(client);
  }

  /** The container (re)started: input can flow now. */
  connect(sink: StdinSink): void {
    this.sink = sink;
    for (const c of this.pendingInput.splice(0)) void this.pump(c, sink);
  }

  output(stream: 1 | 2, data: Buffer): void {
    for (const c of this.clients) {
      if (stream === 1 ? c.stdout : c.stderr) c.write(stream, data);
    }
  }

  /** The container exited: every attach stream ends. */
  close(): void {
    this.sink = undefined;
    this.listener = undefined;
    const clients = [...this.clients];
    this.clients.clear();
    this.pendingInput = [];
    for (const c of clients) c.end();
  }

  private drop(client: AttachClient): void {
    const before = this.clients.size;
    this.clients.delete(client);
    this.changed(before);
    this.pendingInput = this.pendingInput.filter((c) => c !== client);
  }

  /** Ends one client's session (its input ended or it detached); the others carry on. */
  private finish(client: AttachClient): void {
    if (!this.clients.has(client)) return;
    this.drop(client);
    client.end();
  }

  private async pump(client: AttachClient, sink: StdinSink): Promise<void> {
    const scanner = client.tty ? new DetachKeyScanner(client.detachKeys) : undefined;
    let detached = false;
    try {
      for await (const chunk of client.stdin!) {
        if (this.sink !== sink || !this.clients.has(client)) return;
        if (!scanner) {
          if (sink.writeStdin(chunk) === false) await sink.stdinDrained?.();
          continue;
        }
        const { data, detached: hit } = scanner.push(chunk);
        if (data.length && sink.writeStdin(data) === false) await sink.stdinDrained?.();
        if (hit) {
          detached = true;
          break;
        }
      }
    } catch {
      // the client went away; its input simply ends
    }
    if (this.sink !== sink || !this.clients.has(client)) return;
    if (detached) {
      client.onDetach?.();
      this.finish(client);
      return;
    }
    const closeStdin = client.closeStdin ?? this.stdinOnce;
    if (closeStdin && !client.tty) sink.closeStdin();
    else this.finish(client);
  }
}

// ---- detach keys ----

/** ctrl-p, ctrl-q: what dockerd and the docker CLI use when no keys are given. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [16, 17];

/** The names after "ctrl-", in the order of their codes 0..31 (moby/term's table). */
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/**
 * Parses a detach sequence as moby/term's ToBytes does: comma-separated keys, each a single
 * byte, "ctrl-<c>" for c in @, a-z, [, \, ], ^, _, or "DEL". Case and spaces matter.
 * Throws Error("Unknown character: '<key>'") for anything else.
 */
export function parseDetachKeys(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    const bytes = Buffer.from(key);
    if (bytes.length === 1) {
      codes.push(bytes[0]!);
      continue;
    }
    const ctrl = key.length === 6 && key.startsWith('ctrl-') ? CTRL_KEYS.indexOf(key[5]!) : -1;
    if (ctrl >= 0) codes.push(ctrl);
    else if (key === 'DEL') codes.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(codes);
}

/** dockerd's 400 for a detachKeys parameter it cannot parse. */
export function invalidDetachKeysMessage(keys: string): string {
  return `Invalid detach keys (${keys}) provided`;
}

/**
 * Finds the detach sequence in a TTY's input stream, as moby/term's escape proxy does:
 * bytes that may begin the sequence are held back; when the next byte breaks it, they are
 * passed on (and that byte is not taken as a new beginning); once the whole sequence is
 * read, the input ends there and nothing after it is passed on.
 */
export class DetachKeyScanner {
  private readonly keys: Uint8Array;
  private matched = 0;
  private done = false;

  constructor(keys?: Uint8Array | readonly number[]) {
    this.keys = Uint8Array.from(keys && keys.length ? keys : DEFAULT_DETACH_KEYS);
  }

  /** Whether the sequence was read: the caller stops reading input. */
  get detached(): boolean {
    return this.done;
  }

  /** Bytes held back because they may begin the sequence. */
  get pending(): number {
    return this.matched;
  }

  push(chunk: Uint8Array): { data: Buffer; detached: boolean } {
    if (this.done) return { data: Buffer.alloc(0), detached: true };
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.done = true;
          this.matched = 0;
          return { data: Buffer.from(out), detached: true };
        }
        continue;
      }
      // The sequence broke: what was held back goes on, then this byte.
      for (let k = 0; k < this.matched; k++) out.push(this.keys[k]!);
      this.matched = 0;
      out.push(b);
    }
    return { data: Buffer.from(out), detached: false };
  }
}

/**
 * Wraps a TTY's input: yields what the container should get and stops at the detach
 * sequence, after calling onDetach. For the exec sessions, which share the rules.
 */
export async function* scanDetachKeys(input: AsyncIterable<Buffer>, keys: Uint8Array | undefined, onDetach: () => void): AsyncGenerator<Buffer> {
  const scanner = new DetachKeyScanner(keys);
  for await (const chunk of input) {
    const { data, detached } = scanner.push(chunk);
    if (data.length) yield data;
    if (detached) {
      onDetach();
      return;
    }
  }
}
