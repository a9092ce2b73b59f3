// berth volume create: POST /volumes/create, prints the volume's name.
import type { Cli } from '../cli.ts';
import { maxArgs, type CommandDef } from '../command.ts';
import { ListFlag, type FlagSet, type StringFlag } from '../flags.ts';
import { validateLabel } from '../opts/validators.ts';
import { mapOf } from './network-create.ts';

interface CreateFlags {
  driver: StringFlag;
  name: StringFlag;
  opts: ListFlag;
  labels: ListFlag;
}

export const command: CommandDef<CreateFlags> = {
  args: maxArgs(1),
  flags: (fs: FlagSet) => {
    const f = {
      driver: fs.string('driver', 'd', 'local', 'Specify volume driver name'),
      labels: fs.list('label', undefined, 'Set metadata for a volume', validateLabel),
      name: fs.string('name', undefined, '', 'Specify volume name'),
      opts: fs.add(new ListFlag('opt', 'o', 'Set driver specific options', undefined, 'map', 'map[]')),
    };
    f.name.hidden = true;
    return f;
  },
  async run(cli: Cli, f: CreateFlags, args: string[]) {
    let name = f.name.value;
    if (args.length === 1) {
      if (name !== '') throw new Error('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      name = args[0];
    }
    const body = { Driver: f.driver.value, DriverOpts: mapOf(f.opts.values), Labels: mapOf(f.labels.values), Name: name };
    const vol = await cli.client.json<{ Name: string }>('POST', '/volumes/create', { body });
    cli.out.write(vol.Name + '\n');
  },
};
