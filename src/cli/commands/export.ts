// berth export: GET /containers/{id}/export streamed to stdout (never a terminal) or to
// -o FILE, written beside it and renamed into place once complete (docker's atomicwriter).
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';

export const command: CommandDef<{ output: StringFlag }> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    output: fs.string('output', 'o', '', 'Write to a file, instead of STDOUT'),
  }),
  async run(cli: Cli, f, [container]: string[]) {
    const out = f.output.value;
    const path = `/containers/${encodeURIComponent(container)}/export`;
    if (out === '') {
      if (cli.outIsTerminal) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await pipeline(await cli.client.request('GET', path), cli.out, { end: false });
      return;
    }
    const dir = dirname(resolve(out));
    await stat(dir).catch(() => {
      throw new Error(`failed to export container: invalid output path: stat ${dir}: no such file or directory`);
    });
    const tmp = join(dir, `.${basename(out)}.tmp-${randomBytes(4).toString('hex')}`);
    try {
      await pipeline(await cli.client.request('GET', path), createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, out);
    } finally {
      await rm(tmp, { force: true });
    }
  },
};
