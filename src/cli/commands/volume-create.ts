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
    // Go writes map keys sorted.
    const sorted = (m: Record<string, string>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // volume.CreateOptions: empty fields are omitted.
    const body: Record<string, unknown> = {};
    if (f.driver.value) body.Driver = f.driver.value;
    const opts = sorted(mapOf(f.opts.values));
    const labels = sorted(mapOf(f.labels.values));
    if (Object.keys(opts).length) body.DriverOpts = opts;
    if (Object.keys(labels).length) body.Labels = labels;
    if (name) body.Name = name;
    const vol = await cli.client.json<{ Name: string }>('POST', '/volumes/create', { body });
    cli.out.write(vol.Name + '\n');
  },
};
