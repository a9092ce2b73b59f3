// berth rename: POST /containers/{id}/rename?name=NEW. On failure docker prints the daemon's
// error, then its own "failed to rename" line (both on stderr).
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';

export const command: CommandDef<object> = {
  args: exactArgs(2),
  flags: () => ({}),
  async run(cli: Cli, _f, args: string[]) {
    // Go's strings.TrimSpace: Unicode white space at both ends.
    const oldName = args[0].trim();
    const newName = args[1].trim();
    if (oldName === '' || newName === '') throw new Error('Error: Neither old nor new names may be empty');
    try {
      await cli.client.call('POST', `/containers/${oldName}/rename`, { query: { name: newName } });
    } catch (e) {
      cli.eprintln(e instanceof Error ? e.message : String(e));
      throw new Error(`Error: failed to rename container named ${oldName}`);
    }
  },
};
