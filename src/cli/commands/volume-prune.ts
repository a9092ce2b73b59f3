// berth volume prune: asks for confirmation (unless -f), POST /volumes/prune (with all=true
// for -a), prints the volumes removed and the space reclaimed. Declining ends quietly.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet } from '../flags.ts';
import { addFilter, filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { confirm } from '../prompt.ts';
import { printPruned } from './container-prune.ts';

const UNUSED_WARNING = `WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue?`;
const ALL_WARNING = `WARNING! This will remove all local volumes not used by at least one container.
Are you sure you want to continue?`;

interface PruneFlags {
  all: BoolFlag;
  force: BoolFlag;
  filter: CustomFlag<Filters>;
}

export const command: CommandDef<PruneFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    all: fs.bool('all', 'a', false, 'Remove all unused volumes, not just anonymous ones'),
    filter: filterFlag(fs, undefined, 'Provide filter values (e.g. "label=<label>")'),
    force: fs.bool('force', 'f', false, 'Do not prompt for confirmation'),
  }),
  async run(cli: Cli, f: PruneFlags) {
    const filters = f.filter.value;
    let warning = UNUSED_WARNING;
    if (!cli.client.versionAtLeast('1.42')) warning = ALL_WARNING;
    else if (f.all.value) {
      if (filters.has('all')) throw new Error('conflicting options: cannot specify both --all and --filter all=1');
      addFilter(filters, 'all=true');
      warning = ALL_WARNING;
    }
    if (!f.force.value && !(await confirm(cli, warning))) return;
    const report = (await cli.client.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters: encodeFilters(filters) } })) ?? {};
    printPruned(cli, 'Volumes', report.VolumesDeleted ?? [], report.SpaceReclaimed);
  },
};
