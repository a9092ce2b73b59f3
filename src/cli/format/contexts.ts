// The row types docker's formatters expose to --format templates (ps, images, history):
// each field is a method computed from the API object, and `{{json .}}` prints all of them.
import type { GoStruct } from './gofmt.ts';
import { GO_NIL } from './gofmt.ts';
import { goQuote } from './gofmt.ts';
import { ellipsis } from './width.ts';
import { humanDuration, humanSize, humanSizeWithPrecision } from './units.ts';
import { goRFC3339, goTimeString } from './gotime.ts';
import { familiarString, parseNormalizedNamed } from '../reference.ts';
import { HeaderContext } from './formatter.ts';

/** A Go struct whose template fields are methods. */
export abstract class MethodStruct implements GoStruct {
  abstract readonly goType: string;
  /** Methods by name. */
  protected abstract methods(): Record<string, (...args: unknown[]) => unknown>;
  /** Exported fields (not methods) by name. */
  protected fields(): Record<string, unknown> {
    return {};
  }
  member(name: string) {
    const m = this.methods()[name];
    if (m) return { call: m };
    const f = this.fields();
    if (Object.prototype.hasOwnProperty.call(f, name)) return { value: f[name] };
    return undefined;
  }
  /** docker's MarshalJSON of a formatter context: every method without arguments, keys sorted. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const methods = this.methods();
    for (const k of Object.keys(methods).sort()) {
      if (methods[k].length === 0 && k !== 'FullHeader') {
        const v = methods[k]();
        out[k] = v === GO_NIL ? null : v;
      }
    }
    return out;
  }
}

/** stringid.TruncateID */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

function sinceText(unixSeconds: number, now: number): string {
  return humanDuration(now - unixSeconds * 1000) + ' ago';
}

export interface ContainerSummary {
  Id?: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  ImageManifestDescriptor?: { platform?: { architecture?: string; os?: string; variant?: string; 'os.version'?: string } } | null;
  Command?: string;
  Created?: number;
  Ports?: Array<{ IP?: string; PrivatePort?: number; PublicPort?: number; Type?: string }> | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Mounts?: Array<{ Name?: string; Source?: string; Driver?: string }> | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

type Port = NonNullable<ContainerSummary['Ports']>[number];

function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** docker's DisplayablePorts: consecutive ports grouped into ranges, host mappings last. */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) => {
    const ap = a.PrivatePort ?? 0, bp = b.PrivatePort ?? 0;
    if (ap !== bp) return ap - bp;
    const ai = a.IP ?? '', bi = b.IP ?? '';
    if (ai !== bi) return ai < bi ? -1 : 1;
    const apu = a.PublicPort ?? 0, bpu = b.PublicPort ?? 0;
    if (apu !== bpu) return apu - bpu;
    const at = a.Type ?? '', bt = b.Type ?? '';
    return at < bt ? -1 : at > bt ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0];
      type = parts[1];
    }
    let group = String(start);
    if (start !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort ?? 0;
    let key = p.Type ?? '';
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${current}/${p.Type ?? ''}`);
        continue;
      }
      key = `${p.IP}/${p.Type ?? ''}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      order.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const key of order) {
    const g = groups.get(key)!;
    result.push(formGroup(key, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

export class ContainerContext extends MethodStruct {
  readonly goType = '*formatter.ContainerContext';
  private readonly c: ContainerSummary;
  private readonly trunc: boolean;
  private readonly now: number;
  /** Set when a template asks for .Size (ps then requests sizes). */
  sizeUsed = false;

  constructor(c: ContainerSummary, trunc: boolean, now = Date.now()) {
    super();
    this.c = c;
    this.trunc = trunc;
    this.now = now;
  }

  protected override fields() {
    return { Header: GO_NIL, FieldsUsed: this.sizeUsed ? { Size: {} } : GO_NIL };
  }

  protected methods() {
    const c = this.c;
    return {
      Command: () => goQuote(this.trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
      CreatedAt: () => goTimeString(c.Created ?? 0),
      ID: () => (this.trunc ? truncateID(c.Id ?? '') : (c.Id ?? '')),
      Image: () => this.image(),
      Label: (name: unknown) => (c.Labels ? (c.Labels[String(name)] ?? '') : ''),
      Labels: () => (c.Labels ? Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).sort().join(',') : ''),
      LocalVolumes: () => String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      Mounts: () => (c.Mounts ?? []).map((m) => (this.trunc ? ellipsis(m.Name || m.Source || '', 15) : m.Name || m.Source || '')).join(','),
      Names: () => this.names(),
      Networks: () => (c.NetworkSettings?.Networks ? Object.keys(c.NetworkSettings.Networks).sort().join(',') : ''),
      Platform: () => {
        const p = c.ImageManifestDescriptor?.platform;
        return p ? new PlatformValue(p) : GO_NIL;
      },
      Ports: () => displayablePorts(c.Ports ?? []),
      RunningFor: () => sinceText(c.Created ?? 0, this.now),
      Size: () => {
        this.sizeUsed = true;
        const srw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
        return (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSizeWithPrecision(c.SizeRootFs ?? 0, 3)})` : srw;
      },
      State: () => c.State ?? '',
      Status: () => c.Status ?? '',
    };
  }

  private names(): string {
    let names = (this.c.Names ?? []).map((n) => n.slice(1));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }

  private image(): string {
    const c = this.c;
    if (!c.Image) return '<no image>';
    if (this.trunc) {
      const t = truncateID(c.ImageID ?? '');
      if (t === truncateID(c.Image)) return t;
      try {
        const ref = parseNormalizedNamed(c.Image);
        return familiarString({ ...ref, digest: undefined });
      } catch {
        // not a reference: print as is
      }
    }
    return c.Image;
  }
}

/** The platform of a container's image: prints as "linux/amd64". */
class PlatformValue implements GoStruct {
  readonly goType = '*formatter.Platform';
  private readonly p: { architecture?: string; os?: string; variant?: string; 'os.version'?: string };
  constructor(p: { architecture?: string; os?: string; variant?: string; 'os.version'?: string }) {
    this.p = p;
  }
  member(name: string) {
    const map: Record<string, unknown> = { Architecture: this.p.architecture ?? '', OS: this.p.os ?? '', Variant: this.p.variant ?? '', OSVersion: this.p['os.version'] ?? '' };
    return name in map ? { value: map[name] } : undefined;
  }
  toJSON() {
    const o: Record<string, unknown> = { architecture: this.p.architecture ?? '', os: this.p.os ?? '' };
    if (this.p['os.version']) o['os.version'] = this.p['os.version'];
    if (this.p.variant) o.variant = this.p.variant;
    return o;
  }
  goString() {
    return [this.p.os, this.p.architecture, this.p.variant].filter(Boolean).join('/');
  }
}

export const CONTAINER_HEADER = new HeaderContext({
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS', Platform: 'PLATFORM',
});

export interface ImageSummary {
  Id?: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

/** docker's formatter isDangling: an image with no references, or only "<none>" ones. */
export function isDangling(i: ImageSummary): boolean {
  const tags = i.RepoTags ?? [];
  const digests = i.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

export class ImageContext extends MethodStruct {
  readonly goType = '*formatter.imageContext';
  private readonly i: ImageSummary;
  private readonly trunc: boolean;
  readonly repo: string;
  readonly tag: string;
  readonly digest: string;
  private readonly now: number;

  constructor(i: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, now = Date.now()) {
    super();
    this.i = i;
    this.trunc = trunc;
    this.repo = repo;
    this.tag = tag;
    this.digest = digest;
    this.now = now;
  }

  protected override fields() {
    return { Header: GO_NIL };
  }

  protected methods() {
    const i = this.i;
    return {
      Containers: () => ((i.Containers ?? 0) === -1 ? 'N/A' : String(i.Containers ?? 0)),
      CreatedAt: () => goTimeString(i.Created ?? 0),
      CreatedSince: () => sinceText(i.Created ?? 0, this.now),
      Digest: () => this.digest,
      ID: () => (this.trunc ? truncateID(i.Id ?? '') : (i.Id ?? '')),
      Repository: () => this.repo,
      SharedSize: () => ((i.SharedSize ?? 0) === -1 ? 'N/A' : humanSize(i.SharedSize ?? 0)),
      Size: () => humanSizeWithPrecision(i.Size ?? 0, 3),
      Tag: () => this.tag,
      UniqueSize: () => ((i.Size ?? 0) === -1 || (i.SharedSize ?? 0) === -1 ? 'N/A' : humanSize((i.Size ?? 0) - (i.SharedSize ?? 0))),
      VirtualSize: () => humanSize(i.Size ?? 0),
    };
  }
}

export const IMAGE_HEADER = new HeaderContext({
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
});

export interface HistoryItem {
  Id?: string;
  Created?: number;
  CreatedBy?: string;
  Tags?: string[] | null;
  Size?: number;
  Comment?: string;
}

const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

export class HistoryContext extends MethodStruct {
  readonly goType = '*image.historyContext';
  private readonly h: HistoryItem;
  private readonly trunc: boolean;
  private readonly human: boolean;
  private readonly now: number;

  constructor(h: HistoryItem, trunc: boolean, human: boolean, now = Date.now()) {
    super();
    this.h = h;
    this.trunc = trunc;
    this.human = human;
    this.now = now;
  }

  protected override fields() {
    return { Header: GO_NIL };
  }

  protected methods() {
    const h = this.h;
    const createdAt = () => goRFC3339(h.Created ?? 0);
    return {
      Comment: () => h.Comment ?? '',
      CreatedAt: createdAt,
      CreatedBy: () => {
        const by = (h.CreatedBy ?? '').replace(/\t/g, ' ');
        return this.trunc ? ellipsis(by, 45) : by;
      },
      CreatedSince: () => {
        if (!this.human) return createdAt();
        if ((h.Created ?? 0) <= EPOCH_2000) return 'N/A';
        return sinceText(h.Created ?? 0, this.now);
      },
      ID: () => (this.trunc ? truncateID(h.Id ?? '') : (h.Id ?? '')),
      Size: () => (this.human ? humanSizeWithPrecision(h.Size ?? 0, 3) : String(h.Size ?? 0)),
    };
  }
}

export const HISTORY_HEADER = new HeaderContext({
  ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
});
