// docker's volumeContext: the fields `volume ls` and `system df -v` templates see, and the
// columns of their tables.
import { GO_NIL } from './gofmt.ts';
import { MethodStruct } from './contexts.ts';
import { HeaderContext } from './formatter.ts';
import { humanSize } from './units.ts';

export interface VolumeSummary {
  Name: string;
  Driver?: string;
  Scope?: string;
  Mountpoint?: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
  ClusterVolume?: unknown;
}

export const VOLUME_HEADER = new HeaderContext({
  ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS',
});

/** docker's volumeContext (the fields `volume ls` and `system df -v` templates see). */
export class VolumeContext extends MethodStruct {
  readonly goType = '*formatter.volumeContext';
  private readonly v: VolumeSummary;
  constructor(v: VolumeSummary) {
    super();
    this.v = v;
  }
  protected override fields() {
    return { Header: GO_NIL };
  }
  protected methods() {
    const v = this.v;
    const u = v.UsageData;
    return {
      Availability: () => 'N/A',
      Driver: () => v.Driver ?? '',
      Group: () => 'N/A',
      Label: (name: unknown) => (v.Labels ? (v.Labels[String(name)] ?? '') : ''),
      Labels: () => (v.Labels ? Object.entries(v.Labels).map(([k, x]) => `${k}=${x}`).join(',') : ''),
      Links: () => (u ? String(u.RefCount ?? 0) : 'N/A'),
      Mountpoint: () => v.Mountpoint ?? '',
      Name: () => v.Name ?? '',
      Scope: () => v.Scope ?? '',
      Size: () => (u ? humanSize(u.Size ?? 0) : 'N/A'),
      Status: () => 'N/A',
    };
  }
}
