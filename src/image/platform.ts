// The platform images are made for and accepted on: this host's, in OCI/Go names.
import { badParameter } from '../util/errors.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: GO_ARCH[process.arch] ?? process.arch };
}

/** "linux", "linux/amd64", "linux/arm64/v8" (containerd's platform syntax, os part required). */
export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) throw badParameter(`invalid platform: ${JSON.stringify(s)}`);
  const os = parts[0];
  if (os !== 'linux') throw badParameter(`operating system is not supported: ${os}`);
  const p: Platform = { os, architecture: parts[1] ?? hostPlatform().architecture };
  if (p.architecture === 'x86_64' || p.architecture === 'x86-64') p.architecture = 'amd64';
  if (p.architecture === 'aarch64') p.architecture = 'arm64';
  if (parts[2]) p.variant = parts[2];
  return p;
}

/** containerd's normalization: arm64 means arm64/v8, arm means arm/v7, amd64/v1 is amd64. */
export function normalizePlatform(p: Platform): Platform {
  const out: Platform = { os: p.os.toLowerCase(), architecture: p.architecture.toLowerCase() };
  let variant = p.variant?.toLowerCase() || undefined;
  if (out.architecture === 'aarch64') out.architecture = 'arm64';
  if (out.architecture === 'x86_64' || out.architecture === 'x86-64') out.architecture = 'amd64';
  if (out.architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (out.architecture === 'arm' && (variant === undefined || variant === '7')) variant = 'v7';
  if (out.architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (variant) out.variant = variant;
  return out;
}

/** "linux/arm64/v8", as dockerd's messages print a platform. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Whether an image of platform `have` is what `want` asks for (os, architecture, and the variant when asked). */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have?.os || !have.architecture) return false;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  return w.variant === undefined || w.variant === h.variant || want.variant === undefined;
}

/**
 * The entry of a manifest list / OCI index for `want`: an exact variant match first, then
 * any entry of the same os and architecture (variantless requests), in list order.
 */
export function selectPlatformEntry<T extends { platform?: Platform }>(entries: readonly T[], want: Platform): T | undefined {
  const w = normalizePlatform(want);
  const candidates = entries.filter((e) => platformMatches(want, e.platform));
  return candidates.find((e) => normalizePlatform(e.platform!).variant === w.variant) ?? candidates[0];
}
