// berth container inspect: GET /containers/{id}/json[?size=1] for each name.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { inspectAll } from './inspect-common.ts';

export const command: CommandDef<{ format: StringFlag; size: BoolFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP),
    size: fs.bool('size', 's', false, 'Display total file sizes'),
  }),
  async run(cli: Cli, f, refs: string[]) {
    await inspectAll(cli, refs, f.format.value, (ref) => cli.client.jsonWithRaw('GET', `/containers/${ref}/json`, { query: { size: f.size.value ? '1' : undefined } }));
  },
};
