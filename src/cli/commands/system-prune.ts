// berth system prune: docker 28's sequence of prunes after one confirmation: stopped
// containers, unused networks, anonymous volumes (--volumes; -a does not widen it to named
// ones, as in docker 28), dangling or (-a) unused images, then the build cache; each step's
// deletions are printed, and the space reclaimed in total.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { humanSize } from '../format/units.ts';
import { confirm } from '../prompt.ts';
import { naturalLess } from './network-ls.ts';

interface PruneFlags {
  force: BoolFlag;
  all: BoolFlag;
  volumes: BoolFlag;
  filter: CustomFlag<Filters>;
}

/** docker's confirmation text for these options (the build cache is always pruned against API 1.31+). */
export function confirmationMessage(all: boolean, volumes: boolean, filters: Filters): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (volumes) warnings.push('all anonymous volumes not used by at least one container');
  warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(all ? 'all build cache' : 'unused build cache');
  const shown: string[] = [];
  for (const name of ['label', 'label!', 'until']) for (const v of filters.get(name) ?? []) shown.push(`${name}=${v}`);
  shown.sort(naturalLess);
  let text = 'WARNING! This will remove:' + warnings.map((w) => `\n  - ${w}`).join('') + '\n';
  if (shown.length) text += '\n  Items to be pruned will be filtered with:' + shown.map((f) => `\n  - ${f}`).join('') + '\n';
  return text + '\nAre you sure you want to continue?';
}

interface Step {
  path: string;
  filters: Filters;
  query?: Record<string, string>;
  /** The report's list of deleted things and its heading. */
  list: (report: Record<string, unknown>) => { heading: string; lines: string[] };
  /** Whether the step's SpaceReclaimed counts only when something was deleted (the CLI's own rule per kind). */
  spaceOnlyWithDeletions: boolean;
  /** The docker client sends `filters=` even without filters (its build cache prune does). */
  emptyFilters?: boolean;
}

const ids = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function steps(all: boolean, volumes: boolean, filters: Filters): Step[] {
  const out: Step[] = [
    { path: '/containers/prune', filters, list: (r) => ({ heading: 'Deleted Containers:', lines: ids(r.ContainersDeleted) }), spaceOnlyWithDeletions: true },
    { path: '/networks/prune', filters, list: (r) => ({ heading: 'Deleted Networks:', lines: ids(r.NetworksDeleted) }), spaceOnlyWithDeletions: true },
  ];
  if (volumes) out.push({ path: '/volumes/prune', filters, list: (r) => ({ heading: 'Deleted Volumes:', lines: ids(r.VolumesDeleted) }), spaceOnlyWithDeletions: true });
  const images = new Map(filters);
  images.set('dangling', [...(images.get('dangling') ?? []), String(!all)]);
  out.push({
    path: '/images/prune',
    filters: images,
    list: (r) => ({
      heading: 'Deleted Images:',
      lines: (Array.isArray(r.ImagesDeleted) ? (r.ImagesDeleted as Array<{ Untagged?: string; Deleted?: string }>) : []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`)),
    }),
    spaceOnlyWithDeletions: true,
  });
  out.push({
    path: '/build/prune',
    filters,
    query: all ? { all: '1' } : {},
    list: (r) => ({ heading: 'Deleted build cache objects:', lines: ids(r.CachesDeleted) }),
    spaceOnlyWithDeletions: false,
    emptyFilters: true,
  });
  return out;
}

export const command: CommandDef<PruneFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Do not prompt for confirmation'),
    all: fs.bool('all', 'a', false, 'Remove all unused images not just dangling ones'),
    volumes: fs.bool('volumes', undefined, false, 'Prune anonymous volumes'),
    filter: filterFlag(fs, undefined, 'Provide filter values (e.g. "label=<key>=<value>")'),
  }),
  async run(cli: Cli, f: PruneFlags) {
    const filters = f.filter.value;
    if (f.volumes.value && filters.has('until')) throw new Error('ERROR: The "until" filter is not supported with "--volumes"');
    // Declining is a cancellation: docker exits 0 and prints nothing more.
    if (!f.force.value && !(await confirm(cli, confirmationMessage(f.all.value, f.volumes.value, filters)))) return;
    let space = 0;
    for (const step of steps(f.all.value, f.volumes.value, filters)) {
      const report = (await cli.client.json<Record<string, unknown>>('POST', step.path, { query: { ...step.query, filters: encodeFilters(step.filters) ?? (step.emptyFilters ? '' : undefined) } })) ?? {};
      const { heading, lines } = step.list(report);
      if (lines.length > 0 || !step.spaceOnlyWithDeletions) space += Number(report.SpaceReclaimed ?? 0);
      if (lines.length > 0) cli.out.write(heading + '\n' + lines.map((l) => l + '\n').join('') + '\n');
    }
    cli.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
  },
};
