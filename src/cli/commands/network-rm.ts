// berth network rm: DELETE /networks/{id} for each name, in order; each failure is
// printed as it happens, and with -f a missing network is not one.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import { StatusError } from '../cli.ts';
import type { BoolFlag, FlagSet } from '../flags.ts';
import { isNotFound } from '../../client/errors.ts';

export const command: CommandDef<{ force: BoolFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Do not error if the network does not exist'),
  }),
  async run(cli: Cli, f, names: string[]) {
    let failed = false;
    for (const name of names) {
      try {
        // docker looks the network up first (to ask before removing an ingress network);
        // a failed lookup is not reported: the removal's own error is.
        await cli.client.call('GET', `/networks/${encodeURIComponent(name)}`).catch(() => undefined);
        await cli.client.call('DELETE', `/networks/${encodeURIComponent(name)}`);
        cli.out.write(name + '\n');
      } catch (e) {
        if (f.force.value && isNotFound(e)) continue;
        cli.err.write((e as Error).message + '\n');
        failed = true;
      }
    }
    // docker reports each failure as it happens, then a bare status error.
    if (failed) throw new StatusError(1, 'exit status 1');
  },
};
