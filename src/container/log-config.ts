// A container's logging driver and its options (HostConfig.LogConfig), as dockerd treats
// them: the daemon's default applied and the option names checked at create (daemon's
// logs.go mergeAndVerifyLogConfig, logger.ValidateLogOpts), the values checked when the
// driver starts with the container (jsonfilelog.New, local.New), and where the log lives.
// The monitor writes the log (native/log-writer.c); logs.ts reads it.
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineError, badParameter } from '../util/errors.ts';
import { Template } from '../cli/format/template.ts';
import type { GoStruct } from '../cli/format/gofmt.ts';
import { readLogs, type LogEntry, type LogOptions } from './logs.ts';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

/** A LogConfig as the API carries it: either part may be missing. */
export interface LogConfigIn {
  Type?: string;
  Config?: Record<string, string> | null;
}

/** The drivers berth has; Docker's others (syslog, journald, …) are not registered here. */
export const LOG_DRIVERS = ['json-file', 'local', 'none'] as const;

/** Options every driver takes (logger's builtInLogOpts, with the log cache's). */
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size', 'cache-disabled', 'cache-max-file', 'cache-max-size', 'cache-compress']);

const DRIVER_OPTS: Record<string, Set<string>> = {
  'json-file': new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']),
  // Docker 28's local driver takes no attribute options.
  local: new Set(['max-file', 'max-size', 'compress']),
};

/** The driver's own defaults for local (json-file's: one file, no limit). */
const LOCAL_DEFAULTS = { maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true };

/**
 * The LogConfig a new container gets: the daemon's driver when none is asked for, the
 * daemon's options under the ones given when the driver is the daemon's, then checked.
 * Throws badParameter with Docker's messages.
 */
export function resolveLogConfig(requested: LogConfigIn | null | undefined, daemonDefault: LogConfigIn): LogConfig {
  const defaultType = daemonDefault.Type || 'json-file';
  const defaults = daemonDefault.Config ?? {};
  const cfg: LogConfig = { Type: requested?.Type || defaultType, Config: { ...(requested?.Config ?? {}) } };
  if (cfg.Type === defaultType) {
    for (const [k, v] of Object.entries(defaults)) if (!(k in cfg.Config)) cfg.Config[k] = v;
  }
  for (const [k, v] of Object.entries(defaults)) {
    if (k.startsWith('cache-') && BUILTIN_OPTS.has(k) && !(k in cfg.Config)) cfg.Config[k] = v;
  }
  const problem = logOptsProblem(cfg.Type, cfg.Config);
  if (problem) throw badParameter(problem);
  return cfg;
}

/** logger.ValidateLogOpts: Docker's message for the first problem, or undefined. */
export function logOptsProblem(type: string, config: Record<string, string>): string | undefined {
  if (type === 'none') return undefined;
  const mode = config.mode ?? '';
  if (mode !== '' && mode !== 'blocking' && mode !== 'non-blocking') return `logger: logging mode not supported: ${mode}`;
  if ('max-buffer-size' in config) {
    if (mode !== 'non-blocking') return `logger: max-buffer-size option is only supported with 'mode=non-blocking'`;
    const err = sizeError(config['max-buffer-size']!, BINARY);
    if (err) return `error parsing option max-buffer-size: ${err}`;
  }
  const cacheDisabled = config['cache-disabled'];
  if (cacheDisabled && parseGoBool(cacheDisabled) === undefined) return `invalid value for option cache-disabled: ${cacheDisabled}`;
  const known = DRIVER_OPTS[type];
  if (!known) return `logger: no log driver named '${type}' is registered`;
  for (const key of Object.keys(config)) {
    if (BUILTIN_OPTS.has(key) || known.has(key)) continue;
    return type === 'json-file' ? `unknown log opt '${key}' for json-file log driver` : `unknown log opt '${key}' for log driver ${type}`;
  }
  return undefined;
}

/** What the monitor needs to write a log: undefined for the none driver. */
export interface LogWriterSettings {
  driver: 'json-file' | 'local';
  /** Rotate at this many bytes; -1: never. */
  maxSize: number;
  maxFile: number;
  compress: boolean;
}

/**
 * The option values, checked as the driver does when it starts (so a bad value fails the
 * container's start, not its create, as in Docker). Throws an Error with Docker's text.
 */
export function logWriterSettings(cfg: LogConfigIn | null | undefined): LogWriterSettings | undefined {
  const type = cfg?.Type || 'json-file';
  const c = cfg?.Config ?? {};
  if (type === 'none') return undefined;
  if (type === 'local') {
    const s: LogWriterSettings = { driver: 'local', maxSize: LOCAL_DEFAULTS.maxSize, maxFile: LOCAL_DEFAULTS.maxFile, compress: LOCAL_DEFAULTS.compress };
    if ('max-size' in c) {
      const v = c['max-size']!;
      const size = parseSize(v, DECIMAL);
      if (typeof size === 'string') throw new Error(`invalid value for max-size: ${v}: ${size}`);
      s.maxSize = size;
    }
    if ('max-file' in c) {
      const v = c['max-file']!;
      const n = atoi(v);
      if (typeof n === 'string') throw new Error(`invalid value for max-file: ${v}: ${n}`);
      s.maxFile = n;
    }
    if ('compress' in c) {
      const b = parseGoBool(c.compress!);
      if (b === undefined) throw new Error(`error reading compress log option: strconv.ParseBool: parsing ${goQuote(c.compress!)}: invalid syntax`);
      s.compress = b;
    }
    if (s.maxSize < 0) throw new Error('max size should be a positive number');
    if (s.maxFile < 0) throw new Error('max file count cannot be less than 0');
    if (s.compress && s.maxFile <= 1) throw new Error('compression cannot be enabled when max file count is 1');
    return s;
  }
  if (type !== 'json-file') throw new Error(`logger: no log driver named '${type}' is registered`);
  const s: LogWriterSettings = { driver: 'json-file', maxSize: -1, maxFile: 1, compress: false };
  if ('max-size' in c) {
    const size = parseSize(c['max-size']!, DECIMAL);
    if (typeof size === 'string') throw new Error(size);
    if (size <= 0) throw new Error('max-size must be a positive number');
    s.maxSize = size;
  }
  if ('max-file' in c) {
    const n = atoi(c['max-file']!);
    if (typeof n === 'string') throw new Error(n);
    if (n < 1) throw new Error('max-file cannot be less than 1');
    s.maxFile = n;
  }
  if ('compress' in c) {
    const b = parseGoBool(c.compress!);
    if (b === undefined) throw new Error(`strconv.ParseBool: parsing ${goQuote(c.compress!)}: invalid syntax`);
    if (b && (s.maxFile === 1 || s.maxSize === -1)) throw new Error('compress cannot be true when max-file is less than 2 or max-size is not set');
    s.compress = b;
  }
  return s;
}

/** Where the log lives: json-file <dir>/<id>-json.log, local <dir>/local-logs/container.log, none ''. */
export function logPathFor(containerDir: string, id: string, cfg: LogConfigIn | null | undefined): string {
  switch (cfg?.Type || 'json-file') {
    case 'none':
      return '';
    case 'local':
      return join(containerDir, 'local-logs', 'container.log');
    default:
      return join(containerDir, `${id}-json.log`);
  }
}

/**
 * The file a container's log is written to. Docker keeps the local driver's path out of
 * LogPath (it is not an API); a record that does the same still has its log found, next
 * to the container's other files.
 */
export function logFileOf(rec: { LogPath: string; HostsPath?: string; HostConfig: { LogConfig?: LogConfigIn | null } }): string {
  if (rec.LogPath) return rec.LogPath;
  const type = rec.HostConfig.LogConfig?.Type || 'json-file';
  return type === 'local' && rec.HostsPath ? join(dirname(rec.HostsPath), 'local-logs', 'container.log') : '';
}

/** What a log tag template can refer to (Docker's logger.Info). */
export interface LogTagInfo {
  id: string;
  /** "/name" */
  name: string;
  /** "sha256:…" */
  imageId: string;
  /** As the user named it (Config.Image). */
  imageName: string;
  entrypoint: string;
  args: string[];
  /** RFC 3339 */
  created: string;
}

/**
 * The attributes json-file writes with every entry ("attrs") and `logs --details` shows:
 * the labels and environment variables the labels/env options name or match, and the tag
 * when one is asked for (its template needs `info`). Throws on a bad regexp or template,
 * which fails the start as in Docker.
 */
export function logAttrs(cfg: LogConfigIn | null | undefined, labels: Record<string, string>, env: string[], info?: LogTagInfo): Record<string, string> {
  const c = cfg?.Config ?? {};
  const extra: Record<string, string> = {};
  if (c.labels) {
    for (const l of c.labels.split(',')) if (Object.prototype.hasOwnProperty.call(labels, l)) extra[l] = labels[l]!;
  }
  if (c['labels-regex']) {
    const re = goRegexp(c['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) extra[k] = v;
  }
  const envMap: Record<string, string> = {};
  for (const e of env) {
    const eq = e.indexOf('=');
    if (eq >= 0) envMap[e.slice(0, eq)] = e.slice(eq + 1);
  }
  if (Object.keys(envMap).length) {
    if (c.env) {
      for (const l of c.env.split(',')) if (Object.prototype.hasOwnProperty.call(envMap, l)) extra[l] = envMap[l]!;
    }
    if (c['env-regex']) {
      const re = goRegexp(c['env-regex']);
      for (const [k, v] of Object.entries(envMap)) if (re.test(k)) extra[k] = v;
    }
  }
  if (c.tag && info) {
    const tag = logTag(c.tag, { ...info, config: c, labels, env });
    if (tag) extra.tag = tag;
  }
  return extra;
}

/** Go's json.Marshal of a map[string]string: keys sorted, <, > and & escaped. */
export function encodeAttrs(attrs: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) sorted[k] = attrs[k]!;
  return JSON.stringify(sorted).replace(/[<>&\u2028\u2029]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * The entries of a container's log. Throws at once (before any entry) for a driver that
 * cannot be read: Docker's 501 "configured logging driver does not support reading".
 */
export function openLogReader(rec: { LogPath: string; HostsPath?: string; HostConfig: { LogConfig?: LogConfigIn | null } }, opts: LogOptions): AsyncGenerator<LogEntry> {
  const type = rec.HostConfig.LogConfig?.Type || 'json-file';
  const path = logFileOf(rec);
  if ((type !== 'json-file' && type !== 'local') || !path) throw new EngineError(501, 'configured logging driver does not support reading');
  return readLogs(path, opts, type);
}

/**
 * The daemon's default (--log-driver, --log-opt, daemon.json log-driver/log-opts): names
 * and values checked as at a container's create and start, so that a daemon that would fail
 * every container refuses to start instead. Returns the problem, or undefined.
 */
export function daemonLogConfigProblem(cfg: LogConfig): string | undefined {
  const problem = logOptsProblem(cfg.Type, cfg.Config);
  if (problem) return problem;
  try {
    logWriterSettings(cfg);
    for (const k of ['labels-regex', 'env-regex']) if (cfg.Config[k]) goRegexp(cfg.Config[k]!);
    if (cfg.Config.tag) Template.parse(cfg.Config.tag, { name: 'log-tag' });
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Go's parsers, with their error texts

type UnitMap = Record<string, number>;
const DECIMAL: UnitMap = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: UnitMap = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units' parseSize (FromHumanSize: decimal; RAMInBytes: binary). A string is the error. */
export function parseSize(sizeStr: string, units: UnitMap = DECIMAL): number | string {
  let sep = -1;
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) return `invalid size: '${sizeStr}'`;
  const num = sizeStr[sep] === ' ' ? sizeStr.slice(0, sep) : sizeStr.slice(0, sep + 1);
  let sfx = sizeStr.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) return `strconv.ParseFloat: parsing ${goQuote(num)}: invalid syntax`;
  let size = Number(num);
  if (size < 0) return `invalid size: '${sizeStr}'`;
  if (sfx.length === 0) return Math.trunc(size);
  if (sfx.length > 3) return `invalid suffix: '${sfx}'`;
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') return sfx.length > 1 ? `invalid suffix: '${sfx}'` : Math.trunc(size);
  const mul = units[sfx[0]!];
  if (!mul) return `invalid suffix: '${sfx}'`;
  size *= mul;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) return `invalid suffix: '${sfx}'`;
  return Math.trunc(size);
}

function sizeError(s: string, units: UnitMap): string | undefined {
  const r = parseSize(s, units);
  return typeof r === 'string' ? r : undefined;
}

/** strconv.Atoi: the number, or Go's error text. */
function atoi(s: string): number | string {
  if (!/^[+-]?\d+$/.test(s)) return `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 31 - 1) return `strconv.Atoi: parsing ${goQuote(s)}: value out of range`;
  return n;
}

function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's regexp.Compile, as near as JavaScript's syntax allows; Go's message prefix on error. */
function goRegexp(src: string): RegExp {
  // Go's leading flag group, which JavaScript spells as flags.
  const m = /^\(\?([imsU]+)\)/.exec(src);
  const flags = m ? [...new Set(m[1]!.replace('U', ''))].join('') : '';
  try {
    return new RegExp(m ? src.slice(m[0].length) : src, flags);
  } catch (err) {
    throw new Error(`error parsing regexp: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// The log tag: a Go template over Docker's logger.Info

class LogInfo implements GoStruct {
  readonly goType = '*logger.Info';
  readonly #i: LogTagInfo & { config: Record<string, string>; labels: Record<string, string>; env: string[] };

  constructor(i: LogTagInfo & { config: Record<string, string>; labels: Record<string, string>; env: string[] }) {
    this.#i = i;
  }

  member(name: string): { call: (...args: unknown[]) => unknown } | { value: unknown } | undefined {
    const i = this.#i;
    const fields: Record<string, unknown> = {
      Config: i.config,
      ContainerID: i.id,
      ContainerName: i.name,
      ContainerEntrypoint: i.entrypoint,
      ContainerArgs: i.args,
      ContainerImageID: i.imageId,
      ContainerImageName: i.imageName,
      ContainerCreated: i.created,
      ContainerEnv: i.env,
      ContainerLabels: i.labels,
      LogPath: '',
      DaemonName: 'docker',
    };
    const methods: Record<string, () => unknown> = {
      ID: () => i.id.slice(0, 12),
      FullID: () => i.id,
      Name: () => i.name.replace(/^\//, ''),
      ImageID: () => i.imageId.slice(0, 12),
      ImageFullID: () => i.imageId,
      ImageName: () => i.imageName,
      Command: () => [i.entrypoint, ...i.args].join(' '),
      Hostname: () => hostname(),
    };
    if (methods[name]) return { call: methods[name] };
    if (name in fields) return { value: fields[name] };
    return undefined;
  }

  toJSON(): unknown {
    return {};
  }
}

function logTag(template: string, info: LogTagInfo & { config: Record<string, string>; labels: Record<string, string>; env: string[] }): string {
  return Template.parse(template, { name: 'log-tag' }).execute(new LogInfo(info));
}
