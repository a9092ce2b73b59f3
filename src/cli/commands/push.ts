// berth push: POST /images/{name}/push with the registry's stored credentials, as docker 28
// sends it (one tag, the default "latest", or every tag with -a), its progress rendered as
// docker renders it.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { parseNormalizedNamed, tagNameOnly } from '../reference.ts';
import { platformFlagJson } from '../opts/platform.ts';
import { progressRequest } from '../progress.ts';

interface PushFlags {
  all: BoolFlag;
  quiet: BoolFlag;
  platform: StringFlag;
  untrusted: BoolFlag;
}

export const command: CommandDef<PushFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    all: fs.bool('all-tags', 'a', false, 'Push all tags of an image to the repository'),
    untrusted: fs.bool('disable-content-trust', undefined, true, 'Skip image signing'),
    platform: fs.string('platform', undefined, process.env.DOCKER_DEFAULT_PLATFORM ?? '', "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)"),
    quiet: fs.bool('quiet', 'q', false, 'Suppress verbose output'),
  }),
  async run(cli: Cli, f: PushFlags, [name]: string[]) {
    let ref = parseNormalizedNamed(name);
    const nameOnly = ref.tag === undefined && ref.digest === undefined;
    if (f.all.value && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
    if (!f.all.value && nameOnly) {
      ref = tagNameOnly(ref);
      if (!f.quiet.value) cli.println(`Using default tag: ${ref.tag}`);
    }
    if (ref.digest !== undefined) throw new Error('cannot push a digest reference');
    const platform = f.platform.value ? platformFlagJson(f.platform.value) : undefined;
    await progressRequest(cli, `/images/${ref.name}/push`, { tag: f.all.value ? undefined : ref.tag, platform }, ref.domain, f.quiet.value);
    if (f.quiet.value) cli.println(ref.name + (ref.tag !== undefined ? `:${ref.tag}` : ''));
  },
};
