// berth create: the container is created but not started; prints its id.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet } from '../flags.ts';
import { addCreateFlags, configFromCommandLine, createContainer, type CreateFlags } from './container-create.ts';

export const command: CommandDef<CreateFlags> = {
  noInterspersed: true,
  noHelpShorthand: true,
  args: minArgs(1),
  flags: (fs: FlagSet) => addCreateFlags(fs, false),
  async run(cli: Cli, f: CreateFlags, args: string[], fs: FlagSet) {
    const cfg = await configFromCommandLine(cli, fs, f, args, 'create');
    const id = await createContainer(cli, cfg, f);
    cli.out.write(id + '\n');
  },
};
