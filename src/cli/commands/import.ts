// berth import: POST /images/create?fromSrc=-… with the tarball (a file or stdin) as the body,
// or fromSrc=URL for http(s) sources; prints the progress stream (the new image id).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet, ListFlag, StringFlag } from '../flags.ts';
import { parseNormalizedNamed } from '../reference.ts';
import { displayJsonMessages } from '../../client/streams.ts';

interface ImportFlags {
  changes: ListFlag;
  message: StringFlag;
  platform: StringFlag;
}

export const command: CommandDef<ImportFlags> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    changes: fs.list('change', 'c', 'Apply Dockerfile instruction to the created image'),
    message: fs.string('message', 'm', '', 'Set commit message for imported image'),
    platform: fs.string('platform', undefined, process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable'),
  }),
  async run(cli: Cli, f: ImportFlags, args: string[]) {
    const [source, reference = ''] = args;
    let body: Readable | undefined;
    let sourceName: string;
    if (source === '-') {
      body = cli.in;
      sourceName = '-';
    } else if (source.startsWith('https://') || source.startsWith('http://')) {
      sourceName = source;
    } else {
      try {
        const fh = await open(source, 'r');
        await fh.close();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
        throw new Error(`open ${source}: ${why}`);
      }
      body = createReadStream(source);
      sourceName = '-';
    }
    if (reference !== '') parseNormalizedNamed(reference);
    const res = await cli.client.request('POST', '/images/create', {
      query: {
        fromSrc: sourceName,
        repo: reference || undefined,
        message: f.message.value || undefined,
        platform: f.platform.value ? f.platform.value.toLowerCase() : undefined,
        changes: f.changes.values.length ? f.changes.values : undefined,
      },
      body,
    });
    await displayJsonMessages(res, cli.out, cli.outIsTerminal);
  },
};
