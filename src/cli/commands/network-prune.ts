// berth network prune: asks for confirmation (unless -f), POST /networks/prune, prints the
// names of the networks removed.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { confirm } from '../prompt.ts';

const WARNING = `WARNING! This will remove all custom networks not used by at least one container.
Are you sure you want to continue?`;

export const command: CommandDef<{ force: BoolFlag; filter: CustomFlag<Filters> }> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    filter: filterFlag(fs, undefined, 'Provide filter values (e.g. "until=<timestamp>")'),
    force: fs.bool('force', 'f', false, 'Do not prompt for confirmation'),
  }),
  async run(cli: Cli, f) {
    if (!f.force.value && !(await confirm(cli, WARNING))) return;
    const report = await cli.client.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters: encodeFilters(f.filter.value) } });
    const deleted = report?.NetworksDeleted ?? [];
    if (deleted.length > 0) cli.out.write('Deleted Networks:\n' + deleted.map((n) => n + '\n').join('') + '\n');
  },
};
