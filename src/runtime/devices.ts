// Device nodes and the devices cgroup: Docker's default rules (deny all, allow the basic
// character devices; runc adds its own /dev/full, ptmx and pts rules), --device mappings,
// --device-cgroup-rule and, for privileged containers, every device node of the host.
import { promises as fsp, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import type { DeviceMapping, OciDevice, OciDeviceCgroup } from './types.ts';

const rwm = 'rwm';

/** Docker's default devices cgroup rules (oci/defaults.go), in its order. */
export function defaultDeviceRules(): OciDeviceCgroup[] {
  const allow = (major: number, minor: number): OciDeviceCgroup => ({ allow: true, type: 'c', major, minor, access: rwm });
  return [
    { allow: false, access: rwm },
    allow(1, 5), // /dev/zero
    allow(1, 3), // /dev/null
    allow(1, 9), // /dev/urandom
    allow(1, 8), // /dev/random
    allow(5, 0), // /dev/tty
    allow(5, 1), // /dev/console
    { allow: false, type: 'c', major: 10, minor: 229, access: rwm }, // /dev/fuse
  ];
}

/** Linux dev_t split as glibc's major()/minor() do. */
export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major & 0xffffffffn), minor: Number(minor & 0xffffffffn) };
}

/** The device node at path, or undefined when path is not a character/block device. */
async function deviceAt(path: string): Promise<OciDevice | undefined> {
  let st;
  try {
    st = await fsp.lstat(path, { bigint: true });
  } catch {
    return undefined;
  }
  let type: 'c' | 'b';
  if (st.isCharacterDevice()) type = 'c';
  else if (st.isBlockDevice()) type = 'b';
  else return undefined;
  return { type, path, ...splitDev(st.rdev), fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid) };
}

function ruleFor(d: OciDevice, access: string): OciDeviceCgroup {
  return { allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access };
}

/** A directory's entries; none when it cannot be read (gone, not a directory, no access). */
async function entriesOrNone(dir: string): Promise<Dirent[]> {
  try {
    return await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

async function walkDevices(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await entriesOrNone(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(p, ...(await walkDevices(p)));
    else out.push(p);
  }
  return out;
}

/** A --device mapping: one node, or every node under a directory. */
export async function devicesFromMapping(m: DeviceMapping): Promise<{ devices: OciDevice[]; rules: OciDeviceCgroup[] }> {
  const inContainer = m.PathInContainer || m.PathOnHost;
  const access = m.CgroupPermissions || rwm;
  if (!/^[rwm]{1,3}$/.test(access)) throw badParameter(`invalid device cgroup permissions ${JSON.stringify(access)} for ${m.PathOnHost}`);
  let hostPath = m.PathOnHost;
  try {
    hostPath = await fsp.realpath(m.PathOnHost);
  } catch {
    // reported below as "no such device"
  }
  const devices: OciDevice[] = [];
  const one = await deviceAt(hostPath);
  if (one) {
    devices.push({ ...one, path: inContainer });
  } else {
    for (const p of await walkDevices(hostPath)) {
      const d = await deviceAt(p);
      if (d) devices.push({ ...d, path: posix.join(inContainer, posix.relative(hostPath, p)) });
    }
  }
  if (devices.length === 0) {
    throw badParameter(`error gathering device information while adding custom device ${JSON.stringify(m.PathOnHost)}: not a device node`);
  }
  return { devices, rules: devices.map((d) => ruleFor(d, access)) };
}

/** Parses --device-cgroup-rule entries such as "c 1:3 mr" or "a *:* rwm". */
export function parseCgroupRule(rule: string): OciDeviceCgroup {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw badParameter(`invalid device cgroup rule format: '${rule}'`);
  const num = (s: string) => (s === '*' ? -1 : Number(s));
  return { allow: true, type: m[1] as 'a' | 'b' | 'c', major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

// Host /dev entries that are per-mount-namespace or handled by the runtime itself.
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every device node under the host's /dev, as a privileged container gets them. */
export async function hostDevices(root = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  for (const e of await entriesOrNone(root)) {
    const p = join(root, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await hostDevices(p)));
      continue;
    }
    if (e.name === 'console') continue;
    const d = await deviceAt(p);
    if (d) out.push(d);
  }
  return out;
}
