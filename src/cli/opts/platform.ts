// Platform strings ("linux/amd64", "arm64", "linux/arm/v7") normalized as containerd's
// platforms.Parse does, and formatted back as "os/arch[/variant]".

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm']);

function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8' ? '' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (/^[5-8]$/.test(variant)) return ['arm', 'v' + variant];
      return ['arm', variant];
  }
  return [arch, variant];
}

export function parsePlatform(spec: string): Platform {
  if (spec.includes('*')) throw new Error(`"${spec}": wildcards not yet supported: invalid argument`);
  const parts = spec.split('/');
  for (const p of parts) {
    if (!/^[A-Za-z0-9_-]+$/.test(p)) throw new Error(`"${p}": invalid argument`);
  }
  if (parts.length === 1) {
    const lower = parts[0].toLowerCase();
    if (KNOWN_OS.has(lower)) return { os: lower, architecture: 'amd64' };
    const [arch, variant] = normalizeArch(parts[0], '');
    if (KNOWN_ARCH.has(arch)) return { os: 'linux', architecture: arch, variant: variant || undefined };
    throw new Error(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  if (parts.length === 2 || parts.length === 3) {
    const [arch, variant] = normalizeArch(parts[1], parts[2] ?? '');
    return { os: parts[0].toLowerCase(), architecture: arch, variant: variant || undefined };
  }
  throw new Error(`"${spec}": cannot parse platform specifier: invalid argument`);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The platform as the API's `platform` query values carry it: OCI JSON, keys in Go's field order. */
export function platformJson(p: Platform): string {
  return JSON.stringify(p.variant ? { architecture: p.architecture, os: p.os, variant: p.variant } : { architecture: p.architecture, os: p.os });
}

/** A --platform flag's value as query JSON; undefined when the flag is empty. */
export function platformFlagJson(value: string): string | undefined {
  if (!value) return undefined;
  let p;
  try {
    p = parsePlatform(value);
  } catch (e) {
    throw new Error(`invalid platform: ${(e as Error).message}`);
  }
  return platformJson(p);
}
