// berth rm: DELETE /containers/{id}[?force=1&v=1&link=1] for each name in parallel;
// with --force a missing container is reported but is not a failure.
import type { Cli } from '../cli.ts';
import { inParallel, minArgs, reportByName, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet } from '../flags.ts';
import { isNotFound } from '../../client/errors.ts';

interface RmFlags {
  volumes: BoolFlag;
  link: BoolFlag;
  force: BoolFlag;
}

export const command: CommandDef<RmFlags> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    volumes: fs.bool('volumes', 'v', false, 'Remove anonymous volumes associated with the container'),
    link: fs.bool('link', 'l', false, 'Remove the specified link'),
    force: fs.bool('force', 'f', false, 'Force the removal of a running container (uses SIGKILL)'),
  }),
  async run(cli: Cli, f: RmFlags, names: string[]) {
    const query = { v: f.volumes.value ? '1' : undefined, link: f.link.value ? '1' : undefined, force: f.force.value ? '1' : undefined };
    const results = await inParallel(names, async (n) => {
      const id = n.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new Error('container name cannot be empty');
      await cli.client.call('DELETE', `/containers/${id}`, { query });
    });
    reportByName(cli, results, (e) => f.force.value && isNotFound(e));
  },
};
