// docker system df's output (docker's formatter.DiskUsageContext): the summary table of
// images, containers, local volumes and build cache (TYPE TOTAL ACTIVE SIZE RECLAIMABLE),
// or with -v one table per kind; custom templates, "json" and "raw" as docker runs them.
import type { GoStruct } from './gofmt.ts';
import { GO_NIL } from './gofmt.ts';
import { CONTAINER_HEADER, ContainerContext, IMAGE_HEADER, ImageContext, MethodStruct, isDangling, type ContainerSummary, type ImageSummary } from './contexts.ts';
import { FormatError, HeaderContext, finalFormat, isTableFormat, renderFormatted } from './formatter.ts';
import { Template, TemplateExecError, TemplateSyntaxError } from './template.ts';
import { humanSize } from './units.ts';
import { VOLUME_HEADER, VolumeContext, type VolumeSummary } from './volume-context.ts';
import { familiarName, parseNormalizedNamed } from '../reference.ts';

export interface BuildCacheRecord {
  Size?: number;
  Shared?: boolean;
  InUse?: boolean;
}

/** GET /system/df's answer, as the CLI reads it. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeSummary[] | null;
  BuildCache?: BuildCacheRecord[] | null;
}

const BUILD_CACHE_HEADER = new HeaderContext({
  ID: 'CACHE ID', Parent: 'PARENT', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE', InUse: 'IN USE', Shared: 'SHARED', Description: 'DESCRIPTION',
});

const SUMMARY_HEADER = new HeaderContext({ Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' });

const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINERS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUMES_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_RAW = 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';

/** docker's NewDiskUsageFormat; the raw formats of the kinds are docker's Image/Container/Volume/BuildCache "raw" ones. */
export function diskUsageFormat(source: string, verbose: boolean, raws: { image: string; container: string }): string {
  if (verbose && source === 'raw') {
    return `{{range .Images}}type: Image\n${raws.image}\n{{end -}}\n{{range .Containers}}type: Container\n${raws.container}\n{{end -}}\n` +
      '{{range .Volumes}}type: Volume\nname: {{.Name}}\\ndriver: {{.Driver}}\\n\n{{end -}}\n' +
      '{{range .BuildCache}}type: Build Cache\nbuild_cache_id: {{.ID}}\nparent_id: {{.Parent}}\nbuild_cache_type: {{.CacheType}}\ndescription: {{.Description}}\n' +
      'created_at: {{.CreatedAt}}\ncreated_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\nusage_count: {{.UsageCount}}\n' +
      'in_use: {{.InUse}}\nshared: {{.Shared}}\n\n{{end -}}';
  }
  if (!verbose && source === 'table') return SUMMARY_TABLE;
  if (!verbose && source === 'raw') return SUMMARY_RAW;
  return source;
}

/** "1.5MB (42%)": the reclaimable part and its share of the total, when there is one. */
function withPercent(reclaimable: number, total: number): string {
  return total > 0 ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable);
}

/** One line of the summary table. */
class SummaryRow extends MethodStruct {
  readonly goType: string;
  private readonly cols: { Type: string; TotalCount: number; Active: number; Size: string; Reclaimable: string };
  constructor(goType: string, cols: SummaryRow['cols']) {
    super();
    this.goType = goType;
    this.cols = cols;
  }
  protected override fields() {
    return { Header: GO_NIL };
  }
  protected methods() {
    const c = this.cols;
    return { Active: () => String(c.Active), Reclaimable: () => c.Reclaimable, Size: () => c.Size, TotalCount: () => String(c.TotalCount), Type: () => c.Type };
  }
}

const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

/** The four summary rows, computed as docker's diskUsage*Context do. */
export function summaryRows(du: DiskUsage): SummaryRow[] {
  const images = du.Images ?? [];
  const layers = du.LayersSize ?? 0;
  let used = 0;
  for (const i of images) {
    if ((i.Containers ?? 0) === 0 || i.Size === -1 || i.SharedSize === -1) continue;
    used += (i.Size ?? 0) - (i.SharedSize ?? 0);
  }
  const containers = du.Containers ?? [];
  let rw = 0;
  let rwIdle = 0;
  for (const c of containers) {
    rw += c.SizeRw ?? 0;
    if (!ACTIVE_STATES.has(c.State ?? '')) rwIdle += c.SizeRw ?? 0;
  }
  const volumes = du.Volumes ?? [];
  let volSize = 0;
  let volIdle = 0;
  for (const v of volumes) {
    const size = v.UsageData?.Size ?? 0;
    if (size === -1) continue;
    volSize += size;
    if ((v.UsageData?.RefCount ?? 0) === 0) volIdle += size;
  }
  const cache = du.BuildCache ?? [];
  const cacheSize = cache.reduce((n, b) => n + (b.Shared ? 0 : (b.Size ?? 0)), 0);
  const cacheInUse = cache.reduce((n, b) => n + (b.InUse && !b.Shared ? (b.Size ?? 0) : 0), 0);
  return [
    new SummaryRow('*formatter.diskUsageImagesContext', {
      Type: 'Images', TotalCount: images.length, Active: images.filter((i) => (i.Containers ?? 0) > 0).length,
      Size: humanSize(layers), Reclaimable: withPercent(layers - used, layers),
    }),
    new SummaryRow('*formatter.diskUsageContainersContext', {
      Type: 'Containers', TotalCount: containers.length, Active: containers.filter((c) => ACTIVE_STATES.has(c.State ?? '')).length,
      Size: humanSize(rw), Reclaimable: withPercent(rwIdle, rw),
    }),
    new SummaryRow('*formatter.diskUsageVolumesContext', {
      Type: 'Local Volumes', TotalCount: volumes.length, Active: volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
      Size: humanSize(volSize), Reclaimable: withPercent(volIdle, volSize),
    }),
    new SummaryRow('*formatter.diskUsageBuilderContext', {
      Type: 'Build Cache', TotalCount: cache.length, Active: cache.filter((b) => b.InUse).length,
      Size: humanSize(cacheSize), Reclaimable: humanSize(cacheSize - cacheInUse),
    }),
  ];
}

interface VerboseLists {
  Images: ImageContext[];
  Containers: ContainerContext[];
  Volumes: VolumeContext[];
  BuildCache: GoStruct[];
}

/** What a verbose custom template runs on (docker's diskUsageContext): four lists of rows. */
class VerboseData implements GoStruct {
  readonly goType = '*formatter.diskUsageContext';
  readonly jsonFieldOrder = true;
  readonly lists: VerboseLists;
  constructor(lists: VerboseLists) {
    this.lists = lists;
  }
  member(name: string) {
    return Object.hasOwn(this.lists, name) ? { value: this.lists[name as keyof VerboseLists] } : undefined;
  }
  toJSON() {
    return this.lists;
  }
}

function verboseData(du: DiskUsage, trunc: boolean, now: number): VerboseData {
  const images: ImageContext[] = [];
  for (const i of du.Images ?? []) {
    let repo = '<none>';
    let tag = '<none>';
    const first = i.RepoTags?.[0];
    if (first !== undefined && !isDangling(i)) {
      let ref;
      try {
        ref = parseNormalizedNamed(first);
      } catch {
        continue; // docker leaves out images whose first tag does not parse
      }
      if (ref.tag !== undefined) {
        repo = familiarName(ref);
        tag = ref.tag;
      }
    }
    images.push(new ImageContext(i, trunc, repo, tag, '', now));
  }
  // The containers' virtual size is not shown.
  const containers = (du.Containers ?? []).map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, trunc, now));
  const volumes = (du.Volumes ?? []).map((v) => new VolumeContext(v));
  return new VerboseData({ Images: images, Containers: containers, Volumes: volumes, BuildCache: [] });
}

/** What `docker system df [-v] [--format F]` prints for this answer. */
export function renderDiskUsage(du: DiskUsage, opts: { format: string; verbose: boolean; raws: { image: string; container: string }; now?: number }): string {
  const source = opts.format || 'table';
  const format = diskUsageFormat(source, opts.verbose, opts.raws);
  if (!opts.verbose) return renderFormatted(format, summaryRows(du), SUMMARY_HEADER);
  const data = verboseData(du, isTableFormat(format), opts.now ?? Date.now());
  if (format === 'table') {
    const cache = du.BuildCache ?? [];
    const cacheSize = cache.reduce((n, b) => n + (b.Shared ? 0 : (b.Size ?? 0)), 0);
    const lists = data.lists;
    return (
      'Images space usage:\n\n' + renderFormatted(IMAGES_TABLE, lists.Images, IMAGE_HEADER) +
      '\nContainers space usage:\n\n' + renderFormatted(CONTAINERS_TABLE, lists.Containers, CONTAINER_HEADER) +
      '\nLocal Volumes space usage:\n\n' + renderFormatted(VOLUMES_TABLE, lists.Volumes, VOLUME_HEADER) +
      `\nBuild cache usage: ${humanSize(cacheSize)}\n\n` + renderFormatted(BUILD_CACHE_TABLE, [], BUILD_CACHE_HEADER)
    );
  }
  // Any other format runs once over the whole answer, without a header or a final newline.
  let tmpl: Template;
  try {
    tmpl = Template.parse(finalFormat(format));
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new FormatError(`template parsing error: ${e.message}`);
    throw e;
  }
  try {
    return tmpl.execute(data);
  } catch (e) {
    if (e instanceof TemplateExecError) throw Object.assign(new FormatError(e.message), { partial: e.partial });
    throw e;
  }
}
