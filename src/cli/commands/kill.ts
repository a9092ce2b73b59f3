// berth kill: POST /containers/{id}/kill?signal=… for each name in parallel.
import type { Cli } from '../cli.ts';
import { inParallel, minArgs, reportByName, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';

export const command: CommandDef<{ signal: StringFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({ signal: fs.string('signal', 's', '', 'Signal to send to the container') }),
  async run(cli: Cli, f, names: string[]) {
    const query = { signal: f.signal.value || undefined };
    const results = await inParallel(names, (n) => cli.client.call('POST', `/containers/${n}/kill`, { query }));
    reportByName(cli, results);
  },
};
