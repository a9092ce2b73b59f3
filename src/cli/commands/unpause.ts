// berth unpause: POST /containers/{id}/unpause for each name in parallel; prints the names resumed.
import type { Cli } from '../cli.ts';
import { inParallel, minArgs, reportByName, type CommandDef } from '../command.ts';

export const command: CommandDef<object> = {
  args: minArgs(1),
  flags: () => ({}),
  async run(cli: Cli, _f, names: string[]) {
    reportByName(cli, await inParallel(names, (n) => cli.client.call('POST', `/containers/${n}/unpause`)));
  },
};
