// berth load: POST /images/load with the archive (-i FILE or stdin) as the body; prints the
// daemon's progress stream ("Loaded image: …").
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { displayJsonMessages, copyRaw } from '../../client/streams.ts';
import { platformFlagJson } from '../opts/platform.ts';

export const command: CommandDef<{ input: StringFlag; quiet: BoolFlag; platform: StringFlag }> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    input: fs.string('input', 'i', '', 'Read from tar archive file, instead of STDIN'),
    quiet: fs.bool('quiet', 'q', false, 'Suppress the load output'),
    platform: fs.string('platform', undefined, '', 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'),
  }),
  async run(cli: Cli, f, _args: string[]) {
    let input: Readable;
    if (f.input.value === '') {
      if (cli.inIsTerminal) throw new Error('requested load from stdin, but stdin is empty');
      input = cli.in;
    } else {
      try {
        const fh = await open(f.input.value, 'r');
        await fh.close();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new Error(`open ${f.input.value}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
      }
      input = createReadStream(f.input.value);
    }
    const platformJson = platformFlagJson(f.platform.value);
    const platform = platformJson === undefined ? undefined : [platformJson];
    const quiet = f.quiet.value || !cli.outIsTerminal;
    const res = await cli.client.request('POST', '/images/load', {
      query: { quiet: quiet ? '1' : '0', platform },
      body: input,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    if (String(res.headers['content-type'] ?? '') === 'application/json') await displayJsonMessages(res, cli.out, cli.outIsTerminal);
    else await copyRaw(res, cli.out);
  },
};
