// berth network ls: GET /networks, sorted by name, through docker's network table.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet, StringFlag } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { renderFormatted } from '../format/formatter.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { NETWORK_HEADER, NETWORK_TABLE, NetworkContext, type NetworkSummary } from './network-format.ts';

interface LsFlags {
  quiet: BoolFlag;
  noTrunc: BoolFlag;
  format: StringFlag;
  filter: CustomFlag<Filters>;
}

export const command: CommandDef<LsFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    filter: filterFlag(fs, 'f', `Provide filter values (e.g. "driver=bridge")`),
    format: fs.string('format', undefined, '', FORMAT_HELP),
    noTrunc: fs.bool('no-trunc', undefined, false, 'Do not truncate the output'),
    quiet: fs.bool('quiet', 'q', false, 'Only display network IDs'),
  }),
  async run(cli: Cli, f: LsFlags) {
    const list = (await cli.client.json<NetworkSummary[]>('GET', '/networks', { query: { filters: encodeFilters(f.filter.value) } })) ?? [];
    list.sort((a, b) => naturalLess(a.Name, b.Name));
    let format = f.format.value || 'table';
    if (format === 'table') format = f.quiet.value ? '{{.ID}}' : NETWORK_TABLE;
    else if (format === 'raw') format = f.quiet.value ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n';
    else if (f.quiet.value && format !== '') cli.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    if (f.quiet.value && f.format.value && f.format.value !== 'table') format = '{{.ID}}';
    cli.out.write(renderFormatted(format, list.map((n) => new NetworkContext(n, !f.noTrunc.value)), NETWORK_HEADER));
  },
};

/** sortorder.NaturalLess: digit runs compare by value. */
export function naturalLess(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'variant' }) < 0 ? -1 : a === b ? 0 : 1;
}
