// berth pull: POST /images/create?fromImage=… with the registry's stored credentials, as
// docker 28 sends it, its progress rendered as docker renders it, then the full reference.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { FlagSet } from '../flags.ts';
import { progressRequest, transferFlags, transferReference, type TransferFlags } from '../progress.ts';

export const command: CommandDef<TransferFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) =>
    transferFlags(fs, {
      all: 'Download all tagged images in the repository',
      untrusted: 'Skip image verification',
      platform: 'Set platform if server is multi-platform capable',
    }),
  async run(cli: Cli, f: TransferFlags, [name]: string[]) {
    const ref = transferReference(cli, name, f);
    const tag = ref.digest ?? (f.all.value ? undefined : ref.tag);
    await progressRequest(cli, '/images/create', { fromImage: ref.name, tag, platform: f.platform.value ? f.platform.value.toLowerCase() : undefined }, ref.domain, f.quiet.value);
    cli.println(ref.name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : ''));
  },
};
