// IPv4 address and CIDR arithmetic. Addresses are held as unsigned 32-bit
// numbers so that range checks and iteration are plain integer comparisons.

import { badParameter } from '../util/errors.ts';

export interface Cidr {
  /** network address (host bits cleared) */
  base: number;
  prefix: number;
}

export function parseIPv4(text: string): number {
  const parts = text.trim().split('.');
  if (parts.length !== 4) throw badParameter(`invalid IPv4 address: ${text}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) throw badParameter(`invalid IPv4 address: ${text}`);
    const v = Number(p);
    if (v > 255) throw badParameter(`invalid IPv4 address: ${text}`);
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** "10.1.2.3/24" -> {base: 10.1.2.0, prefix 24}. Host bits are cleared unless strict. */
export function parseCidr(text: string, strict = false): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw badParameter(`invalid CIDR address: ${text}`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw badParameter(`invalid CIDR address: ${text}`);
  const addr = parseIPv4(m[1]!);
  const base = (addr & maskOf(prefix)) >>> 0;
  if (strict && base !== addr) throw badParameter(`invalid subnet ${text}: host bits set`);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function lastOf(c: Cidr): number {
  return (c.base + sizeOf(c) - 1) >>> 0;
}

export function contains(c: Cidr, addr: number): boolean {
  return ((addr & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/** Docker derives a container's MAC from its IPv4 address: 02:42 followed by the four octets. */
export function macFromIPv4(addr: number): string {
  const bytes = [0x02, 0x42, addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
