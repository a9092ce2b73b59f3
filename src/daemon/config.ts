// berthd's settings: dockerd's flag names, /etc/berth/daemon.json, and the defaults.
import { readFileSync } from 'node:fs';
import { daemonLogConfigProblem, type LogConfig } from '../container/log-config.ts';
import { resolveRemap, setupRemappedRoot, type IdentityMapping } from '../runtime/userns.ts';
import { log } from '../util/log.ts';

export interface RuntimeConfig {
  path: string;
  runtimeArgs?: string[];
}

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  defaultRuntime: string;
  runtimes: Record<string, RuntimeConfig>;
  logLevel: string;
  liveRestore: boolean;
  cgroupParent: string;
  configFile: string;
  /** Containers' logging driver and options when they ask for none (--log-driver, --log-opt). */
  logDefault: LogConfig;
  /** --userns-remap as given ('' when off). */
  usernsRemap: string;
  /** The resolved remapping (withUsernsRemap()); dataRoot is then the remapped root. */
  idMapping?: IdentityMapping;
  /** --init: containers get an init as pid 1 unless they say otherwise. */
  init: boolean;
  /** --init-path: the init binary (default: docker-init or tini-static on PATH). */
  initPath?: string;
  /** --bridge: the default bridge network's Linux bridge (dockerd's docker0). */
  bridge: string;
  /** --bip: the default bridge's address and subnet, e.g. 172.20.0.1/16 (else one is chosen). */
  bip?: string;
  /** --insecure-registry / "insecure-registries": host[:port] or CIDRs reached over http too. */
  insecureRegistries: string[];
  /** --registry-mirror / "registry-mirrors": mirror URLs for docker.io pulls, normalized to end in "/". */
  registryMirrors: string[];
}

export const DEFAULTS: DaemonConfig = {
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  hosts: ['unix:///run/berth/berth.sock'],
  defaultRuntime: 'runc',
  runtimes: { runc: { path: 'runc' } },
  logLevel: 'info',
  liveRestore: false,
  cgroupParent: '/berth',
  configFile: '/etc/berth/daemon.json',
  logDefault: { Type: 'json-file', Config: {} },
  usernsRemap: '',
  init: false,
  bridge: 'berth0',
  insecureRegistries: [],
  registryMirrors: [],
};

export const USAGE = `Usage:	berthd [OPTIONS]

A self-sufficient runtime for containers (Docker Engine API compatible).

Options:
      --config-file string      Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string        Root directory of persistent state (default "/var/lib/berth")
      --exec-root string        Root directory for execution state files (default "/run/berth")
  -H, --host list               Daemon socket(s) to connect to (default unix:///run/berth/berth.sock)
      --runtime string          Default OCI runtime for containers (default "runc")
      --default-runtime string  Same as --runtime
      --add-runtime name=path   Register an additional OCI runtime
      --cgroup-parent string    Parent cgroup for all containers (default "/berth")
      --live-restore            Keep containers running when the daemon stops
      --log-driver string       Default driver for container logs (default "json-file")
      --log-opt map             Default log driver options for containers (default map[])
      --userns-remap string     User/Group setting for user namespaces
      --init                    Run an init in the container to forward signals and reap processes
      --init-path string        Path to the docker-init binary
  -b, --bridge string           Attach containers to a network bridge (default "berth0")
      --bip string              Specify network bridge IP
      --insecure-registry list  Enable insecure registry communication
      --registry-mirror list    Preferred registry mirror
  -l, --log-level string        Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -v, --version                 Print version information and quit
`;

export class UsageError extends Error {}

interface FileConfig {
  'data-root'?: string;
  'exec-root'?: string;
  hosts?: string[];
  'default-runtime'?: string;
  runtimes?: Record<string, RuntimeConfig>;
  'log-level'?: string;
  'live-restore'?: boolean;
  'cgroup-parent'?: string;
  'log-driver'?: string;
  'log-opts'?: Record<string, string>;
  'userns-remap'?: string;
  init?: boolean;
  'init-path'?: string;
  bridge?: string;
  bip?: string;
  'insecure-registries'?: string[];
  'registry-mirrors'?: string[];
}

/** Flags override daemon.json, which overrides the defaults (as dockerd, minus its conflict errors). */
export function parseDaemonArgs(argv: string[]): DaemonConfig | 'help' | 'version' {
  const flags: Partial<DaemonConfig> & { insecure?: string[]; mirrors?: string[]; hosts?: string[]; addRuntimes?: Record<string, RuntimeConfig>; logDriver?: string; logOpts?: Record<string, string> } = {};
  let configFile = DEFAULTS.configFile;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${arg}`);
      return argv[++i];
    };
    switch (arg) {
      case '-h':
      case '--help':
        return 'help';
      case '-v':
      case '--version':
        return 'version';
      case '--data-root':
      case '-g':
        flags.dataRoot = next();
        break;
      case '--exec-root':
        flags.execRoot = next();
        break;
      case '-H':
      case '--host':
        (flags.hosts ??= []).push(next());
        break;
      case '--runtime':
      case '--default-runtime':
        flags.defaultRuntime = next();
        break;
      case '--add-runtime': {
        const v = next();
        const j = v.indexOf('=');
        if (j <= 0) throw new UsageError(`invalid --add-runtime value: ${v}`);
        (flags.addRuntimes ??= {})[v.slice(0, j)] = { path: v.slice(j + 1) };
        break;
      }
      case '--cgroup-parent':
        flags.cgroupParent = next();
        break;
      case '-b':
      case '--bridge': {
        const v = next();
        if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v)) throw new UsageError(`invalid bridge name "${v}": at most 15 letters, digits, '_', '.' or '-'`);
        flags.bridge = v;
        break;
      }
      case '--bip':
        flags.bip = next();
        break;
      case '--insecure-registry':
        (flags.insecure ??= []).push(next());
        break;
      case '--registry-mirror':
        (flags.mirrors ??= []).push(next());
        break;
      case '--live-restore':
        flags.liveRestore = value === undefined ? true : value === 'true';
        break;
      case '-l':
      case '--log-level':
        flags.logLevel = next();
        break;
      case '--config-file':
        configFile = next();
        break;
      case '--init':
        flags.init = value === undefined ? true : value === 'true';
        break;
      case '--init-path':
        flags.initPath = next();
        break;
      case '--userns-remap':
        flags.usernsRemap = next();
        break;
      case '--log-driver':
        flags.logDriver = next();
        break;
      case '--log-opt': {
        const v = next();
        const j = v.indexOf('=');
        if (j <= 0) throw new UsageError(`invalid argument "${v}" for "--log-opt" flag: bad format for log-opt: ${v}`);
        (flags.logOpts ??= {})[v.slice(0, j)] = v.slice(j + 1);
        break;
      }
      default:
        throw new UsageError(`unknown flag: ${arg}`);
    }
  }
  let file: FileConfig = {};
  try {
    file = JSON.parse(readFileSync(configFile, 'utf8')) as FileConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
  }
  const hosts = (flags.hosts ?? file.hosts ?? DEFAULTS.hosts).map(normalizeHost);
  const execRoot = flags.execRoot ?? file['exec-root'] ?? DEFAULTS.execRoot;
  if (execRoot.length > MAX_EXEC_ROOT) throw new UsageError(`exec-root ${execRoot} is too long: at most ${MAX_EXEC_ROOT} characters, so that unix socket paths under it fit`);
  const logDefault = daemonLogConfig(flags.logDriver ?? file['log-driver'], flags.logOpts ?? file['log-opts']);
  return {
    dataRoot: flags.dataRoot ?? file['data-root'] ?? DEFAULTS.dataRoot,
    execRoot,
    hosts,
    defaultRuntime: flags.defaultRuntime ?? file['default-runtime'] ?? DEFAULTS.defaultRuntime,
    runtimes: { ...DEFAULTS.runtimes, ...(file.runtimes ?? {}), ...(flags.addRuntimes ?? {}) },
    logLevel: flags.logLevel ?? file['log-level'] ?? DEFAULTS.logLevel,
    liveRestore: flags.liveRestore ?? file['live-restore'] ?? DEFAULTS.liveRestore,
    cgroupParent: flags.cgroupParent ?? file['cgroup-parent'] ?? DEFAULTS.cgroupParent,
    configFile,
    logDefault,
    usernsRemap: flags.usernsRemap ?? file['userns-remap'] ?? DEFAULTS.usernsRemap,
    init: flags.init ?? file.init ?? DEFAULTS.init,
    initPath: flags.initPath ?? file['init-path'],
    bridge: flags.bridge ?? file.bridge ?? DEFAULTS.bridge,
    bip: flags.bip ?? file.bip,
    insecureRegistries: validateInsecureRegistries(flags.insecure ?? stringList(file['insecure-registries'], 'insecure-registries')),
    registryMirrors: validateMirrors(flags.mirrors ?? stringList(file['registry-mirrors'], 'registry-mirrors')),
  };
}

function stringList(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new UsageError(`${key} must be an array of strings`);
  return v as string[];
}

/** dockerd's checks of insecure-registries entries (registry.ValidateIndexName and friends). */
function validateInsecureRegistries(list: string[]): string[] {
  return list.map((r) => {
    if (r.includes('://')) throw new UsageError(`insecure registry ${r} should not contain '://'`);
    if (!/^[A-Za-z0-9.\-:\[\]/]+$/.test(r)) throw new UsageError(`insecure registry ${r} is not valid`);
    return r;
  });
}

/** dockerd's ValidateMirror: an http(s) URL without path, query or credentials, normalized to end in "/". */
function validateMirrors(list: string[]): string[] {
  return list.map((m) => {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(m)) throw new UsageError(`invalid mirror: no scheme specified for "${m}": must use either 'https://' or 'http://'`);
    let u: URL;
    try {
      u = new URL(m);
    } catch {
      throw new UsageError(`invalid mirror: "${m}" is not a valid URI`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid mirror: unsupported scheme "${u.protocol.slice(0, -1)}" in "${m}"`);
    if (u.username || u.password) throw new UsageError(`invalid mirror: username/password not allowed in URI "${m}"`);
    if (u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) throw new UsageError(`invalid mirror: path, query, or fragment at end of the URI "${m}"`);
    return `${u.protocol}//${u.host}/`;
  });
}

/**
 * Resolves --userns-remap at start, as dockerd's setupRemappedRoot + setupDaemonRoot: the
 * mapping (creating berthremap for "default") and the data root moved to
 * <data-root>/<uid>.<gid>. The config is returned unchanged when remapping is off.
 */
export async function withUsernsRemap(config: DaemonConfig): Promise<DaemonConfig> {
  const idMapping = await resolveRemap(config.usernsRemap);
  if (!idMapping) {
    if (config.usernsRemap) log.warn('User namespaces: root cannot be remapped with itself; user namespaces are OFF');
    return config;
  }
  log.info(`User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${idMapping.user}`);
  const dataRoot = await setupRemappedRoot(config.dataRoot, idMapping);
  return { ...config, usernsRemap: `${idMapping.user}:${idMapping.group}`, idMapping, dataRoot };
}

/** The default LogConfig, refused (the daemon does not start) when no container could use it. */
function daemonLogConfig(driver: unknown, opts: unknown): LogConfig {
  if (driver !== undefined && typeof driver !== 'string') throw new UsageError('log-driver must be a string');
  if (opts !== undefined && (typeof opts !== 'object' || opts === null || Object.values(opts).some((v) => typeof v !== 'string'))) {
    throw new UsageError('log-opts must be an object of strings');
  }
  const cfg: LogConfig = { Type: driver || DEFAULTS.logDefault.Type, Config: { ...((opts as Record<string, string> | undefined) ?? {}) } };
  const problem = daemonLogConfigProblem(cfg);
  if (problem) throw new UsageError(`failed to set log opts: ${problem}`);
  return cfg;
}

/** Longest exec-root whose monitor sockets (<exec-root>/s/<16 hex>) fit a unix address. */
export const MAX_EXEC_ROOT = 88;

function normalizeHost(h: string): string {
  if (h.startsWith('unix://') || h.startsWith('tcp://')) return h;
  if (h.startsWith('/')) return `unix://${h}`;
  throw new UsageError(`invalid host: ${h}`);
}
