// HostConfig.SecurityOpt as Docker reads it: "key=value" (or the legacy "key:value"),
// plus the bare flags no-new-privileges, writable-cgroups and disable. Docker's error
// texts ("invalid --security-opt 1/2: ...") are kept, as clients and scripts match them.
import { badParameter } from '../util/errors.ts';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** 'default' (Docker's builtin profile), 'unconfined', or the JSON text of a custom profile. */
  seccomp: 'default' | 'unconfined' | { profile: string };
  /** AppArmor profile asked for, if any. */
  apparmor?: string;
  /** SELinux label options; there is no SELinux here, they are only recorded. */
  labels: string[];
  /** Explicit writable-cgroups choice; undefined means "as privileged". */
  writableCgroups?: boolean;
}

function parseBool(v: string): boolean | undefined {
  switch (v) {
    case '1': case 't': case 'T': case 'true': case 'TRUE': case 'True': return true;
    case '0': case 'f': case 'F': case 'false': case 'FALSE': case 'False': return false;
    default: return undefined;
  }
}

export function parseSecurityOpts(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', labels: [] };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    if (opt === 'writable-cgroups') { out.writableCgroups = true; continue; }
    if (opt === 'disable') { out.labels.push('disable'); continue; }
    const eq = opt.indexOf('=');
    const colon = opt.indexOf(':');
    const at = eq >= 0 ? eq : colon;
    if (at < 0) throw badParameter(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case 'label':
        out.labels.push(value);
        break;
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'seccomp':
        out.seccomp = value === 'unconfined' ? 'unconfined' : value === 'builtin' || value === '' ? 'default' : { profile: value };
        break;
      case 'no-new-privileges':
      case 'writable-cgroups': {
        const b = parseBool(value);
        if (b === undefined) throw badParameter(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        if (key === 'no-new-privileges') out.noNewPrivileges = b;
        else out.writableCgroups = b;
        break;
      }
      default:
        throw badParameter(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}
