// IPv4 address management: picking a subnet for a new network and handing out
// addresses inside it. A pool's whole state is a small JSON object; the caller
// saves it atomically (writeJsonAtomic) after every change, so after kill -9 the
// pool is either the old or the new state, never a mix.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { badParameter, conflict, systemError } from '../util/errors.ts';
import {
  type Cidr, contains, formatCidr, formatIPv4, lastOf, overlaps, parseCidr, parseIPv4,
} from './subnets.ts';

const execFileP = promisify(execFile);

/** Docker's default pools: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s. */
export function defaultPoolCandidates(): Cidr[] {
  const out: Cidr[] = [];
  for (let b = 17; b <= 31; b++) out.push({ base: parseIPv4(`172.${b}.0.0`), prefix: 16 });
  for (let c = 0; c < 256; c += 16) out.push({ base: parseIPv4(`192.168.${c}.0`), prefix: 20 });
  return out;
}

/**
 * First candidate overlapping none of `inUse` (host routes and addresses, other
 * networks' subnets). Default routes are ignored: everything overlaps them.
 */
export function chooseSubnet(inUse: readonly Cidr[], candidates: readonly Cidr[] = defaultPoolCandidates()): Cidr {
  const taken = inUse.filter((c) => c.prefix > 0);
  for (const cand of candidates) {
    if (!taken.some((t) => overlaps(t, cand))) return cand;
  }
  throw systemError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** --bip 172.20.0.1/16: the address is the bridge's (gateway), the prefix its subnet. */
export function parseBip(bip: string): { subnet: Cidr; gateway: number } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(bip.trim());
  if (!m) throw badParameter(`invalid --bip ${bip}: want ADDRESS/PREFIX`);
  const gateway = parseIPv4(m[1]!);
  const subnet = parseCidr(bip);
  if (gateway === subnet.base || gateway === lastOf(subnet)) throw badParameter(`invalid --bip ${bip}: not a host address`);
  return { subnet, gateway };
}

/**
 * Subnets the host already uses, from `ip -j route show table all` and
 * `ip -j addr show` (optionally inside a named netns, for tests).
 */
export async function hostSubnets(): Promise<Cidr[]> {
  const out: Cidr[] = [];
  const [routeOut, addrOut] = await Promise.all([execFileP('ip', ['-j', '-4', 'route', 'show', 'table', 'all']), execFileP('ip', ['-j', '-4', 'addr', 'show'])]);
  const routes = JSON.parse(routeOut.stdout || '[]') as Array<{ dst?: string; type?: string }>;
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    if (r.type && r.type !== 'unicast') continue; // local/broadcast entries are covered by addresses
    out.push(parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
  }
  const links = JSON.parse(addrOut.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>;
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.local && a.prefixlen !== undefined) out.push(parseCidr(`${a.local}/${a.prefixlen}`));
    }
  }
  return out;
}

/** The JSON form of a pool; every field is a string so it reads well on disk. */
export interface PoolState {
  subnet: string;
  gateway: string;
  /** --ip-range: dynamic allocations come only from here (explicit --ip may be anywhere in the subnet) */
  ipRange?: string;
  /** addresses handed out, gateway excluded */
  allocated: string[];
  /** --aux-address values: reserved, never handed out */
  reserved?: string[];
}

export interface PoolOptions {
  subnet: string;
  gateway?: string;
  ipRange?: string;
  reserved?: string[];
}

export class AddressPool {
  readonly subnet: Cidr;
  readonly gateway: number;
  readonly range: Cidr;
  private readonly allocated = new Set<number>();
  private readonly reserved = new Set<number>();

  private constructor(subnet: Cidr, gateway: number, range: Cidr, reserved: number[]) {
    this.subnet = subnet;
    this.gateway = gateway;
    this.range = range;
    for (const r of reserved) this.reserved.add(r);
  }

  static create(opts: PoolOptions): AddressPool {
    const subnet = parseCidr(opts.subnet);
    if (subnet.prefix > 30) throw badParameter(`subnet ${opts.subnet} is too small`);
    const range = opts.ipRange ? parseCidr(opts.ipRange) : subnet;
    if (range.base < subnet.base || lastOf(range) > lastOf(subnet)) {
      throw badParameter(`ip-range ${opts.ipRange} is not contained in subnet ${opts.subnet}`);
    }
    // Docker: the gateway defaults to the first host address of the subnet.
    const gateway = opts.gateway ? parseIPv4(opts.gateway) : subnet.base + 1;
    if (!isHost(subnet, gateway)) throw badParameter(`gateway ${opts.gateway} is not a host address of subnet ${opts.subnet}`);
    const reserved = (opts.reserved ?? []).map((r) => {
      const a = parseIPv4(r);
      if (!contains(subnet, a)) throw badParameter(`auxiliary address ${r} is not in subnet ${opts.subnet}`);
      return a;
    });
    return new AddressPool(subnet, gateway, range, reserved);
  }

  static fromJSON(state: PoolState): AddressPool {
    const pool = AddressPool.create({
      subnet: state.subnet, gateway: state.gateway, ipRange: state.ipRange, reserved: state.reserved,
    });
    for (const a of state.allocated) pool.allocated.add(parseIPv4(a));
    return pool;
  }

  toJSON(): PoolState {
    const state: PoolState = {
      subnet: formatCidr(this.subnet),
      gateway: formatIPv4(this.gateway),
      allocated: [...this.allocated].sort((a, b) => a - b).map(formatIPv4),
    };
    if (this.range.base !== this.subnet.base || this.range.prefix !== this.subnet.prefix) state.ipRange = formatCidr(this.range);
    if (this.reserved.size) state.reserved = [...this.reserved].sort((a, b) => a - b).map(formatIPv4);
    return state;
  }

  get prefix(): number { return this.subnet.prefix; }

  isAllocated(addr: string): boolean {
    return this.allocated.has(parseIPv4(addr));
  }

  /** Hands out `requested` (--ip) or the lowest free address of the range. Returns dotted form. */
  allocate(requested?: string): string {
    if (requested !== undefined) {
      const a = parseIPv4(requested);
      if (!isHost(this.subnet, a)) throw badParameter(`requested address ${requested} is not a usable address of subnet ${formatCidr(this.subnet)}`);
      if (this.unavailable(a)) throw conflict(`Address already in use: ${requested}`);
      this.allocated.add(a);
      return formatIPv4(a);
    }
    for (let a = this.range.base; a <= lastOf(this.range); a++) {
      if (isHost(this.subnet, a) && !this.unavailable(a)) {
        this.allocated.add(a);
        return formatIPv4(a);
      }
    }
    throw systemError(`no available IPv4 addresses on this network's address pools: ${formatCidr(this.range)}`);
  }

  /** Releasing an address that is not allocated is a no-op, so cleanup can be repeated. */
  release(addr: string): void {
    this.allocated.delete(parseIPv4(addr));
  }

  private unavailable(a: number): boolean {
    return a === this.gateway || this.allocated.has(a) || this.reserved.has(a);
  }
}

/** Neither the network nor the broadcast address. */
function isHost(subnet: Cidr, a: number): boolean {
  return contains(subnet, a) && a !== subnet.base && a !== lastOf(subnet);
}
