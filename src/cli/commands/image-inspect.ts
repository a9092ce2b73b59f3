// berth image inspect: GET /images/{name}/json for each name.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { inspectAll } from './inspect-common.ts';
import { formatPlatform, parsePlatform } from '../opts/platform.ts';

export const command: CommandDef<{ format: StringFlag; platform: StringFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP),
    platform: fs.string('platform', undefined, '', `Inspect a specific platform of the multi-platform image.
If the image or the server is not multi-platform capable, the command will error out if the platform does not match.
'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)`),
  }),
  async run(cli: Cli, f, refs: string[]) {
    const platform = f.platform.value ? JSON.stringify(toOci(formatPlatform(parsePlatform(f.platform.value)))) : undefined;
    await inspectAll(cli, refs, f.format.value, (ref) => {
      if (ref === '') return Promise.reject(new Error('Error: No such image: '));
      return cli.client.jsonWithRaw('GET', `/images/${ref}/json`, { query: { platform } });
    });
  },
};

function toOci(p: string): Record<string, string> {
  const [os, architecture, variant] = p.split('/');
  return variant ? { architecture, os, variant } : { architecture, os };
}
