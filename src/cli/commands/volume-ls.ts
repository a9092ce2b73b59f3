// berth volume ls: GET /volumes, sorted by name, through docker's volume table.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet, StringFlag } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { renderFormatted } from '../format/formatter.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { VOLUME_HEADER, VolumeContext, volumeFormat, type VolumeSummary } from './volume-format.ts';
import { naturalLess } from './network-ls.ts';

interface LsFlags {
  quiet: BoolFlag;
  format: StringFlag;
  filter: CustomFlag<Filters>;
  cluster: BoolFlag;
}

export const command: CommandDef<LsFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => {
    const f = {
      cluster: fs.bool('cluster', undefined, false, 'Display only cluster volumes, and use cluster volume list formatting'),
      filter: filterFlag(fs, 'f', `Provide filter values (e.g. "dangling=true")`),
      format: fs.string('format', undefined, '', FORMAT_HELP),
      quiet: fs.bool('quiet', 'q', false, 'Only display volume names'),
    };
    // A swarm manager's flag: docker hides it elsewhere.
    f.cluster.hidden = true;
    return f;
  },
  async run(cli: Cli, f: LsFlags) {
    const res = await cli.client.json<{ Volumes?: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: encodeFilters(f.filter.value) } });
    let list = res?.Volumes ?? [];
    let format = f.format.value;
    if (f.cluster.value) {
      list = list.filter((v) => v.ClusterVolume);
      format = f.quiet.value ? 'table' : 'table {{.Name}}\t{{.Group}}\t{{.Driver}}\t{{.Availability}}\t{{.Status}}';
    } else if (format === '') format = 'table';
    list.sort((a, b) => naturalLess(a.Name, b.Name));
    cli.out.write(renderFormatted(volumeFormat(format, f.quiet.value), list.map((v) => new VolumeContext(v)), VOLUME_HEADER));
  },
};
