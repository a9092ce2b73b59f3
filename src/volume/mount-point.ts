// A container's mount points as dockerd records them (volume/mounts.MountPoint) and the
// parsing that makes them: `-v` strings (HostConfig.Binds), `--mount` objects
// (HostConfig.Mounts) and `--volumes-from` entries, with the Linux parser's checks and
// error texts. Pure: what exists on the host is asked through `sourceExists`.
import { posix } from 'node:path';
import { badParameter, type EngineError } from '../util/errors.ts';
import type { ApiMount } from '../runtime/types.ts';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** One entry of the container record's MountPoints, keyed by Destination. */
export interface MountPoint {
  Type: MountType;
  /** The volume's name (volume mounts). */
  Name?: string;
  /** The host path: a bind's source, a volume's directory (filled in when it is created). */
  Source: string;
  Destination: string;
  /** The volume driver (volume mounts). */
  Driver?: string;
  /** The `-v` mode text as given ("ro,z"); "z" for local volumes named or made by -v/--mount. */
  Mode: string;
  RW: boolean;
  /** Binds: "rprivate" unless asked otherwise; "" for volumes and tmpfs. */
  Propagation: string;
  /** Copy the image's content at Destination into the volume when it is empty. */
  CopyData?: boolean;
  /** What the user asked for; Spec.Source '' marks an anonymous volume. */
  Spec: ApiMount;
}

const PROPAGATION = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const RW_MODES = new Set(['ro', 'rw']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

/** errMountConfig: `invalid mount config for type "bind": …`. */
function mountConfigError(m: ApiMount, cause: string): EngineError {
  return badParameter(`invalid mount config for type "${m.Type ?? ''}": ${cause}`);
}

const invalidSpec = (raw: string) => `invalid volume specification: '${raw}'`;

/** Go's path.Clean: normalized, no trailing slash. */
function clean(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function validateAbsolute(p: string): string | undefined {
  return posix.isAbsolute(p.replace(/\\/g, '/')) ? undefined : `invalid mount path: '${p.replace(/\\/g, '/')}' mount path must be absolute`;
}

function validateNotRoot(p: string): string | undefined {
  return posix.normalize(p.replace(/\\/g, '/')) === '/' ? "invalid specification: destination can't be '/'" : undefined;
}

/** linuxValidMountMode: at most one word of each kind, nothing unknown. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION.has(o) ? 2 : COPY_MODES.has(o) ? 3 : CONSISTENCY.has(o) ? 4 : -1;
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((c) => c <= 1);
}

function hasPropagation(mode: string): boolean {
  return mode.split(',').some((o) => PROPAGATION.has(o));
}

function propagationOf(mode: string): string {
  return mode.split(',').find((o) => PROPAGATION.has(o)) ?? DEFAULT_PROPAGATION;
}

function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

/** Checks a Mount as dockerd's validateMountConfig does. */
export function validateMount(m: ApiMount, sourceExists?: (path: string) => boolean): void {
  if (!m.Target) throw mountConfigError(m, 'field Target must not be empty');
  const target = validateNotRoot(m.Target) ?? validateAbsolute(m.Target);
  if (target) throw mountConfigError(m, target);
  switch (m.Type) {
    case 'bind': {
      if (!m.Source) throw mountConfigError(m, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation;
      if (prop && !PROPAGATION.has(prop)) throw mountConfigError(m, `invalid propagation mode: ${prop}`);
      if (m.VolumeOptions) throw mountConfigError(m, 'field VolumeOptions must not be specified');
      const abs = validateAbsolute(m.Source);
      if (abs) throw mountConfigError(m, abs);
      if (sourceExists && !sourceExists(m.Source) && !m.BindOptions?.CreateMountpoint) {
        throw mountConfigError(m, `bind source path does not exist: ${m.Source}`);
      }
      if (m.BindOptions?.ReadOnlyNonRecursive && m.BindOptions.ReadOnlyForceRecursive) {
        throw mountConfigError(m, 'must not set both ReadOnlyNonRecursive and ReadOnlyForceRecursive');
      }
      return;
    }
    case 'volume': {
      if (m.BindOptions) throw mountConfigError(m, 'field BindOptions must not be specified');
      const anonymous = !m.Source;
      const sub = m.VolumeOptions?.Subpath;
      if (sub) {
        if (anonymous) throw mountConfigError(m, 'must not set Subpath when using anonymous volumes');
        if (!isLocalPath(sub)) throw mountConfigError(m, 'subpath must be a relative path within the volume');
      }
      if (m.ReadOnly && anonymous) throw mountConfigError(m, 'must not set ReadOnly mode when using anonymous volumes');
      return;
    }
    case 'tmpfs':
      if (m.BindOptions) throw mountConfigError(m, 'field BindOptions must not be specified');
      if (m.Source) throw mountConfigError(m, 'field Source must not be specified');
      convertTmpfsOptions(m);
      return;
    default:
      throw mountConfigError(m, 'mount type unknown');
  }
}

/** Go's filepath.IsLocal: relative, no "..", not empty. */
function isLocalPath(p: string): boolean {
  if (p === '' || posix.isAbsolute(p)) return false;
  const n = posix.normalize(p);
  return n !== '..' && !n.startsWith('../');
}

/** A Mount's tmpfs options as mount data ("ro,mode=1777,size=64m,exec"). */
export function convertTmpfsOptions(m: ApiMount): string {
  const out: string[] = [];
  if (m.ReadOnly) out.push('ro');
  const t = m.TmpfsOptions;
  if (t?.Mode) out.push(`mode=${t.Mode.toString(8)}`);
  if (t?.SizeBytes) {
    let size = t.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        size /= d;
        suffix = s;
        break;
      }
    }
    out.push(`size=${size}${suffix}`);
  }
  for (const opt of t?.Options ?? []) {
    if (opt.length < 1 || opt.length > 2) throw mountConfigError(m, 'invalid option array length');
    if (opt[0] !== 'exec' && opt[0] !== 'noexec') throw mountConfigError(m, `invalid option: ${opt[0]}`);
    out.push(opt.length === 1 ? opt[0]! : `${opt[0]}=${opt[1]}`);
  }
  return out.join(',');
}

/** A --mount entry as a mount point (dockerd's ParseMountSpec). */
export function parseMountSpec(m: ApiMount, sourceExists?: (path: string) => boolean): MountPoint {
  validateMount(m, sourceExists);
  const mp: MountPoint = {
    Type: m.Type as MountType,
    Source: '',
    Destination: clean(m.Target!),
    Mode: '',
    RW: !m.ReadOnly,
    Propagation: '',
    Spec: m,
  };
  if (m.Type === 'volume') {
    if (m.Source) mp.Name = m.Source;
    mp.CopyData = !m.VolumeOptions?.NoCopy;
    if (m.VolumeOptions?.DriverConfig?.Name) mp.Driver = m.VolumeOptions.DriverConfig.Name;
  } else if (m.Type === 'bind') {
    mp.Source = clean(m.Source!);
    mp.Propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
  }
  return mp;
}

/** A `-v` string of HostConfig.Binds (dockerd's ParseMountRaw: bind sources need not exist). */
export function parseBind(raw: string, volumeDriver = ''): MountPoint {
  const parts = raw.split(':');
  const arr = parts.length > 4 ? [...parts.slice(0, 3), parts.slice(3).join(':')] : parts;
  if (arr[0] === '') throw badParameter(invalidSpec(raw));
  const spec: ApiMount = {};
  let mode = '';
  if (arr.length === 1) spec.Target = arr[0];
  else if (arr.length === 2) {
    // "/dest:rw" is a destination with a mode, which a volume cannot have.
    if (validMountMode(arr[1]!)) throw badParameter(invalidSpec(raw));
    spec.Source = arr[0];
    spec.Target = arr[1];
  } else if (arr.length === 3) {
    spec.Source = arr[0];
    spec.Target = arr[1];
    mode = arr[2]!;
  } else throw badParameter(invalidSpec(raw));
  if (!validMountMode(mode)) throw badParameter(`invalid mode: ${mode}`);
  spec.Type = spec.Source && posix.isAbsolute(spec.Source) ? 'bind' : 'volume';
  spec.ReadOnly = !readWrite(mode);
  if (volumeDriver && spec.Type === 'volume') spec.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  if (mode.split(',').includes('nocopy')) spec.VolumeOptions = { ...(spec.VolumeOptions ?? {}), NoCopy: true };
  if (hasPropagation(mode)) spec.BindOptions = { Propagation: propagationOf(mode) };
  try {
    const mp = parseMountSpec(spec);
    mp.Mode = mode;
    return mp;
  } catch (err) {
    throw badParameter(`${invalidSpec(raw)}: ${(err as Error).message}`);
  }
}

/** `--volumes-from X[:mode]`: the container and its mode ("rw" when none is given). */
export function parseVolumesFrom(spec: string): { id: string; mode: string } {
  if (!spec) throw badParameter('volumes-from specification cannot be an empty string');
  const colon = spec.indexOf(':');
  const id = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? '' : spec.slice(colon + 1);
  if (mode === '') return { id, mode: 'rw' };
  // Propagation and copy modes come from the donor's own mounts.
  if (!validMountMode(mode) || hasPropagation(mode) || mode.split(',').includes('nocopy')) throw badParameter(`invalid mode: ${mode}`);
  return { id, mode };
}

/** The donor's mount point as a --volumes-from joiner gets it. */
export function inheritedMountPoint(m: MountPoint, mode: string): MountPoint {
  return { ...m, RW: m.RW && readWrite(mode), CopyData: false, Spec: { ...m.Spec } };
}

export function duplicateMountPoint(dest: string): EngineError {
  return badParameter(`Duplicate mount point: ${dest}`);
}

/** Whether the user named the volume (`-v name:/x`, `--mount source=name`): rm -v keeps those. */
export function isAnonymous(m: MountPoint): boolean {
  return m.Type === 'volume' && !m.Spec.Source;
}

/** The inspect/list view (types.MountPoint): Name and Driver only for volumes. */
export function mountPointView(m: MountPoint): Record<string, unknown> {
  const out: Record<string, unknown> = { Type: m.Type };
  if (m.Name) out.Name = m.Name;
  out.Source = m.Source;
  out.Destination = m.Destination;
  if (m.Driver) out.Driver = m.Driver;
  out.Mode = m.Mode;
  out.RW = m.RW;
  out.Propagation = m.Propagation;
  return out;
}
