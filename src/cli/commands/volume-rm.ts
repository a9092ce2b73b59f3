// berth volume rm: DELETE /volumes/{name}[?force=1] for each name, in order; the names
// removed are printed, the failures joined after them.
import type { Cli } from '../cli.ts';
import { minArgs, joinErrors, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet } from '../flags.ts';

export const command: CommandDef<{ force: BoolFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Force the removal of one or more volumes'),
  }),
  async run(cli: Cli, f, names: string[]) {
    const errors: unknown[] = [];
    for (const name of names) {
      try {
        await cli.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: f.force.value ? '1' : undefined } });
        cli.out.write(name + '\n');
      } catch (e) {
        errors.push(e);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
