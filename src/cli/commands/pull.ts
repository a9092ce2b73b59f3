// berth pull: POST /images/create?fromImage=… with the registry's stored credentials, as
// docker 28 sends it, its progress rendered as docker renders it, then the full reference.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { parseNormalizedNamed, tagNameOnly } from '../reference.ts';
import { progressRequest } from '../progress.ts';

interface PullFlags {
  all: BoolFlag;
  quiet: BoolFlag;
  platform: StringFlag;
  untrusted: BoolFlag;
}

export const command: CommandDef<PullFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    all: fs.bool('all-tags', 'a', false, 'Download all tagged images in the repository'),
    untrusted: fs.bool('disable-content-trust', undefined, true, 'Skip image verification'),
    platform: fs.string('platform', undefined, process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable'),
    quiet: fs.bool('quiet', 'q', false, 'Suppress verbose output'),
  }),
  async run(cli: Cli, f: PullFlags, [name]: string[]) {
    let ref = parseNormalizedNamed(name);
    const nameOnly = ref.tag === undefined && ref.digest === undefined;
    if (f.all.value && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
    if (!f.all.value && nameOnly) {
      ref = tagNameOnly(ref);
      if (!f.quiet.value) cli.println(`Using default tag: ${ref.tag}`);
    }
    const tag = ref.digest ?? (f.all.value ? undefined : ref.tag);
    await progressRequest(cli, '/images/create', { fromImage: ref.name, tag, platform: f.platform.value ? f.platform.value.toLowerCase() : undefined }, ref.domain, f.quiet.value);
    cli.println(ref.name + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : ''));
  },
};
