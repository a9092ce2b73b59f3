// Turning a seccomp profile in moby's format (archMap, rules with includes/excludes
// conditions) into the OCI linux.seccomp section for one container: keep the native
// architecture with its sub-architectures, and only the rules whose conditions hold for
// this container's capabilities, this architecture and the host kernel.
import { badParameter } from '../util/errors.ts';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './types.ts';

export interface SeccompFilter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

export interface SeccompRule {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter | null;
  excludes?: SeccompFilter | null;
}

export interface SeccompProfile {
  defaultAction?: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }> | null;
  flags?: string[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompRule[] | null;
}

/** What the conditions are evaluated against. */
export interface SeccompContext {
  /** The container's (bounding) capabilities. */
  capabilities: readonly string[];
  /** libseccomp native arch name: amd64, arm64, ... */
  arch: string;
  kernel: { major: number; minor: number };
}

// libseccomp native name -> OCI architecture constant, for picking the archMap entry.
const SCMP_ARCH: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64', mips64n32: 'SCMP_ARCH_MIPS64N32', mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32', mipsel: 'SCMP_ARCH_MIPSEL', ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390', s390x: 'SCMP_ARCH_S390X', loong64: 'SCMP_ARCH_LOONGARCH64',
};

function parseMinKernel(v: string): { major: number; minor: number } {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m || (m[1] === '0' && m[2] === '0')) throw badParameter(`invalid kernel version: ${JSON.stringify(v)}, expected "<kernel>.<major>"`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function kernelAtLeast(ctx: SeccompContext, v: string): boolean {
  const min = parseMinKernel(v);
  return ctx.kernel.major > min.major || (ctx.kernel.major === min.major && ctx.kernel.minor >= min.minor);
}

/** Whether a rule applies to this container (moby's semantics: any exclude drops it, every include must hold). */
function applies(rule: SeccompRule, ctx: SeccompContext): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(ctx.arch)) return false;
    if (ex.caps?.some((c) => ctx.capabilities.includes(c))) return false;
    if (ex.minKernel && kernelAtLeast(ctx, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(ctx.arch)) return false;
    if (inc.caps?.some((c) => !ctx.capabilities.includes(c))) return false;
    if (inc.minKernel && !kernelAtLeast(ctx, inc.minKernel)) return false;
  }
  return true;
}

/** The OCI seccomp section for a profile; undefined when the profile disables seccomp (empty). */
export function convertProfile(profile: SeccompProfile, ctx: SeccompContext): OciSeccomp | undefined {
  const rules = profile.syscalls ?? [];
  if (!profile.defaultAction && rules.length === 0) return undefined;
  if (!profile.defaultAction) throw badParameter('seccomp profile has no defaultAction');
  if (profile.architectures?.length && profile.archMap?.length) {
    throw badParameter("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  let arches = profile.architectures ?? [];
  const native = SCMP_ARCH[ctx.arch];
  const mapped = profile.archMap?.find((a) => a.architecture === native);
  if (mapped) arches = [mapped.architecture, ...(mapped.subArchitectures ?? [])];
  if (arches.length) out.architectures = [...arches];
  if (profile.flags?.length) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;

  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of rules) {
    if (rule.name && rule.names?.length) {
      throw badParameter("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    if (!applies(rule, ctx)) continue;
    const call: OciSeccompSyscall = { names: rule.name ? [rule.name] : [...(rule.names ?? [])], action: rule.action };
    if (rule.errnoRet !== undefined) call.errnoRet = rule.errnoRet;
    if (rule.args?.length) call.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(call);
  }
  out.syscalls = syscalls;
  return out;
}

/** Parses a profile sent as JSON text (the docker CLI sends the file's content in SecurityOpt). */
export function parseProfile(text: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badParameter(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badParameter('Decoding seccomp profile failed: not a JSON object');
  }
  const p = value as SeccompProfile;
  if (p.syscalls != null && !Array.isArray(p.syscalls)) throw badParameter('Decoding seccomp profile failed: "syscalls" is not an array');
  for (const rule of p.syscalls ?? []) {
    if (typeof rule !== 'object' || rule === null || typeof rule.action !== 'string') {
      throw badParameter('Decoding seccomp profile failed: every syscall rule needs an "action"');
    }
    // Validate minKernel up front, as moby does when decoding, not only when a rule is reached.
    for (const f of [rule.includes, rule.excludes]) if (f?.minKernel) parseMinKernel(f.minKernel);
  }
  return p;
}
