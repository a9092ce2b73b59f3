// Facts about the host that shape every container's spec, read once when the daemon
// starts: what the daemon may grant (capability bounding set, rlimit hard limits) and
// what the kernel offers (cgroup version, version number, AppArmor, swap accounting).
import { existsSync, promises as fsp } from 'node:fs';
import { release } from 'node:os';
import { capsFromMask } from './capabilities.ts';
import type { HostFacts } from './types.ts';

// /proc/<pid>/limits row titles -> Docker ulimit names.
const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
  'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc',
  'Max open files': 'nofile', 'Max locked memory': 'memlock', 'Max address space': 'as',
  'Max file locks': 'locks', 'Max pending signals': 'sigpending', 'Max msgqueue size': 'msgqueue',
  'Max nice priority': 'nice', 'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
};

// Node's process.arch -> libseccomp's native name (what seccomp profiles' "arches" use).
const SECCOMP_ARCH: Record<string, string> = {
  x64: 'amd64', ia32: 'x86', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x',
  riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mipsel64', mipsel: 'mipsel',
};

export function parseCapBnd(status: string): string[] {
  const m = /^CapBnd:\s*([0-9a-fA-F]+)$/m.exec(status);
  if (!m) throw new Error('no CapBnd line in /proc/self/status');
  return capsFromMask(m[1]!);
}

export function parseLimits(text: string): Record<string, bigint | 'unlimited'> {
  const out: Record<string, bigint | 'unlimited'> = {};
  for (const line of text.split('\n').slice(1)) {
    // Titles contain single spaces; columns are separated by runs of spaces.
    const cols = line.trim().split(/\s{2,}/);
    const name = LIMIT_NAMES[cols[0] ?? ''];
    const hard = cols[2];
    if (!name || hard === undefined) continue;
    out[name] = hard === 'unlimited' ? 'unlimited' : BigInt(hard);
  }
  return out;
}

export function parseKernelRelease(rel: string): { release: string; major: number; minor: number } {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) throw new Error(`cannot parse kernel release ${JSON.stringify(rel)}`);
  return { release: rel, major: Number(m[1]), minor: Number(m[2]) };
}

async function cgroupVersion(): Promise<1 | 2> {
  // statfs f_type of cgroup2fs; on hybrid/v1 hosts /sys/fs/cgroup is a tmpfs.
  const CGROUP2_SUPER_MAGIC = 0x63677270;
  try {
    const st = await fsp.statfs('/sys/fs/cgroup');
    return st.type === CGROUP2_SUPER_MAGIC ? 2 : 1;
  } catch {
    return 1;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Expands a kernel CPU list such as "0-3,8" into numbers. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

export async function hostFacts(): Promise<HostFacts> {
  const [status, limits, version, apparmorEnabled, possible] = await Promise.all([
    fsp.readFile('/proc/self/status', 'utf8'),
    fsp.readFile('/proc/self/limits', 'utf8'),
    cgroupVersion(),
    readText('/sys/module/apparmor/parameters/enabled'),
    readText('/sys/devices/system/cpu/possible'),
  ]);
  // v2 has swap limits wherever the memory controller is; v1 only with swap accounting (memsw).
  const swapLimit = version === 2
    ? /\bmemory\b/.test((await readText('/sys/fs/cgroup/cgroup.controllers')) ?? '')
    : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  // Docker masks these (GHSA-6fw5-f8r9-fgfm) only where the host has them.
  const extraMaskedPaths = parseCpuList(possible ?? '')
    .map((cpu) => `/sys/devices/system/cpu/cpu${cpu}/thermal_throttle`)
    .filter((p) => existsSync(p));
  const defaultNetSysctls: Record<string, string> = {};
  if (existsSync('/proc/sys/net/ipv4/ping_group_range')) defaultNetSysctls['net.ipv4.ping_group_range'] = '0 2147483647';
  if (existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start')) defaultNetSysctls['net.ipv4.ip_unprivileged_port_start'] = '0';
  return {
    capBounding: parseCapBnd(status),
    rlimitHard: parseLimits(limits),
    cgroupVersion: version,
    kernel: parseKernelRelease(release()),
    arch: SECCOMP_ARCH[process.arch] ?? process.arch,
    apparmor: apparmorEnabled?.trim() === 'Y',
    swapLimit,
    extraMaskedPaths,
    defaultNetSysctls,
  };
}
