// berth explain: GET /containers/{id}/explain (a berth extension), printed as tables, as
// JSON (--format json) or through a Go template.
import { StatusError, type Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { Template, TemplateSyntaxError } from '../format/template.ts';
import { renderExplain } from '../../explain/render.ts';
import type { ExplainReport } from '../../explain/types.ts';

export const command: CommandDef<{ format: StringFlag }> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', "Format output: 'json', or a Go template (default: tables)"),
  }),
  async run(cli: Cli, f, args: string[]) {
    const format = f.format.value;
    let tmpl: Template | undefined;
    if (format !== '' && format !== 'table' && format !== 'json') {
      try {
        tmpl = Template.parse(format, { name: 'explain' });
      } catch (e) {
        if (e instanceof TemplateSyntaxError) throw new StatusError(64, `template parsing error: ${e.message}`);
        throw e;
      }
    }
    const report = await cli.client.json<ExplainReport>('GET', `/containers/${encodeURIComponent(args[0]!)}/explain`);
    if (format === 'json') cli.out.write(JSON.stringify(report, null, 2) + '\n');
    else if (tmpl) cli.out.write(tmpl.execute(report) + '\n');
    else cli.out.write(renderExplain(report));
  },
};
