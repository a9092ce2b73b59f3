// berth restart: POST /containers/{id}/restart, one container after the other.
import type { Cli } from '../cli.ts';
import { joinErrors, minArgs, type CommandDef } from '../command.ts';
import { stopFlags, stopQuery, type StopFlags } from './stop.ts';

export const command: CommandDef<StopFlags> = {
  args: minArgs(1),
  flags: stopFlags,
  async run(cli: Cli, f: StopFlags, names: string[]) {
    const query = await stopQuery(cli, f);
    const errors: unknown[] = [];
    for (const n of names) {
      try {
        await cli.client.call('POST', `/containers/${n}/restart`, { query });
        cli.out.write(n + '\n');
      } catch (e) {
        errors.push(e);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
