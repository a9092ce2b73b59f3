// berth attach: joins a running container's streams, as docker's RunAttach: the wait for
// the exit is posted first, the state checked before and after the attach, the TTY size
// nudged (one row and column more, then the real size) so a shell redraws its prompt. The
// detach keys end it with "read escape sequence" (status 1); otherwise it exits with the
// container's status.
import type { IncomingMessage } from 'node:http';
import { StatusError, type Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { readAll } from '../../client/api-client.ts';
import { attachAndWait, forwardSignals, monitorTtySize, resizeTtyTo } from './attach-helpers.ts';

interface AttachFlags {
  noStdin: BoolFlag;
  sigProxy: BoolFlag;
  detachKeys: StringFlag;
}

interface Inspect {
  Id: string;
  State: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
  Config: { Tty?: boolean; OpenStdin?: boolean };
}

/** docker's inspectContainerAndCheckState. */
async function runningContainer(cli: Cli, ref: string): Promise<Inspect> {
  const c = await cli.client.json<Inspect>('GET', `/containers/${ref}/json`);
  if (!c.State.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
  return c;
}

/** POST /containers/{id}/wait (condition not-running), read as docker's getExitStatus reads it. */
function waitForExit(cli: Cli, ref: string): { result: Promise<number | Error>; cancel(): void } {
  let res: IncomingMessage | undefined;
  let cancelled = false;
  const result = (async (): Promise<number | Error> => {
    try {
      res = await cli.client.request('POST', `/containers/${ref}/wait`);
      if (cancelled) res.destroy();
      const body = JSON.parse((await readAll(res)).toString()) as { StatusCode?: number; Error?: { Message?: string } | null };
      if (body.Error?.Message) return new Error(body.Error.Message);
      return body.StatusCode ?? 0;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  })();
  return {
    result,
    cancel: () => {
      cancelled = true;
      res?.destroy();
    },
  };
}

export const command: CommandDef<AttachFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    noStdin: fs.bool('no-stdin', undefined, false, 'Do not attach STDIN'),
    sigProxy: fs.bool('sig-proxy', undefined, true, 'Proxy all received signals to the process'),
    detachKeys: fs.string('detach-keys', undefined, '', 'Override the key sequence for detaching a container'),
  }),
  async run(cli: Cli, f: AttachFlags, args: string[]) {
    const ref = args[0]!;
    const wait = waitForExit(cli, ref);
    let stopSignals = () => {};
    let stopResize = () => {};
    try {
      const c = await runningContainer(cli, ref);
      if (!f.noStdin.value && c.Config.Tty && !cli.inIsTerminal) throw new Error('the input device is not a TTY');
      const tty = Boolean(c.Config.Tty);
      if (f.sigProxy.value && !tty) stopSignals = forwardSignals(cli, ref);
      const session = await attachAndWait(cli, ref, {
        stdin: !f.noStdin.value && Boolean(c.Config.OpenStdin),
        stdout: true,
        stderr: true,
        tty,
        detachKeys: f.detachKeys.value,
      });
      // It may have stopped between the check and the attach: the stream would never end.
      try {
        await runningContainer(cli, ref);
      } catch (e) {
        session.cancel();
        await session.done.catch(() => {});
        throw e;
      }
      if (tty && cli.outIsTerminal) {
        const [h, w] = cli.ttySize();
        await resizeTtyTo(cli, ref, h + 1, w + 1).catch(() => {});
        stopResize = monitorTtySize(cli, ref);
      }
      if ((await session.done) === 'detached') throw new Error('read escape sequence');
      const status = await wait.result;
      if (status instanceof Error) throw status;
      if (status !== 0) throw new StatusError(status);
    } finally {
      stopResize();
      stopSignals();
      wait.cancel();
    }
  },
};
