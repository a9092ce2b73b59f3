// Turning a container's HostConfig.PortBindings / PublishAllPorts / ExposedPorts
// into the list of host ports to publish, and the published ports back into
// NetworkSettings.Ports, with dockerd's validation messages.

import { badParameter } from '../util/errors.ts';
import { parseIPv4, formatIPv4 } from './subnets.ts';

export type PortProto = 'tcp' | 'udp' | 'sctp';

/** One requested binding: HostConfig.PortBindings["80/tcp"] = [{HostIp, HostPort}] flattened; hostPort 0 = pick one; hostPortEnd for a range "8000-8010" (one free port of it is used) */
export interface PortRequest { proto: PortProto; containerPort: number; hostIp: string; hostPort: number; hostPortEnd?: number }

/** What was published (Docker's NetworkSettings.Ports entries come from these) */
export interface PublishedPort { proto: PortProto; containerPort: number; hostIp: string; hostPort: number }

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];

const invalidSpec = (s: string) => badParameter(`invalid port specification: ${JSON.stringify(s)}`);

/** "80/udp" -> {80, udp}; a key without protocol is tcp, as in dockerd. */
export function parsePortKey(key: string): { containerPort: number; proto: PortProto } {
  const slash = key.indexOf('/');
  const portStr = slash < 0 ? key : key.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : key.slice(slash + 1).toLowerCase();
  if (!/^\d{1,5}$/.test(portStr) || Number(portStr) < 1 || Number(portStr) > 65535) throw invalidSpec(portStr);
  if (!PROTOS.includes(proto)) throw badParameter(`invalid proto: ${proto}`);
  return { containerPort: Number(portStr), proto: proto as PortProto };
}

/** HostPort: "" (random), "8080", "8000-8010"; dockerd tolerates (and ignores) a "/proto" suffix. */
function parseHostPort(text: string): { start: number; end: number } {
  if (text === '') return { start: 0, end: 0 };
  const spec = text.split('/')[0]!;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  if (!m) throw invalidSpec(text);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) throw invalidSpec(text);
  return { start, end };
}

/** "" means every address; IPv4 is normalised; IPv6 is kept verbatim (the publisher skips it: berth's bridges are IPv4). */
function parseHostIp(text: string | undefined): string {
  const t = (text ?? '').trim();
  if (t === '') return '0.0.0.0';
  if (t.includes(':')) {
    if (!/^[0-9A-Fa-f:.]+$/.test(t)) throw badParameter(`invalid IP address: ${t}`);
    return t;
  }
  try { return formatIPv4(parseIPv4(t)); } catch { throw badParameter(`invalid IP address: ${t}`); }
}

function sortKeys(keys: Iterable<string>): Array<{ key: string; containerPort: number; proto: PortProto }> {
  return [...keys]
    .map((key) => ({ key, ...parsePortKey(key) }))
    .sort((a, b) => a.containerPort - b.containerPort || PROTOS.indexOf(a.proto) - PROTOS.indexOf(b.proto));
}

/** Port requests from HostConfig.PortBindings, PublishAllPorts and Config.ExposedPorts, as dockerd computes them. Throws EngineError 400 for bad specs. */
export function portRequests(
  portBindings: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null | undefined,
  publishAll: boolean,
  exposed: Record<string, unknown> | null | undefined,
): PortRequest[] {
  const bindings = portBindings ?? {};
  // Validate every binding first, like dockerd does at create time, so a bad spec is reported whatever else is wrong.
  const keys = new Map<string, { containerPort: number; proto: PortProto }>();
  for (const k of sortKeys(Object.keys(bindings))) {
    for (const b of bindings[k.key] ?? []) parseHostPort(b?.HostPort ?? '');
    keys.set(`${k.containerPort}/${k.proto}`, k);
  }
  for (const k of sortKeys(Object.keys(exposed ?? {}))) keys.set(`${k.containerPort}/${k.proto}`, k);

  const out: PortRequest[] = [];
  for (const k of sortKeys(keys.keys())) {
    // "80" and "80/tcp" both land here; collect bindings from every spelling of the key.
    const list = Object.entries(bindings)
      .filter(([key]) => { const p = parsePortKey(key); return p.containerPort === k.containerPort && p.proto === k.proto; })
      .flatMap(([, v]) => v ?? []);
    for (const b of list) {
      const { start, end } = parseHostPort(b?.HostPort ?? '');
      const req: PortRequest = { proto: k.proto, containerPort: k.containerPort, hostIp: parseHostIp(b?.HostIp), hostPort: start };
      if (end !== start) req.hostPortEnd = end;
      out.push(req);
    }
    if (list.length === 0 && publishAll) out.push({ proto: k.proto, containerPort: k.containerPort, hostIp: '0.0.0.0', hostPort: 0 });
  }
  return out;
}

/** NetworkSettings.Ports as docker inspect shows it: every exposed or published "port/proto" key, null when not published. */
export function portMap(
  exposed: Record<string, unknown> | null | undefined,
  published: PublishedPort[],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposed ?? {})) {
    let norm: string;
    try { const p = parsePortKey(key); norm = `${p.containerPort}/${p.proto}`; } catch { continue; } // nothing to show for a key dockerd would have refused
    map[norm] ??= null;
  }
  for (const p of published) {
    const key = `${p.containerPort}/${p.proto}`;
    (map[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return map;
}
