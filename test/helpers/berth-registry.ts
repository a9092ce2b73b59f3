// `berth registry serve` as a real process for a test or a benchmark: on 127.0.0.1:0 (the
// address it logs is read back), over a root the caller gives.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './daemon.ts';

const NODE = join(REPO, 'node_modules/node/bin/node');
/** The CLI from source (Node 26 runs TypeScript directly). */
export const BERTH_CLI = [NODE, '--', join(REPO, 'src/cli/main.ts')];

export interface BerthRegistry {
  proc: ChildProcess;
  /** "http://127.0.0.1:PORT" (https with TLS options) */
  base: string;
  /** "127.0.0.1:PORT" */
  host: string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the server and waits for the address it logs; `extra` are more serve flags. */
export async function startBerthRegistry(root: string, extra: string[] = [], scheme = 'http'): Promise<BerthRegistry> {
  const proc = spawn(BERTH_CLI[0]!, [...BERTH_CLI.slice(1), 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', root, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const addr = await new Promise<string>((resolvePromise, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /msg="registry listening" addr="([^"]+)"/.exec(err);
      if (m) resolvePromise(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`registry exited ${code}: ${err}`)));
  });
  return {
    proc,
    base: `${scheme}://${addr}`,
    host: addr,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}
