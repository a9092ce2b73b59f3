// berth rmi / image rm: DELETE /images/{name}; prints "Untagged:" and "Deleted:" lines.
// With --force, images that do not exist are reported but are not a failure.
import type { Cli } from '../cli.ts';
import { joinErrors, minArgs, type CommandDef } from '../command.ts';
import { StringSliceFlag, type BoolFlag, type FlagSet } from '../flags.ts';
import { isNotFound } from '../../client/errors.ts';
import { parsePlatform, platformJson } from '../opts/platform.ts';

interface RmiFlags {
  force: BoolFlag;
  noPrune: BoolFlag;
  platform: StringSliceFlag;
}

export const command: CommandDef<RmiFlags> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    force: fs.bool('force', 'f', false, 'Force removal of the image'),
    noPrune: fs.bool('no-prune', undefined, false, 'Do not delete untagged parents'),
    platform: fs.add(new StringSliceFlag('platform', undefined, 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")')),
  }),
  async run(cli: Cli, f: RmiFlags, images: string[]) {
    const platforms = f.platform.values.map((p) => platformJson(parsePlatform(p)));
    const query = { force: f.force.value ? '1' : undefined, noprune: f.noPrune.value ? '1' : undefined, platforms: platforms.length ? platforms : undefined };
    const errors: unknown[] = [];
    let fatal = false;
    for (const img of images) {
      try {
        const dels = await cli.client.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${img}`, { query });
        for (const d of dels ?? []) cli.out.write(d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged ?? ''}\n`);
      } catch (e) {
        if (!isNotFound(e)) fatal = true;
        errors.push(e);
      }
    }
    const err = joinErrors(errors);
    if (err) {
      if (!f.force.value || fatal) throw err;
      cli.err.write(err.message + '\n');
    }
  },
};
