// The security settings of a create request, checked when the container is created
// rather than when it first starts: a bad capability, security option, seccomp profile,
// ulimit or sysctl is refused with a 400 before anything is stored, as the same checks
// in generateSpec() would only refuse it at every start.
import { containerCapabilities } from './capabilities.ts';
import { containerRlimits } from './rlimits.ts';
import { convertProfile, parseProfile } from './seccomp.ts';
import { parseSecurityOpts } from './security-opts.ts';
import { checkSysctl } from './sysctl.ts';
import type { HostConfig, HostFacts } from './types.ts';

export function validateSecurityConfig(hc: HostConfig, host: HostFacts): void {
  const privileged = hc.Privileged === true;
  const sec = parseSecurityOpts(hc.SecurityOpt);
  const capabilities = containerCapabilities({ capAdd: hc.CapAdd, capDrop: hc.CapDrop, privileged }, host.capBounding);
  if (typeof sec.seccomp === 'object') {
    convertProfile(parseProfile(sec.seccomp.profile), { capabilities, arch: host.arch, kernel: host.kernel });
  }
  containerRlimits(hc.Ulimits, host.rlimitHard);
  // A joined network namespace (container:X) is another container's, never the host's.
  const ns = {
    hostIpc: hc.IpcMode === 'host',
    hostNetwork: hc.NetworkMode === 'host',
    hostUts: hc.UTSMode === 'host',
  };
  for (const key of Object.keys(hc.Sysctls ?? {})) checkSysctl(key, ns);
}
