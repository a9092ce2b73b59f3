// berth image prune: asks for confirmation (unless -f), POST /images/prune, prints what was
// deleted and the space reclaimed.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { humanSize } from '../format/units.ts';

interface PruneFlags {
  force: BoolFlag;
  all: BoolFlag;
  filter: CustomFlag<Filters>;
}

const ALL_WARNING = `WARNING! This will remove all images without at least one container associated to them.
Are you sure you want to continue?`;
const DANGLING_WARNING = `WARNING! This will remove all dangling images.
Are you sure you want to continue?`;

/** docker's prompt.Confirm: "[y/N] ", reads one line; only y/Y confirms. */
async function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const done = (s: string) => {
      cli.in.off('data', onData);
      cli.in.off('end', onEnd);
      cli.in.pause();
      resolve(s);
    };
    const onEnd = () => done(buf);
    cli.in.on('data', onData);
    cli.in.once('end', onEnd);
    cli.in.resume();
  });
  const answer = line.trim();
  return answer === 'y' || answer === 'Y';
}

export const command: CommandDef<PruneFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Do not prompt for confirmation'),
    all: fs.bool('all', 'a', false, 'Remove all unused images, not just dangling ones'),
    filter: filterFlag(fs, undefined, 'Provide filter values (e.g. "until=<timestamp>")'),
  }),
  async run(cli: Cli, f: PruneFlags) {
    const filters = new Map(f.filter.value);
    filters.set('dangling', [String(!f.all.value)]);
    // Declining is a cancellation: docker exits 0 and prints nothing more.
    if (!f.force.value && !(await confirm(cli, f.all.value ? ALL_WARNING : DANGLING_WARNING))) return;
    const report = await cli.client.json<{ ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed?: number }>('POST', '/images/prune', { query: { filters: encodeFilters(filters) } });
    let space = 0;
    const deleted = report?.ImagesDeleted ?? [];
    if (deleted.length > 0) {
      let out = 'Deleted Images:\n';
      for (const d of deleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
      cli.out.write(out + '\n');
      space = report.SpaceReclaimed ?? 0;
    }
    cli.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
  },
};
