// berth history: GET /images/{name}/history through docker's history formatter.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { HISTORY_HEADER, HistoryContext, type HistoryItem } from '../format/contexts.ts';
import { renderFormatted } from '../format/formatter.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { platformFlagJson } from '../opts/platform.ts';

interface HistoryFlags {
  human: BoolFlag;
  quiet: BoolFlag;
  noTrunc: BoolFlag;
  format: StringFlag;
  platform: StringFlag;
}

export const command: CommandDef<HistoryFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    human: fs.bool('human', 'H', true, 'Print sizes and dates in human readable format'),
    quiet: fs.bool('quiet', 'q', false, 'Only show image IDs'),
    noTrunc: fs.bool('no-trunc', undefined, false, "Don't truncate output"),
    format: fs.string('format', undefined, '', FORMAT_HELP),
    platform: fs.string('platform', undefined, '', 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'),
  }),
  async run(cli: Cli, f: HistoryFlags, args: string[]) {
    const platform = platformFlagJson(f.platform.value);
    const history = (await cli.client.json<HistoryItem[]>('GET', `/images/${args[0]}/history`, { query: { platform } })) ?? [];
    let format = f.format.value || 'table';
    if (format === 'table') {
      if (f.quiet.value) format = '{{.ID}}';
      else if (!f.human.value) format = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
      else format = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    }
    const now = Date.now();
    const rows = history.map((h) => new HistoryContext(h, !f.noTrunc.value, f.human.value, now));
    cli.out.write(renderFormatted(format, rows, HISTORY_HEADER));
  },
};
