// berth create: the container is created but not started; prints its id.
import { StatusError, type Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet } from '../flags.ts';
import { addCreateFlags, containerConfigFrom, createContainer, validatePullOpt, type CreateFlags } from './container-create.ts';
import { withHelp } from './run.ts';

export const command: CommandDef<CreateFlags> = {
  noInterspersed: true,
  noHelpShorthand: true,
  args: minArgs(1),
  flags: (fs: FlagSet) => addCreateFlags(fs, false),
  async run(cli: Cli, f: CreateFlags, args: string[], fs: FlagSet) {
    try {
      validatePullOpt(f.pull.value);
    } catch (e) {
      throw new StatusError(125, withHelp(e, 'create'));
    }
    let cfg;
    try {
      await cli.client.negotiate().catch(() => {});
      cfg = containerConfigFrom(cli, fs, f, args[0], args.slice(1));
    } catch (e) {
      throw new StatusError(125, withHelp(e, 'create'));
    }
    const id = await createContainer(cli, cfg, f);
    cli.out.write(id + '\n');
  },
};
