// berth start: starts containers; with -a/-i attaches first (like run) and exits with the
// container's status.
import { StatusError, type Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { attachAndWait, forwardSignals, monitorTtySize, waitExitOrRemoved } from './attach-helpers.ts';

interface StartFlags {
  attach: BoolFlag;
  interactive: BoolFlag;
  detachKeys: StringFlag;
  checkpoint: StringFlag;
  checkpointDir: StringFlag;
}

interface Inspect {
  Id: string;
  Config: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig: { AutoRemove?: boolean };
}

export const command: CommandDef<StartFlags> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => {
    const f = {
      attach: fs.bool('attach', 'a', false, 'Attach STDOUT/STDERR and forward signals'),
      interactive: fs.bool('interactive', 'i', false, "Attach container's STDIN"),
      detachKeys: fs.string('detach-keys', undefined, '', 'Override the key sequence for detaching a container'),
      checkpoint: fs.string('checkpoint', undefined, '', 'Restore from this checkpoint'),
      checkpointDir: fs.string('checkpoint-dir', undefined, '', 'Use a custom checkpoint storage directory'),
    };
    for (const c of [f.checkpoint, f.checkpointDir]) {
      c.experimental = true;
      c.osType = 'linux';
    }
    return f;
  },
  async run(cli: Cli, f: StartFlags, names: string[]) {
    if (f.attach.value || f.interactive.value) {
      if (names.length > 1) throw new Error('you cannot start and attach multiple containers at once');
      const c = await cli.client.json<Inspect>('GET', `/containers/${names[0]}/json`);
      const stop = c.Config.Tty ? () => {} : forwardSignals(cli, c.Id);
      try {
        const session = await attachAndWait(cli, c.Id, {
          stdin: f.interactive.value && Boolean(c.Config.OpenStdin),
          stdout: true,
          stderr: true,
          tty: Boolean(c.Config.Tty),
          detachKeys: f.detachKeys.value,
        });
        const status = waitExitOrRemoved(cli, c.Id, Boolean(c.HostConfig.AutoRemove));
        await status.registered;
        try {
          await cli.client.call('POST', `/containers/${c.Id}/start`, { query: { checkpoint: f.checkpoint.value || undefined, 'checkpoint-dir': f.checkpointDir.value || undefined } });
        } catch (e) {
          session.cancel();
          await session.done.catch(() => {});
          if (c.HostConfig.AutoRemove) await status.code;
          throw e;
        }
        if (c.Config.Tty && cli.outIsTerminal) monitorTtySize(cli, c.Id);
        if ((await session.done) === 'detached') return;
        const code = await status.code;
        if (code !== 0) throw new StatusError(code);
      } finally {
        stop();
      }
      return;
    }
    if (f.checkpoint.value) {
      if (names.length > 1) throw new Error('you cannot restore multiple containers at once');
      await cli.client.call('POST', `/containers/${names[0]}/start`, { query: { checkpoint: f.checkpoint.value, 'checkpoint-dir': f.checkpointDir.value || undefined } });
      return;
    }
    const failed: string[] = [];
    for (const n of names) {
      try {
        await cli.client.call('POST', `/containers/${n}/start`);
        cli.out.write(n + '\n');
      } catch (e) {
        cli.err.write((e as Error).message + '\n');
        failed.push(n);
      }
    }
    if (failed.length) throw new Error(`Error: failed to start containers: ${failed.join(', ')}`);
  },
};
