// berth commit: POST /commit?container=…&repo=…&tag=… after docker's client-side checks of
// the reference; prints the new image's id.
import type { Cli } from '../cli.ts';
import { rangeArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, ListFlag, StringFlag } from '../flags.ts';
import { parseNormalizedNamed, tagNameOnly } from '../reference.ts';

interface CommitFlags {
  pause: BoolFlag;
  message: StringFlag;
  author: StringFlag;
  changes: ListFlag;
}

export const command: CommandDef<CommitFlags> = {
  noInterspersed: true,
  args: rangeArgs(1, 2),
  flags: (fs: FlagSet) => ({
    pause: fs.bool('pause', 'p', true, 'Pause container during commit'),
    message: fs.string('message', 'm', '', 'Commit message'),
    author: fs.string('author', 'a', '', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
    changes: fs.list('change', 'c', 'Apply Dockerfile instruction to the created image'),
  }),
  async run(cli: Cli, f: CommitFlags, [name, reference = '']: string[]) {
    const container = name.trim();
    if (!container) throw new Error('invalid container name or ID: value is empty');
    let repo = '';
    let tag = '';
    if (reference) {
      const ref = parseNormalizedNamed(reference);
      if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      tag = tagNameOnly(ref).tag ?? '';
      repo = ref.name;
    }
    const res = await cli.client.json<{ Id: string }>('POST', '/commit', {
      query: {
        container,
        repo,
        tag,
        comment: f.message.value,
        author: f.author.value,
        changes: f.changes.values,
        pause: f.pause.value ? undefined : '0',
      },
    });
    cli.out.write(`${res.Id}\n`);
  },
};
