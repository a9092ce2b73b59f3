// The byte streams the API returns: multiplexed stdout/stderr frames (8-byte header:
// stream id, 3 zero bytes, big-endian length), raw TTY output, and newline-delimited JSON
// progress messages (pull, load, import).
import type { Readable, Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const SYSTEMERR = 3;

/** Writes to a stream, waiting for it to drain when its buffer is full. */
export async function writeTo(out: Writable, data: Uint8Array | string): Promise<void> {
  if (data.length === 0) return;
  if (!out.write(data)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        out.off('error', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      out.on('error', done);
    });
  }
}

/**
 * Splits a multiplexed stream into stdout and stderr (docker's stdcopy.StdCopy). Resolves at
 * the end of the stream; rejects on a frame for stream 3 (an error from the daemon) or an
 * unknown stream id.
 */
export async function demux(input: Readable, stdout: Writable | null, stderr: Writable | null): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const stream = pending[0];
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      switch (stream) {
        case STDIN:
        case STDOUT:
          if (stdout) await writeTo(stdout, payload);
          break;
        case STDERR:
          if (stderr) await writeTo(stderr, payload);
          break;
        case SYSTEMERR:
          throw new Error(`error from daemon in stream: ${payload.toString()}`);
        default:
          throw new Error(`Unrecognized input header: ${stream}`);
      }
    }
  }
}

/** Copies a raw (TTY) stream to out. */
export async function copyRaw(input: Readable, out: Writable | null): Promise<void> {
  for await (const chunk of input) if (out) await writeTo(out, chunk as Buffer);
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  id?: string;
  from?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** A failure reported inside a progress stream: printed as the bare message. */
export class JsonStreamError extends Error {}

/** Parses concatenated or newline-separated JSON values. */
export async function* jsonValues(input: Readable): AsyncGenerator<unknown> {
  let buf = '';
  for await (const chunk of input) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString();
    for (;;) {
      buf = buf.replace(/^\s+/, '');
      if (!buf) break;
      const end = jsonEnd(buf);
      if (end < 0) break;
      yield JSON.parse(buf.slice(0, end));
      buf = buf.slice(end);
    }
  }
  buf = buf.trim();
  if (buf) yield JSON.parse(buf);
}

/** The length of the first complete JSON value in s, or -1 when it is incomplete. */
function jsonEnd(s: string): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') {
        inStr = false;
        if (depth === 0) return i + 1;
      }
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && /\s/.test(c)) return i;
  }
  return -1;
}

function progressString(m: JsonMessage): string {
  if (m.progress) return m.progress;
  const d = m.progressDetail;
  if (!d || ((d.total ?? 0) <= 0 && (d.current ?? 0) <= 0)) return '';
  return d.total ? `${d.current ?? 0}/${d.total}` : `${d.current}`;
}

/**
 * Prints a progress stream as docker's jsonmessage does for a non-terminal: "stream" text as
 * is, "status" lines (prefixed by "ID: "), progress bars skipped; rejects with the message of
 * the first error.
 */
export async function displayJsonMessages(input: Readable, out: Writable, isTerminal = false, onAux?: (aux: unknown) => void): Promise<void> {
  for await (const v of jsonValues(input)) {
    const m = v as JsonMessage;
    if (m.errorDetail?.message !== undefined || m.error) throw new JsonStreamError(m.errorDetail?.message ?? m.error ?? '');
    if (m.aux !== undefined) {
      onAux?.(m.aux);
      continue;
    }
    const hasProgress = m.progressDetail !== undefined || m.progress !== undefined;
    const prog = progressString(m);
    if (hasProgress && prog && !isTerminal) continue;
    let line = '';
    if (m.id) line += `${m.id}: `;
    if (m.from) line += `(from ${m.from}) `;
    if (hasProgress && isTerminal && m.stream === undefined) line += `${m.status ?? ''} ${prog}\n`;
    else if (m.stream) line += m.stream;
    else line += `${m.status ?? ''}\n`;
    await writeTo(out, line);
  }
}

/**
 * The lines of a text stream (JSON lines: events, stats), without their newlines; a last
 * line the stream ended in the middle of comes with complete = false.
 */
export async function* textLines(input: AsyncIterable<unknown>): AsyncGenerator<{ line: string; complete: boolean }> {
  let pending = '';
  for await (const chunk of input) {
    pending += (chunk as Buffer).toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      yield { line: pending.slice(0, nl), complete: true };
      pending = pending.slice(nl + 1);
    }
  }
  if (pending !== '') yield { line: pending, complete: false };
}
