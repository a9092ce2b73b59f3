// --mount values (docker's MountOpt): CSV key=value fields into an API Mount object, with
// its validation and error texts.
import { resolve } from 'node:path';
import { readCsvRecord } from './csv.ts';
import { parseGoBool } from '../flags.ts';
import { ramInBytes } from '../format/units.ts';

export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

function setOnMap(target: Record<string, string>, value: string): void {
  const eq = value.indexOf('=');
  const k = eq < 0 ? value : value.slice(0, eq);
  if (k !== '') target[k] = eq < 0 ? '' : value.slice(eq + 1);
}

export function parseMount(value: string, warn: (msg: string) => void = () => {}): Mount {
  const fields = readCsvRecord(value);
  const m: Mount = { Type: 'volume' };
  const volumeOptions = () => {
    m.VolumeOptions ??= { Labels: {} };
    m.VolumeOptions.DriverConfig ??= {};
    return m.VolumeOptions;
  };
  const bindOptions = () => (m.BindOptions ??= {});
  const tmpfsOptions = () => (m.TmpfsOptions ??= {});
  const bool = (key: string, val: string, msg = `invalid value for ${key}: ${val}`) => {
    try {
      return parseGoBool(val);
    } catch {
      throw new Error(msg);
    }
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') m.ReadOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = val;
        if (!val.startsWith('/') && val.startsWith('.')) m.Source = resolve(val);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool(key, val);
        warn('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
        break;
      case 'bind-recursive':
        if (val === 'enabled') break;
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val === 'writable') bindOptions().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bindOptions().ReadOnlyForceRecursive = true;
        else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(key, val, `invalid value for volume-nocopy: ${val}`);
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels!, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig!.Options ??= {}), val);
        break;
      case 'image-subpath':
        (m.ImageOptions ??= {}).Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Type) throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (m.VolumeOptions && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.ImageOptions && m.Type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${m.Type}'`);
  if (m.BindOptions && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (m.BindOptions?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (m.BindOptions.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  return m;
}

/** The Mount as Go marshals it: omitempty fields dropped, fields in struct order. */
export function mountJson(m: Mount): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (m.Type) o.Type = m.Type;
  if (m.Source) o.Source = m.Source;
  if (m.Target) o.Target = m.Target;
  if (m.ReadOnly) o.ReadOnly = true;
  if (m.Consistency) o.Consistency = m.Consistency;
  if (m.BindOptions) {
    const b: Record<string, unknown> = {};
    const bo = m.BindOptions;
    if (bo.Propagation) b.Propagation = bo.Propagation;
    if (bo.NonRecursive) b.NonRecursive = true;
    if (bo.CreateMountpoint) b.CreateMountpoint = true;
    if (bo.ReadOnlyNonRecursive) b.ReadOnlyNonRecursive = true;
    if (bo.ReadOnlyForceRecursive) b.ReadOnlyForceRecursive = true;
    o.BindOptions = b;
  }
  if (m.VolumeOptions) {
    const v: Record<string, unknown> = {};
    const vo = m.VolumeOptions;
    if (vo.NoCopy) v.NoCopy = true;
    if (vo.Labels && Object.keys(vo.Labels).length) v.Labels = Object.fromEntries(Object.entries(vo.Labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (vo.Subpath) v.Subpath = vo.Subpath;
    if (vo.DriverConfig) {
      const d: Record<string, unknown> = {};
      if (vo.DriverConfig.Name) d.Name = vo.DriverConfig.Name;
      if (vo.DriverConfig.Options && Object.keys(vo.DriverConfig.Options).length) d.Options = Object.fromEntries(Object.entries(vo.DriverConfig.Options).sort(([a], [b]) => (a < b ? -1 : 1)));
      v.DriverConfig = d;
    }
    o.VolumeOptions = v;
  }
  if (m.ImageOptions) o.ImageOptions = m.ImageOptions.Subpath ? { Subpath: m.ImageOptions.Subpath } : {};
  if (m.TmpfsOptions) {
    const t: Record<string, unknown> = {};
    if (m.TmpfsOptions.SizeBytes) t.SizeBytes = m.TmpfsOptions.SizeBytes;
    if (m.TmpfsOptions.Mode) t.Mode = m.TmpfsOptions.Mode;
    o.TmpfsOptions = t;
  }
  return o;
}
