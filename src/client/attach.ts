// Streams a hijacked attach connection as docker's CLI does: output demultiplexed to
// stdout/stderr (raw when the container has a TTY), stdin copied in and then half-closed,
// the terminal put in raw mode for TTY sessions, and the detach keys (ctrl-p ctrl-q)
// ending the session without stopping the container.
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { copyRaw, demux } from './streams.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The user typed the detach sequence. */
export class DetachedError extends Error {
  constructor() {
    super('read escape sequence');
  }
}

/** docker's term.ToBytes: "ctrl-p,ctrl-q" or single characters, comma-separated. */
export function detachKeysToBytes(keys: string): number[] {
  const out: number[] = [];
  for (const raw of keys.split(',')) {
    const k = raw.trim();
    if (k.length > 1 && k.startsWith('ctrl-')) {
      const c = k.slice(5).toLowerCase();
      if (c.length !== 1) throw new Error(`Unknown character: '${k}'`);
      if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`Unknown character: '${k}'`);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new Error(`Unknown character: '${k}'`);
  }
  return out;
}

export interface AttachIO {
  stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  stdout?: Writable | null;
  stderr?: Writable | null;
  tty: boolean;
  detachKeys?: string;
}

/**
 * Runs the session until the output ends (or, with no output attached, until stdin ends).
 * Rejects with DetachedError when the detach keys were typed.
 */
export async function streamAttach(socket: Socket, io: AttachIO): Promise<void> {
  const hasOutput = Boolean(io.stdout || io.stderr);
  let restoreTerminal = () => {};
  const useRaw = Boolean(io.stdin && io.tty && io.stdin.isTTY && io.stdin.setRawMode);
  if (useRaw) {
    io.stdin!.setRawMode!(true);
    restoreTerminal = () => {
      try {
        io.stdin!.setRawMode!(false);
      } catch {
        // the terminal may be gone already
      }
    };
  }
  socket.on('error', () => {});
  let detached = false;
  let stopInput = () => {};
  const inputDone = new Promise<void>((resolve) => {
    const stdin = io.stdin;
    if (!stdin) {
      // Nothing to send: half-close at once so the daemon sees end of input.
      socket.end();
      resolve();
      return;
    }
    let escape: number[] | undefined;
    if (io.tty) {
      try {
        escape = detachKeysToBytes(io.detachKeys || DEFAULT_DETACH_KEYS);
      } catch {
        escape = detachKeysToBytes(DEFAULT_DETACH_KEYS);
      }
    }
    let matched = 0;
    const onData = (chunk: Buffer) => {
      if (!escape) {
        socket.write(chunk);
        return;
      }
      // Hold back bytes that may start the detach sequence; forward them if it breaks off.
      let out: number[] = [];
      for (const b of chunk) {
        if (b === escape[matched]) {
          matched++;
          if (matched === escape.length) {
            detached = true;
            finish();
            return;
          }
          continue;
        }
        if (matched > 0) out = out.concat(escape.slice(0, matched));
        matched = 0;
        out.push(b);
      }
      if (out.length) socket.write(Buffer.from(out));
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      stdin.pause();
      if (!detached) socket.end();
      resolve();
    };
    const onEnd = () => finish();
    stopInput = finish;
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onEnd);
    stdin.resume();
  });

  let outputDone: Promise<void>;
  if (!hasOutput) outputDone = new Promise(() => {});
  else if (io.tty && io.stdout) outputDone = copyRaw(socket, io.stdout);
  else outputDone = demux(socket, io.stdout ?? null, io.stderr ?? null);

  try {
    if (!hasOutput) {
      await inputDone;
    } else {
      await Promise.race([outputDone, inputDone.then(() => (detached ? undefined : outputDone))]);
    }
    if (detached) throw new DetachedError();
  } finally {
    stopInput();
    restoreTerminal();
    if (detached || !hasOutput) socket.destroy();
  }
}
