// berth registry gc: removes the blobs of a registry --root that no stored manifest needs.
// Like distribution's garbage-collect it must run while the registry is stopped; it checks
// the server's pid file and refuses otherwise.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { collectGarbage } from '../../registry/server/gc.ts';
import { rootExists, servingPid } from '../../registry/server/root-lock.ts';
import { Storage } from '../../registry/server/storage.ts';

interface GcFlags {
  root: StringFlag;
  dryRun: BoolFlag;
}

export const command: CommandDef<GcFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    root: fs.string('root', undefined, '', 'Directory of the registry (required)'),
    dryRun: fs.bool('dry-run', 'd', false, 'Only list the blobs that would be removed'),
  }),
  async run(cli: Cli, f: GcFlags) {
    const root = f.root.value;
    if (!root) throw new Error('--root is required');
    if (!(await rootExists(root))) throw new Error(`${root} is not a registry root (no blobs directory)`);
    const pid = servingPid(root);
    if (pid !== undefined) throw new Error(`the registry is running on ${root} (process ${pid}); stop it before gc`);
    const storage = new Storage(root);
    const verb = f.dryRun.value ? 'would remove' : 'removed';
    const result = await collectGarbage(storage, {
      dryRun: f.dryRun.value,
      report: (digest) => cli.println(`${verb} blob ${digest}`),
      warn: (msg) => cli.eprintln(`warning: ${msg}`),
    });
    cli.println(`${result.marked} blobs marked, ${result.removed.length} blobs ${f.dryRun.value ? 'eligible for deletion' : 'deleted'}`);
  },
};
