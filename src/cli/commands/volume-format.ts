// docker's volume formatter: the `volume ls` table and its --format fields, and the
// volume.Volume struct as docker marshals it for `volume inspect`.
export { VOLUME_HEADER, VolumeContext, type VolumeSummary } from '../format/volume-context.ts';
import { GO_NIL, formatValue, type GoStruct } from '../format/gofmt.ts';

/** NewVolumeFormat: the template for a --format value ("table", "raw" or a template). */
export function volumeFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  if (source === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\ndriver: {{.Driver}}\n';
  return source;
}

function sortedMap(m: unknown): unknown {
  if (!m || typeof m !== 'object') return m ?? null;
  const rec = m as Record<string, unknown>;
  return Object.fromEntries(Object.keys(rec).sort().map((k) => [k, rec[k]]));
}

/** volume.Volume as Go's encoding/json writes it: fields in struct order, maps by key,
 * empty optional fields left out (docker's volume inspect marshals the struct). */
export function volumeJson(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v.ClusterVolume) out.ClusterVolume = v.ClusterVolume;
  if (v.CreatedAt) out.CreatedAt = v.CreatedAt;
  out.Driver = v.Driver ?? '';
  out.Labels = sortedMap(v.Labels);
  out.Mountpoint = v.Mountpoint ?? '';
  out.Name = v.Name ?? '';
  out.Options = sortedMap(v.Options);
  out.Scope = v.Scope ?? '';
  if (v.Status && Object.keys(v.Status).length) out.Status = sortedMap(v.Status);
  if (v.UsageData) out.UsageData = v.UsageData;
  return out;
}

/** volume.Volume as templates see it in docker's volume inspect (a Go struct: a missing
 * field is "can't evaluate field X in type volume.Volume"). */
export class VolumeStruct implements GoStruct {
  readonly goType = 'volume.Volume';
  private readonly v: Record<string, unknown>;

  constructor(v: Record<string, unknown>) {
    this.v = volumeJson(v);
  }

  member(name: string) {
    const v = this.v;
    switch (name) {
      case 'ClusterVolume':
      case 'UsageData':
        return { value: v[name] ?? GO_NIL };
      case 'CreatedAt':
      case 'Driver':
      case 'Mountpoint':
      case 'Name':
      case 'Scope':
        return { value: v[name] ?? '' };
      case 'Labels':
      case 'Options':
      case 'Status':
        // A nil map prints as an empty one.
        return { value: v[name] ?? {} };
      default:
        return undefined;
    }
  }

  toJSON() {
    return this.v;
  }

  goString(): string {
    const names = ['ClusterVolume', 'CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope', 'Status', 'UsageData'];
    return '{' + names.map((n) => formatValue((this.member(n) as { value: unknown }).value, true)).join(' ') + '}';
  }
}
