// berth images / image ls: GET /images/json, one row per repository:tag (and digest), as
// docker's image formatter lays them out.
import type { Cli } from '../cli.ts';
import { maxArgs, type CommandDef, type Invocation } from '../command.ts';
import type { BoolFlag, CustomFlag, FlagSet, StringFlag } from '../flags.ts';
import { addFilter, filterFlag, type Filters } from '../opts/filters.ts';
import { encodeFilters } from '../../client/query.ts';
import { IMAGE_HEADER, ImageContext, isDangling, type ImageSummary } from '../format/contexts.ts';
import { renderFormatted } from '../format/formatter.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { familiarName, parseNormalizedNamed } from '../reference.ts';

interface ImagesFlags {
  quiet: BoolFlag;
  all: BoolFlag;
  noTrunc: BoolFlag;
  digests: BoolFlag;
  format: StringFlag;
  filter: CustomFlag<Filters>;
  tree: BoolFlag;
}

const TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === 'table') return quiet ? '{{.ID}}' : digest ? TABLE_DIGEST : TABLE;
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return digest
      ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
      : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  if (source.startsWith('table') && digest && !source.includes('{{.Digest}}')) return source + '\t{{.Digest}}';
  return source;
}

/** Each reference's tag (or digest) under its familiar repository name; unparsable ones are skipped, as docker does. */
function byRepository(refs: string[] | null | undefined, part: 'tag' | 'digest'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of refs ?? []) {
    try {
      const ref = parseNormalizedNamed(s);
      const value = ref[part];
      if (value !== undefined) {
        const name = familiarName(ref);
        out.set(name, [...(out.get(name) ?? []), value]);
      }
    } catch {
      // skipped
    }
  }
  return out;
}

/** The rows of one image: each repository's tags (crossed with its digests when shown). */
function rowsOf(i: ImageSummary, trunc: boolean, showDigest: boolean, needDigest: boolean, now: number): ImageContext[] {
  if (isDangling(i)) return [new ImageContext(i, trunc, '<none>', '<none>', '<none>', now)];
  const repoTags = byRepository(i.RepoTags, 'tag');
  const repoDigests = byRepository(i.RepoDigests, 'digest');
  const out: ImageContext[] = [];
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) out.push(new ImageContext(i, trunc, repo, tag, '<none>', now));
      else for (const d of digests) out.push(new ImageContext(i, trunc, repo, tag, d, now));
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (showDigest) for (const d of digests) out.push(new ImageContext(i, trunc, repo, '<none>', d, now));
    else out.push(new ImageContext(i, trunc, repo, '<none>', '', now));
  }
  return out;
}

const AMBIGUOUS = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];

export const command: CommandDef<ImagesFlags> = {
  args: maxArgs(1),
  flags: (fs: FlagSet) => {
    const tree = fs.bool('tree', undefined, false, 'List multi-platform images as a tree (EXPERIMENTAL)');
    return {
      quiet: fs.bool('quiet', 'q', false, 'Only show image IDs'),
      all: fs.bool('all', 'a', false, 'Show all images (default hides intermediate images)'),
      noTrunc: fs.bool('no-trunc', undefined, false, "Don't truncate output"),
      digests: fs.bool('digests', undefined, false, 'Show digests'),
      format: fs.string('format', undefined, '', FORMAT_HELP),
      filter: filterFlag(fs, 'f', 'Filter output based on conditions provided'),
      tree,
    };
  },
  async run(cli: Cli, f: ImagesFlags, args: string[], _fs, inv: Invocation) {
    const filters = new Map(f.filter.value);
    if (args.length > 0) addFilter(filters, `reference=${args[0]}`);
    if (f.tree.value) {
      if (f.quiet.value) throw new Error('--quiet is not yet supported with --tree');
      if (f.noTrunc.value) throw new Error('--no-trunc is not yet supported with --tree');
      if (f.digests.value) throw new Error('--show-digest is not yet supported with --tree');
      if (f.format.value) throw new Error('--format is not yet supported with --tree');
      throw new Error('--tree is not supported by berth');
    }
    const images = (await cli.client.json<ImageSummary[]>('GET', '/images/json', { query: { all: f.all.value ? '1' : undefined, filters: encodeFilters(filters) } })) ?? [];
    const format = imageFormat(f.format.value || 'table', f.quiet.value, f.digests.value);
    const needDigest = f.digests.value || format.includes('{{.Digest}}');
    const now = Date.now();
    const rows = images.flatMap((i) => rowsOf(i, !f.noTrunc.value, f.digests.value, needDigest, now));
    cli.out.write(renderFormatted(format, rows, IMAGE_HEADER));
    if (args.length > 0 && images.length === 0 && inv.path.length === 1 && AMBIGUOUS.includes(args[0])) {
      cli.err.write(`\nNo images found matching ${JSON.stringify(args[0])}: did you mean "berth image ${args[0]}"?\n`);
    }
  },
};
