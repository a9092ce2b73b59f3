// Port specs as docker's go-connections/nat parses them: [ip:][hostPort:]containerPort[/proto]
// with ranges, into ExposedPorts and PortBindings; and --expose values.
import { canonicalIP } from './validators.ts';

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** nat.ParsePortRange: "80" or "8000-8010". */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseUint16Strict(ports);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseUint16Strict(parts[0]);
  const end = parseUint16Strict(parts[1]);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** strconv.ParseUint(s, 10, 16): decimal digits only. */
function parseUint16Strict(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0].length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1].length === 0) return ['tcp', parts[0]];
  return [parts[1], parts[0]];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const containerPort = parts[n - 1];
  switch (n) {
    case 1:
      return ['', '', containerPort];
    case 2:
      return ['', parts[0], containerPort];
    case 3:
      return [parts[0], parts[1], containerPort];
    default:
      return [parts.slice(0, n - 2).join(':'), parts[n - 2], containerPort];
  }
}

export function newPort(proto: string, port: string): string {
  if (port === '') return `0/${proto}`;
  const [a, b] = parsePortRange(port);
  return a === b ? `${a}/${proto}` : `${a}-${b}/${proto}`;
}

export function parsePortSpec(raw: string): Array<{ port: string; binding: PortBinding }> {
  let [ip, hostPort, containerPort] = splitParts(raw);
  let proto: string;
  [proto, containerPort] = splitProtoPort(containerPort);
  if (ip !== '' && ip[0] === '[') {
    const close = ip.indexOf(']');
    if (close < 0 || close !== ip.length - 1) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, close);
  }
  if (ip !== '' && canonicalIP(ip) === undefined) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number, end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hs = 0, he = 0;
  if (hostPort.length > 0) {
    try {
      [hs, he] = parsePortRange(hostPort);
    } catch {
      throw new Error(`invalid hostPort: ${hostPort}`);
    }
  }
  if (hostPort !== '' && end - start !== he - hs && end !== start) {
    throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const out: Array<{ port: string; binding: PortBinding }> = [];
  for (let i = 0; i <= end - start; i++) {
    const cp = String(start + i);
    let hp = hostPort;
    if (hostPort.length > 0) hp = String(hs + i);
    if (start === end && hs !== he) hp = `${hp}-${he}`;
    out.push({ port: newPort(proto.toLowerCase(), cp), binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** nat.ParsePortSpecs: exposed ports and bindings, in first-seen order. */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of specs) {
    for (const m of parsePortSpec(raw)) {
      exposed[m.port] ??= {};
      (bindings[m.port] ??= []).push(m.binding);
    }
  }
  return { exposed, bindings };
}

/** Long-syntax -p values (published=8080,target=80,protocol=udp) to the short form. */
export function convertToStandardNotation(ports: string[]): string[] {
  return ports.map((p) => {
    if (!p.includes('=')) return p;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of p.split(',')) {
      const eq = param.indexOf('=');
      if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
      params[param.slice(0, eq)] = param.slice(eq + 1);
    }
    return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
  });
}

/** Adds --expose values ("80", "8000-8010/udp") to the exposed set. */
export function addExposed(exposed: Record<string, Record<string, never>>, values: string[]): void {
  for (const e of values) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number, end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) exposed[newPort(proto, String(i))] ??= {};
  }
}
