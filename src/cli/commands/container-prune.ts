// berth container prune: asks for confirmation (unless -f), POST /containers/prune, prints the
// ids removed and the space reclaimed. Declining ends quietly with status 0, as docker does.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';

interface PruneFlags {
  force: BoolFlag;
  filter: CustomFlag<Filters>;
}

const WARNING = `WARNING! This will remove all stopped containers.
Are you sure you want to continue?`;

interface PruneReport {
  ContainersDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

export const command: CommandDef<PruneFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Do not prompt for confirmation'),
    filter: filterFlag(fs, undefined, 'Provide filter values (e.g. "until=<timestamp>")'),
  }),
  async run(cli: Cli, f: PruneFlags) {
    if (!f.force.value && !(await confirm(cli, WARNING))) return;
    let report: PruneReport;
    try {
      report = (await cli.client.json<PruneReport>('POST', '/containers/prune', { query: { filters: encodeFilters(f.filter.value) } })) ?? {};
    } catch (e) {
      if (e instanceof SyntaxError) throw new Error(`Error retrieving disk usage: ${e.message}`);
      throw e;
    }
    printPruned(cli, 'Containers', report.ContainersDeleted ?? [], report.SpaceReclaimed);
  },
};

/** docker's prune report: what was removed under "Deleted KIND:", then the space reclaimed
 * (counted only when something was removed). */
export function printPruned(cli: Cli, kind: string, deleted: string[], space: number | undefined): void {
  if (deleted.length > 0) cli.out.write(`Deleted ${kind}:\n` + deleted.map((n) => n + '\n').join('') + '\n');
  cli.out.write(`Total reclaimed space: ${humanSize(deleted.length > 0 ? (space ?? 0) : 0)}\n`);
}
