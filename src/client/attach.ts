// Streams a hijacked attach connection as docker's CLI does: output demultiplexed to
// stdout/stderr (raw when the container has a TTY), stdin copied in and then half-closed,
// the terminal put in raw mode for TTY sessions, and the detach keys (ctrl-p ctrl-q)
// ending the session without stopping the container.
import { spawnSync } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { copyRaw, demux } from './streams.ts';
import { DetachKeyScanner, parseDetachKeys } from '../container/attach.ts';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The user typed the detach sequence. */
export class DetachedError extends Error {
  constructor() {
    super('read escape sequence');
  }
}

/** docker's term.ToBytes: "ctrl-p,ctrl-q", single characters or DEL, comma-separated. */
export function detachKeysToBytes(keys: string): number[] {
  return [...parseDetachKeys(keys)];
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
    // libuv's raw mode keeps output processing on (every "\n" written becomes "\r\n");
    // docker's (Go's term.MakeRaw) turns it off, so the pty's "\r\n" passes unchanged.
    // Leaving raw mode restores the terminal's settings from before, this one included.
    const fd = (io.stdin as { fd?: unknown }).fd;
    if (typeof fd === 'number') spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'] });
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
    // As docker's CLI: the keys are looked for on this side too (with a TTY only), and an
    // invalid sequence falls back to the default one.
    let scanner: DetachKeyScanner | undefined;
    if (io.tty) {
      let keys: Buffer | undefined;
      try {
        keys = io.detachKeys ? parseDetachKeys(io.detachKeys) : undefined;
      } catch {
        keys = undefined;
      }
      scanner = new DetachKeyScanner(keys);
    }
    const onData = (chunk: Buffer) => {
      if (!scanner) {
        socket.write(chunk);
        return;
      }
      const { data, detached: hit } = scanner.push(chunk);
      if (data.length) socket.write(data);
      if (hit) {
        detached = true;
        finish();
      }
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
