// berth push: POST /images/{name}/push with the registry's stored credentials, as docker 28
// sends it (one tag, the default "latest", or every tag with -a), its progress rendered as
// docker renders it.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { FlagSet } from '../flags.ts';
import { platformFlagJson } from '../opts/platform.ts';
import { progressRequest, transferFlags, transferReference, type TransferFlags } from '../progress.ts';

export const command: CommandDef<TransferFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) =>
    transferFlags(fs, {
      all: 'Push all tags of an image to the repository',
      untrusted: 'Skip image signing',
      platform: "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    }),
  async run(cli: Cli, f: TransferFlags, [name]: string[]) {
    const ref = transferReference(cli, name, f);
    if (ref.digest !== undefined) throw new Error('cannot push a digest reference');
    const platform = f.platform.value ? platformFlagJson(f.platform.value) : undefined;
    await progressRequest(cli, `/images/${ref.name}/push`, { tag: f.all.value ? undefined : ref.tag, platform }, ref.domain, f.quiet.value);
    if (f.quiet.value) cli.println(ref.name + (ref.tag !== undefined ? `:${ref.tag}` : ''));
  },
};
