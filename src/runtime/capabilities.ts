// Linux capabilities: names by bit number, Docker's default set, and the CapAdd/CapDrop
// arithmetic Docker applies. The result never exceeds the daemon's bounding set: runc
// fails to start a container that asks for a capability the daemon itself lacks.
import { badParameter } from '../util/errors.ts';

/** Capability names indexed by their bit number (linux/capability.h, up to 5.9). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
  'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default container capabilities, in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Names of the bits set in a /proc/<pid>/status capability mask (hex). Unknown bits are skipped. */
export function capsFromMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  const names: string[] = [];
  for (let bit = 0; bit < CAPABILITIES.length; bit++) {
    if ((mask >> BigInt(bit)) & 1n) names.push(CAPABILITIES[bit]!);
  }
  return names;
}

/** The /proc/<pid>/status style mask of a list of capability names. */
export function maskOf(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = CAPABILITIES.indexOf(c);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}

/** Upper-cases and CAP_-prefixes CapAdd/CapDrop entries, keeping "ALL"; rejects names Docker rejects. */
function normalize(list: readonly string[], bounding: readonly string[]): string[] {
  return list.map((raw) => {
    let c = raw.toUpperCase();
    if (c === 'ALL') return c;
    if (!c.startsWith('CAP_')) c = 'CAP_' + c;
    if (!CAPABILITIES.includes(c)) throw badParameter(`unknown capability: ${JSON.stringify(c)}`);
    if (!bounding.includes(c)) {
      throw badParameter(`capability not supported by your kernel or not available in the current environment: ${JSON.stringify(c)}`);
    }
    return c;
  });
}

/**
 * The container's capability set from Docker's rules: privileged gets the whole
 * bounding set; CapAdd ALL gets the bounding set minus CapDrop; CapDrop ALL keeps only
 * CapAdd; otherwise defaults minus CapDrop plus CapAdd.
 */
export function containerCapabilities(
  opts: { capAdd?: readonly string[] | null; capDrop?: readonly string[] | null; privileged?: boolean },
  bounding: readonly string[],
): string[] {
  const inBounding = (c: string) => bounding.includes(c);
  if (opts.privileged) return CAPABILITIES.filter(inBounding);
  const add = normalize(opts.capAdd ?? [], bounding);
  const drop = normalize(opts.capDrop ?? [], bounding);
  let caps: string[];
  if (add.includes('ALL')) {
    caps = CAPABILITIES.filter((c) => inBounding(c) && !drop.includes(c));
  } else if (drop.includes('ALL')) {
    caps = add;
  } else {
    caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  }
  // The defaults themselves may be missing from a restricted daemon's bounding set.
  return [...new Set(caps)].filter(inBounding);
}
