// berth network inspect: GET /networks/{id}[?verbose=true] for each name.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { inspectAll } from './inspect-common.ts';

export const command: CommandDef<{ format: StringFlag; verbose: BoolFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP),
    verbose: fs.bool('verbose', 'v', false, 'Verbose output for diagnostics'),
  }),
  async run(cli: Cli, f, refs: string[]) {
    await inspectAll(cli, refs, f.format.value, (ref) => {
      if (ref === '') return Promise.reject(new Error('Error: No such network: '));
      return cli.client.jsonWithRaw('GET', `/networks/${encodeURIComponent(ref)}`, { query: { verbose: f.verbose.value ? 'true' : undefined } });
    });
  },
};
