// Waiting for a writable stream to empty: the backpressure every stream berthd relays
// (attach, exec, a monitor's stdin) follows.
import type { Writable } from 'node:stream';

/** Resolves once a socket has written out what it holds, or has gone away. */
export function drainedOf(sock: Writable): Promise<void> {
  if (sock.destroyed || !sock.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}
