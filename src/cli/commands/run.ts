// berth run: create, attach (before start, so no output is lost), wait for the next exit
// (or the removal, with --rm), start, relay the streams, exit with the container's status.
// Failures are worded and numbered as docker's: 125 for daemon errors, 126 when the command
// cannot be executed, 127 when it is not found.
import { StatusError, type Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import { BoolFlag, StringFlag, type FlagSet } from '../flags.ts';
import { addCreateFlags, configFromCommandLine, createContainer, withHelp, type CreateFlags } from './container-create.ts';
import { attachAndWait, forwardSignals, monitorTtySize, waitExitOrRemoved } from './attach-helpers.ts';

interface RunFlags extends CreateFlags {
  detach: BoolFlag;
  sigProxy: BoolFlag;
  detachKeys: StringFlag;
}

/** docker's toStatusError: 127 for a missing command, 126 for one that cannot run, else 125. */
export function toStatusError(err: unknown, command = 'run'): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  if (msg.includes('executable file not found') || msg.includes('no such file or directory') || msg.includes('system cannot find the file specified')) {
    return new StatusError(127, withHelp(err, command));
  }
  if (msg.includes('permission denied') || msg.includes('is a directory')) return new StatusError(126, withHelp(err, command));
  return new StatusError(125, withHelp(err, command));
}

export const command: CommandDef<RunFlags> = {
  noInterspersed: true,
  noHelpShorthand: true,
  args: minArgs(1),
  flags(fs: FlagSet) {
    const detach = fs.bool('detach', 'd', false, 'Run container in background and print container ID');
    const sigProxy = fs.bool('sig-proxy', undefined, true, 'Proxy received signals to the process');
    const detachKeys = fs.string('detach-keys', undefined, '', 'Override the key sequence for detaching a container');
    return { ...addCreateFlags(fs, true), detach, sigProxy, detachKeys };
  },
  async run(cli: Cli, f: RunFlags, args: string[], fs: FlagSet) {
    const cfg = await configFromCommandLine(cli, fs, f, args, 'run');
    const config = cfg.Config;
    if (!f.detach.value) {
      if (config.AttachStdin && config.Tty && !cli.inIsTerminal) throw new Error('the input device is not a TTY');
    } else {
      if (f.copts.attach.values.length !== 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
      config.AttachStdin = false;
      config.AttachStdout = false;
      config.AttachStderr = false;
      config.StdinOnce = false;
    }
    let id: string;
    try {
      id = await createContainer(cli, cfg, f);
    } catch (e) {
      throw toStatusError(e);
    }
    const stopSignals = f.sigProxy.value ? forwardSignals(cli, id) : () => {};
    try {
      const attach = Boolean(config.AttachStdin || config.AttachStdout || config.AttachStderr);
      if (!attach) {
        // docker prints the id at once, then waits for the exit (a request it drops) and starts.
        cli.out.write(id + '\n');
        const status = waitExitOrRemoved(cli, id, f.copts.autoRemove.value);
        await status.registered;
        try {
          await cli.client.call('POST', `/containers/${id}/start`);
        } catch (e) {
          if (f.copts.autoRemove.value) await status.code;
          throw toStatusError(e);
        } finally {
          status.cancel();
        }
        return;
      }
      const session = await attachAndWait(cli, id, {
        stdin: Boolean(config.AttachStdin),
        stdout: Boolean(config.AttachStdout),
        stderr: Boolean(config.AttachStderr),
        tty: Boolean(config.Tty),
        detachKeys: f.detachKeys.value,
      });
      const status = waitExitOrRemoved(cli, id, f.copts.autoRemove.value);
      await status.registered;
      try {
        await cli.client.call('POST', `/containers/${id}/start`);
      } catch (e) {
        session.cancel();
        await session.done.catch(() => {});
        if (f.copts.autoRemove.value) await status.code;
        throw toStatusError(e);
      }
      if (config.Tty && cli.outIsTerminal) monitorTtySize(cli, id);
      const outcome = await session.done;
      if (outcome === 'detached') return;
      const code = await status.code;
      if (code !== 0) throw new StatusError(code);
    } finally {
      stopSignals();
    }
  },
};
