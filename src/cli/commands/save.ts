// berth save: GET /images/get?names=… streamed to -o FILE (written atomically) or to stdout,
// which must not be a terminal.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { platformFlagJson } from '../opts/platform.ts';

export const command: CommandDef<{ output: StringFlag; platform: StringFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    output: fs.string('output', 'o', '', 'Write to a file, instead of STDOUT'),
    platform: fs.string('platform', undefined, '', 'Save only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")'),
  }),
  async run(cli: Cli, f, images: string[]) {
    const platform = platformFlagJson(f.platform.value);
    const out = f.output.value;
    if (out === '' && cli.outIsTerminal) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await cli.client.request('GET', '/images/get', { query: { names: images, platform } });
    if (out === '') {
      await pipeline(res, cli.out, { end: false });
      return;
    }
    // Written beside the target and renamed into place, so a failure leaves no partial file.
    const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, out);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new Error(`failed to save image: ${(e as Error).message}`);
    }
  },
};
