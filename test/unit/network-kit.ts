// Shared by the network unit tests that build real kernel objects.
import { randomBytes, randomInt } from 'node:crypto';
import { chooseSubnet, hostSubnets } from '../../src/network/ipam.ts';
import type { Cidr } from '../../src/network/subnets.ts';

// Unique names, a test subnet touching nothing on this host, and a cleanup stack
// that runs every step even on failure.
export const uniq = (): string => randomBytes(3).toString('hex');

/** A random 10.x.y.0/24 no host route or address touches. */
export async function freeTestSubnet(prefix = 24): Promise<Cidr> {
  const cands: Cidr[] = [];
  for (let i = 0; i < 64; i++) cands.push({ base: ((10 << 24) | (randomInt(100, 250) << 16) | (randomInt(0, 256) << 8)) >>> 0, prefix });
  return chooseSubnet(await hostSubnets(), cands);
}

export class Cleanup {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  push(step: () => Promise<unknown> | unknown): void { this.steps.push(step); }
  /** Runs every step, last first; keeps going past failures and reports the first. */
  async run(): Promise<void> {
    let first: unknown;
    while (this.steps.length) {
      try { await this.steps.pop()!(); } catch (err) { first ??= err; }
    }
    if (first) throw first;
  }
}
