// Which URLs a registry is reached at. As dockerd: https by default; plain http allowed for
// loopback hosts and for insecure-registries entries (host[:port] or a CIDR holding the
// host's address), tried after https fails; registry-mirrors serve docker.io pulls only,
// each tried before the registry itself.
import { isIP } from 'node:net';
import type { RegistryOptions } from './types.ts';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

export interface Endpoint {
  /** Base URL without a trailing slash, e.g. "https://registry-1.docker.io". */
  url: string;
  /** A registry mirror (pull only; failures fall through to the next endpoint). */
  mirror: boolean;
  /** An https endpoint whose failure to connect should fall back to the next (http) one. */
  insecure: boolean;
}

/** host[:port] → host (brackets of an IPv6 literal removed). */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const i = registry.lastIndexOf(':');
  return i >= 0 && registry.indexOf(':') === i ? registry.slice(0, i) : registry;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;
}

function ipv6ToBigInt(ip: string): bigint {
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipv4ToInt(v4[1]);
    s = s.slice(0, -v4[1].length) + ((n >>> 16).toString(16) + ':' + (n & 0xffff).toString(16));
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

/** Whether ip lies in cidr ("10.0.0.0/8", "::1/128"). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bitsStr] = cidr.split('/');
  const bits = Number(bitsStr);
  const fam = isIP(net);
  if (fam === 0 || fam !== isIP(ip) || !Number.isInteger(bits)) return false;
  if (fam === 4) {
    if (bits < 0 || bits > 32) return false;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return ((ipv4ToInt(net) & mask) >>> 0) === ((ipv4ToInt(ip) & mask) >>> 0);
  }
  if (bits < 0 || bits > 128) return false;
  const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
  return (ipv6ToBigInt(net) & mask) === (ipv6ToBigInt(ip) & mask);
}

export function isCidr(s: string): boolean {
  const [net, bits] = s.split('/');
  return bits !== undefined && isIP(net) !== 0 && /^\d+$/.test(bits);
}

/** Whether plain http (and, in dockerd, unverified TLS) is allowed for registry. */
export function isInsecure(registry: string, insecure: readonly string[]): boolean {
  const host = hostOf(registry);
  if (isLoopback(host)) return true;
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (isCidr(e)) {
      if (isIP(host) && cidrContains(e, host)) return true;
    } else if (e === registry || e === host) {
      return true;
    }
  }
  return false;
}

/** The host requests for registry go to: Docker Hub's API host for docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? DOCKER_HUB_HOST : registry;
}

function mirrorUrl(m: string): string {
  const u = m.includes('://') ? m : `https://${m}`;
  return u.replace(/\/+$/, '').replace(/\/v2$/, '');
}

/** The endpoints to try, in order, for registry and the kind of access. */
export function endpointsFor(registry: string, opts: RegistryOptions, pull: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  const isHub = apiHost(registry) === DOCKER_HUB_HOST;
  if (isHub && pull) for (const m of opts.mirrors) out.push({ url: mirrorUrl(m), mirror: true, insecure: false });
  const host = apiHost(registry);
  if (isHub) {
    out.push({ url: `https://${host}`, mirror: false, insecure: false });
    return out;
  }
  const insecure = isInsecure(registry, opts.insecureRegistries);
  out.push({ url: `https://${host}`, mirror: false, insecure });
  if (insecure) out.push({ url: `http://${host}`, mirror: false, insecure: true });
  return out;
}

/** GET /info's RegistryConfig as dockerd builds it (registry.newServiceConfig). */
export function registryInfo(insecure: readonly string[], mirrors: readonly string[]): {
  IndexConfigs: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }>;
  InsecureRegistryCIDRs: string[];
  Mirrors: string[];
} {
  const cidrs: string[] = [];
  const index: Record<string, { Name: string; Mirrors: string[]; Secure: boolean; Official: boolean }> = {};
  // Loopback is always insecure: a stop-gap dockerd keeps for registries on localhost.
  for (const r of [...insecure, '::1/128', '127.0.0.0/8']) {
    if (isCidr(r)) {
      if (!cidrs.includes(r)) cidrs.push(r);
    } else {
      index[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
    }
  }
  index[DOCKER_HUB] = { Name: DOCKER_HUB, Mirrors: [...mirrors], Secure: true, Official: true };
  return { IndexConfigs: index, InsecureRegistryCIDRs: cidrs, Mirrors: [...mirrors] };
}
