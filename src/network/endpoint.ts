// A container's view of its networks (the Engine API's NetworkSettings), kept in the
// container record: what was asked at create (aliases, a fixed address) and, while it runs,
// what it got (address, gateway, MAC, endpoint id).
import type { PublishedPort } from './ports.ts';
import { macFromIPv4, parseIPv4 } from './subnets.ts';

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface ContainerNetworkSettings {
  /** By network name; the first is the container's primary network (its default route). */
  Networks: Record<string, EndpointSettings>;
  SandboxID: string;
  SandboxKey: string;
  /** Host ports held for it while it runs. */
  Published?: PublishedPort[];
  /** Its veths while it runs, by network id: the host end and the name inside (not shown by inspect). */
  Veths?: Record<string, { host: string; ifname: string }>;
}

/** What a create or connect request may say about an endpoint (EndpointSettings in the API). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  GwPriority?: number;
}

export function newEndpointSettings(networkId: string, req: EndpointRequest = {}): EndpointSettings {
  const ipam = req.IPAMConfig && (req.IPAMConfig.IPv4Address || req.IPAMConfig.IPv6Address || req.IPAMConfig.LinkLocalIPs?.length) ? { ...req.IPAMConfig } : null;
  return {
    IPAMConfig: ipam,
    Links: req.Links?.length ? [...req.Links] : null,
    Aliases: req.Aliases?.length ? [...req.Aliases] : null,
    MacAddress: req.MacAddress ?? '',
    DriverOpts: req.DriverOpts ?? null,
    GwPriority: req.GwPriority ?? 0,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** After the run: what it was given goes, what was asked stays (as dockerd's inspect shows). */
export function clearRuntime(e: EndpointSettings): void {
  // A MAC derived from the address was given, not asked for.
  if (e.IPAddress && e.MacAddress === macFromIPv4(parseIPv4(e.IPAddress))) e.MacAddress = '';
  e.EndpointID = '';
  e.Gateway = '';
  e.IPAddress = '';
  e.IPPrefixLen = 0;
  e.DNSNames = null;
}
