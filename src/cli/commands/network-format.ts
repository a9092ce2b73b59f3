// docker's network formatter: the `network ls` table and its --format fields.
import { MethodStruct, truncateID } from '../format/contexts.ts';
import { HeaderContext } from '../format/formatter.ts';

export interface NetworkSummary {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

export const NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

export const NETWORK_HEADER = new HeaderContext({
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
});

/** Go's time.Time String() of an RFC 3339 instant, as docker prints CreatedAt. */
function goTime(iso: string | undefined): string {
  if (!iso) return '0001-01-01 00:00:00 +0000 UTC';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(new Date(iso).toISOString());
  if (!m) return iso;
  const frac = (iso.match(/\.(\d+)/)?.[1] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? '.' + frac : ''} +0000 UTC`;
}

export class NetworkContext extends MethodStruct {
  readonly goType = '*formatter.networkContext';
  private readonly n: NetworkSummary;
  private readonly trunc: boolean;

  constructor(n: NetworkSummary, trunc: boolean) {
    super();
    this.n = n;
    this.trunc = trunc;
  }

  protected methods() {
    const n = this.n;
    const labels = n.Labels ?? {};
    return {
      ID: () => (this.trunc ? truncateID(n.Id) : n.Id),
      Name: () => n.Name,
      Driver: () => n.Driver ?? '',
      Scope: () => n.Scope ?? '',
      IPv4: () => String(n.EnableIPv4 ?? true),
      IPv6: () => String(!!n.EnableIPv6),
      Internal: () => String(!!n.Internal),
      Labels: () => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
      Label: (name: unknown) => labels[String(name)] ?? '',
      CreatedAt: () => goTime(n.Created),
    };
  }
}
