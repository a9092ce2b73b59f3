// berth ps / container ls: GET /containers/json, printed through docker's container
// formatter (table, custom templates, json, -q).
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet, IntFlag, StringFlag } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { CONTAINER_HEADER, ContainerContext, type ContainerSummary } from '../format/contexts.ts';
import { renderFormatted } from '../format/formatter.ts';
import { Template, TemplateExecError, TemplateSyntaxError } from '../format/template.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';

interface PsFlags {
  quiet: BoolFlag;
  size: BoolFlag;
  all: BoolFlag;
  noTrunc: BoolFlag;
  latest: BoolFlag;
  last: IntFlag;
  format: StringFlag;
  filter: CustomFlag<Filters>;
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const RAW = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;

export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === 'table' || source === '') {
    if (quiet) return '{{.ID}}';
    return size ? DEFAULT_TABLE + '\\t{{.Size}}' : DEFAULT_TABLE;
  }
  if (source === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    return size ? RAW + 'size: {{.Size}}\\n' : RAW;
  }
  return quiet ? '{{.ID}}' : source;
}

export const command: CommandDef<PsFlags> = {
  args: noArgs,
  flags(fs: FlagSet) {
    return {
      quiet: fs.bool('quiet', 'q', false, 'Only display container IDs'),
      size: fs.bool('size', 's', false, 'Display total file sizes'),
      all: fs.bool('all', 'a', false, 'Show all containers (default shows just running)'),
      noTrunc: fs.bool('no-trunc', undefined, false, "Don't truncate output"),
      latest: fs.bool('latest', 'l', false, 'Show the latest created container (includes all states)'),
      last: fs.int('last', 'n', -1, 'Show n last created containers (includes all states)'),
      format: fs.string('format', undefined, '', FORMAT_HELP),
      filter: filterFlag(fs, 'f', 'Filter output based on conditions provided'),
    };
  },
  async run(cli: Cli, f: PsFlags) {
    const format = f.format.value;
    if (format !== '' && f.quiet.value) cli.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    let size = f.size.value;
    let limit = f.last.value;
    if (f.latest.value && limit === -1) limit = 1;
    if (format !== '') {
      let tmpl: Template;
      try {
        tmpl = Template.parse(format);
      } catch (e) {
        if (e instanceof TemplateSyntaxError) throw new Error(`failed to parse template: ${e.message}`);
        throw e;
      }
      // docker runs the template once on an empty row to learn whether it shows .Size.
      const probe = new ContainerContext({}, true);
      try {
        tmpl.execute(probe);
      } catch (e) {
        if (e instanceof TemplateExecError) throw new Error(`failed to execute template: ${e.message}`);
        throw e;
      }
      if (!f.quiet.value && !size && !f.size.changed && probe.sizeUsed) size = true;
    }
    const containers = await cli.client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: {
        all: f.all.value ? '1' : undefined,
        limit: limit > 0 ? String(limit) : undefined,
        size: size ? '1' : undefined,
        filters: encodeFilters(f.filter.value),
      },
    });
    const now = Date.now();
    const rows = (containers ?? []).map((c) => new ContainerContext(c, !f.noTrunc.value, now));
    cli.out.write(renderFormatted(containerFormat(format, f.quiet.value, size), rows, CONTAINER_HEADER));
  },
};
