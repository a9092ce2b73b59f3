// berth network disconnect: POST /networks/{id}/disconnect.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet } from '../flags.ts';

export const command: CommandDef<{ force: BoolFlag }> = {
  args: exactArgs(2),
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Force the container to disconnect from a network'),
  }),
  async run(cli: Cli, f, [network, container]: string[]) {
    await cli.client.call('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: f.force.value } });
  },
};
