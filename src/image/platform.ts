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
