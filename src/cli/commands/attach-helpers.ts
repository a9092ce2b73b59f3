// Pieces of run and start -a: the attach session, the wait for the container's exit,
// signal forwarding (--sig-proxy) and following the terminal size.
import type { IncomingMessage } from 'node:http';
import type { Cli } from '../cli.ts';
import { DetachedError, streamAttach } from '../../client/attach.ts';
import { readAll } from '../../client/api-client.ts';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  detachKeys?: string;
}

export interface AttachSession {
  /** 'done' when the streams ended, 'detached' when the user typed the detach keys. */
  done: Promise<'done' | 'detached'>;
  cancel(): void;
}

/** Hijacks POST /containers/{id}/attach and starts relaying; resolves once the daemon accepted. */
export async function attachAndWait(cli: Cli, id: string, o: AttachOptions): Promise<AttachSession> {
  const { socket } = await cli.client.hijack(`/containers/${id}/attach`, {
    query: {
      stream: '1',
      stdin: o.stdin ? '1' : undefined,
      stdout: o.stdout ? '1' : undefined,
      stderr: o.stderr ? '1' : undefined,
      detachKeys: o.detachKeys || undefined,
    },
  });
  const done = streamAttach(socket, {
    stdin: o.stdin ? cli.in : undefined,
    stdout: o.stdout ? cli.out : null,
    // With a TTY, stderr is merged into the terminal output.
    stderr: o.stderr ? (o.tty ? cli.out : cli.err) : null,
    tty: o.tty,
    detachKeys: o.detachKeys,
  }).then(
    () => 'done' as const,
    (e) => {
      if (e instanceof DetachedError) return 'detached' as const;
      throw e;
    },
  );
  return { done, cancel: () => socket.destroy() };
}

export interface ExitStatus {
  /** Resolves once the daemon has accepted the wait (so a start cannot race past it). */
  registered: Promise<void>;
  /** The exit status; 125 when the wait failed. */
  code: Promise<number>;
  cancel(): void;
}

/** POST /containers/{id}/wait?condition=next-exit (or removed), as docker's waitExitOrRemoved. */
export function waitExitOrRemoved(cli: Cli, id: string, waitRemove: boolean): ExitStatus {
  let res: IncomingMessage | undefined;
  let cancelled = false;
  const responded = cli.client.request('POST', `/containers/${id}/wait`, { query: { condition: waitRemove ? 'removed' : 'next-exit' } }).then((r) => {
    res = r;
    if (cancelled) r.destroy();
    return r;
  });
  const code = responded.then(
    async (r) => {
      let body: { StatusCode?: number; Error?: { Message?: string } | null };
      try {
        const raw = await readAll(r);
        body = JSON.parse(raw.toString());
      } catch (e) {
        if (cancelled) return 0;
        cli.err.write(`ERRO[0000] error waiting for container: ${(e as Error).message}\n`);
        return 125;
      }
      if (body.Error?.Message) {
        cli.err.write(`ERRO[0000] Error waiting for container: ${body.Error.Message}\n`);
        return 125;
      }
      return body.StatusCode ?? 0;
    },
    (e) => {
      if (cancelled) return 0;
      cli.err.write(`ERRO[0000] error waiting for container: ${(e as Error).message}\n`);
      return 125;
    },
  );
  return {
    registered: responded.then(() => undefined, () => undefined),
    code,
    cancel: () => {
      cancelled = true;
      res?.destroy();
    },
  };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGWINCH'];

/** Relays the signals the CLI receives to the container (POST /kill?signal=INT...). */
export function forwardSignals(cli: Cli, id: string): () => void {
  const handlers = FORWARDED.map((sig) => {
    const h = () => {
      cli.client.call('POST', `/containers/${id}/kill`, { query: { signal: sig.slice(3) } }).catch(() => {});
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** Whose tty a resize is for: a container's or an exec's (POST /{kind}/{id}/resize). */
export type TtyOwner = 'containers' | 'exec';

/** POST /containers/{id}/resize; [0, 0] (no terminal) is not sent, as docker's resizeTtyTo. */
export function resizeTtyTo(cli: Cli, id: string, h: number, w: number, owner: TtyOwner = 'containers'): Promise<void> {
  if (h === 0 && w === 0) return Promise.resolve();
  return cli.client.call('POST', `/${owner}/${id}/resize`, { query: { h: String(h), w: String(w) } }).then(() => undefined);
}

/**
 * Sends the terminal size now and on every SIGWINCH (POST /containers/{id}/resize).
 * Returns the function that stops following it.
 */
export function monitorTtySize(cli: Cli, id: string, owner: TtyOwner = 'containers'): () => void {
  const resize = () => {
    const [h, w] = cli.ttySize();
    return resizeTtyTo(cli, id, h, w, owner);
  };
  resize().catch(async () => {
    // The process may not be ready yet: retry a few times, as docker does.
    for (let retry = 0; retry < 10; retry++) {
      await new Promise((r) => setTimeout(r, (retry + 1) * 10));
      try {
        await resize();
        return;
      } catch {
        // try again
      }
    }
    cli.err.write('failed to resize tty, using default size\n');
  });
  const onWinch = () => void resize().catch(() => {});
  process.on('SIGWINCH', onWinch);
  return () => void process.off('SIGWINCH', onWinch);
}
