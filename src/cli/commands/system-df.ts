// berth system df: GET /system/df, printed as docker's disk usage formatter does (the
// summary table, -v's table per kind, --format templates, "json" and "raw").
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { renderDiskUsage, type DiskUsage } from '../format/disk-usage.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { imageFormat } from './images.ts';
import { containerFormat } from './ps.ts';

export const command: CommandDef<{ verbose: BoolFlag; format: StringFlag }> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    verbose: fs.bool('verbose', 'v', false, 'Show detailed information on space usage'),
    format: fs.string('format', undefined, '', FORMAT_HELP),
  }),
  async run(cli: Cli, f) {
    const du = (await cli.client.json<DiskUsage>('GET', '/system/df')) ?? {};
    const raws = { image: imageFormat('raw', false, true), container: containerFormat('raw', false, true) };
    try {
      cli.out.write(renderDiskUsage(du, { format: f.format.value, verbose: f.verbose.value, raws }));
    } catch (e) {
      // A template failing midway has printed what it rendered before the failure.
      const partial = (e as { partial?: string }).partial;
      if (partial) cli.out.write(partial);
      throw e;
    }
  },
};
