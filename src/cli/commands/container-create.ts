// What run and create share: their own flags (--name, --pull, --platform...), and creating
// the container as docker does: POST /containers/create, and when the image is missing
// (404) "Unable to find image" then a pull and a second try; warnings; --cidfile.
import { existsSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { BIN, StatusError, type Cli } from '../cli.ts';
import { BoolFlag, StringFlag, type FlagSet } from '../flags.ts';
import { addContainerFlags, type ContainerFlags } from '../opts/container-flags.ts';
import { buildContainerConfig, createBody, dedupEnv, type ContainerConfig } from '../opts/container-config.ts';
import { familiarString, parseAnyReference, tagNameOnly, type Reference } from '../reference.ts';
import { displayJsonMessages } from '../../client/streams.ts';
import { isNotFound } from '../../client/errors.ts';
import { parsePlatform, formatPlatform } from '../opts/platform.ts';
import { Writable } from 'node:stream';

export interface CreateFlags {
  name: StringFlag;
  pull: StringFlag;
  quiet: BoolFlag;
  platform: StringFlag;
  untrusted: BoolFlag;
  useApiSocket: BoolFlag;
  copts: ContainerFlags;
}

export function addCreateFlags(fs: FlagSet, forRun: boolean): CreateFlags {
  const name = fs.string('name', undefined, '', 'Assign a name to the container');
  const pull = fs.string('pull', undefined, 'missing', forRun ? 'Pull image before running ("always", "missing", "never")' : 'Pull image before creating ("always", "|missing", "never")');
  const quiet = fs.bool('quiet', 'q', false, 'Suppress the pull output');
  const useApiSocket = fs.bool('use-api-socket', undefined, false, 'Bind mount Berth API socket and required auth');
  const platform = fs.string('platform', undefined, process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable');
  const untrusted = fs.bool('disable-content-trust', undefined, true, 'Skip image verification');
  const copts = addContainerFlags(fs);
  return { name, pull, quiet, platform, untrusted, useApiSocket, copts };
}

function validatePullOpt(val: string): void {
  if (!['always', 'missing', 'never', ''].includes(val)) {
    throw new Error(`invalid pull option: '${val}': must be one of "always", "missing" or "never"`);
  }
}

/** Parses the flags into the create body (docker's proxy-env step, then parse). */
function containerConfigFrom(cli: Cli, fs: FlagSet, f: CreateFlags, image: string, args: string[]): ContainerConfig {
  return buildContainerConfig(fs, f.copts, { image, args, env: dedupEnv(f.copts.env.values), serverOS: cli.client.serverOsType });
}

/** A usage error as docker words it: the message, then where to find the command's help. */
export function withHelp(err: unknown, command: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `${BIN}: ${msg}\n\nRun '${BIN} ${command} --help' for more information`;
}

/**
 * The create body from run's or create's command line (IMAGE [COMMAND] [ARG...]); a bad flag
 * or value fails with status 125 and the help hint, before the container is created.
 */
export async function configFromCommandLine(cli: Cli, fs: FlagSet, f: CreateFlags, args: string[], command: 'run' | 'create'): Promise<ContainerConfig> {
  try {
    validatePullOpt(f.pull.value);
    // The server's version and OS shape the body; an unreachable daemon is reported later.
    await cli.client.negotiate().catch(() => {});
    return containerConfigFrom(cli, fs, f, args[0], args.slice(1));
  } catch (e) {
    throw new StatusError(125, withHelp(e, command));
  }
}

const DISCARD = new Writable({ write: (_c, _e, cb) => cb() });

async function pullImage(cli: Cli, ref: Reference, platform: string, quiet: boolean): Promise<void> {
  const res = await cli.client.request('POST', '/images/create', {
    query: { fromImage: ref.name, tag: ref.digest ?? ref.tag ?? '', platform: platform ? platform.toLowerCase() : undefined },
    headers: { 'X-Registry-Auth': '' },
  });
  await displayJsonMessages(res, quiet ? DISCARD : cli.err, false);
}

function localhostDNSWarning(dns: string[]): string | undefined {
  for (const ip of dns) {
    if (/^127\./.test(ip) || ip === '::1') return `Localhost DNS (${ip}) may fail in containers.`;
  }
  return undefined;
}

/** Creates the container; returns its id. Errors are the daemon's (the caller words them). */
export async function createContainer(cli: Cli, cfg: ContainerConfig, f: CreateFlags): Promise<string> {
  const hostConfig = cfg.HostConfig;
  const cidPath = String(hostConfig.ContainerIDFile ?? '');
  let cidFd: number | undefined;
  let cidWritten = false;
  if (cidPath) {
    if (existsSync(cidPath)) throw new Error(`container ID file found, make sure the other container isn't running or delete ${cidPath}`);
    try {
      cidFd = openSync(cidPath, 'w', 0o666);
    } catch (e) {
      throw new Error(`failed to create the container ID file: ${(e as Error).message}`);
    }
  }
  try {
    const image = String(cfg.Config.Image);
    const parsed = parseAnyReference(image);
    const namedRef = 'id' in parsed ? undefined : tagNameOnly(parsed);

    if (f.useApiSocket.value) {
      if (cli.address.kind !== 'unix') throw new Error(`flag --use-api-socket can only be used with unix sockets: berth endpoint ${cli.address.url} incompatible`);
      const mounts = (hostConfig.Mounts as unknown[] | undefined) ?? [];
      mounts.push({ Type: 'bind', Source: cli.address.path, Target: '/var/run/docker.sock', BindOptions: {} });
      hostConfig.Mounts = mounts;
    }

    await cli.client.negotiate();
    let platform = '';
    if (f.platform.value !== '' && cli.client.versionAtLeast('1.41')) {
      try {
        platform = formatPlatform(parsePlatform(f.platform.value));
      } catch (e) {
        throw new Error(`error parsing specified platform: ${(e as Error).message}`);
      }
    }
    if (f.pull.value === 'always' && namedRef) await pullImage(cli, namedRef, f.platform.value, f.quiet.value);

    const [rows, cols] = cli.ttySize();
    hostConfig.ConsoleSize = [rows, cols];
    // What docker's client library does to every create request.
    const normalizeCaps = (caps: unknown) => {
      if (!Array.isArray(caps)) return null;
      const out = [...new Set(caps.map((c: string) => {
        const u = c.toUpperCase();
        return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
      }))].sort();
      return out.length ? out : null;
    };
    hostConfig.CapAdd = normalizeCaps(hostConfig.CapAdd);
    hostConfig.CapDrop = normalizeCaps(hostConfig.CapDrop);
    if (cli.client.versionAtLeast('1.42')) delete hostConfig.KernelMemory;
    if (cli.client.versionAtLeast('1.44')) delete cfg.Config.MacAddress;

    const query = { name: f.name.value || undefined, platform: platform || undefined };
    const body = createBody(cfg);
    let resp: { Id: string; Warnings?: string[] | null };
    try {
      resp = await cli.client.json('POST', '/containers/create', { query, body });
    } catch (e) {
      if (!(isNotFound(e) && namedRef && f.pull.value === 'missing')) throw e;
      if (!f.quiet.value) cli.err.write(`Unable to find image '${familiarString(namedRef)}' locally\n`);
      await pullImage(cli, namedRef, f.platform.value, f.quiet.value);
      resp = await cli.client.json('POST', '/containers/create', { query, body });
    }
    const warnings = [...(resp.Warnings ?? [])];
    const dnsWarn = localhostDNSWarning((hostConfig.Dns as string[]) ?? []);
    if (dnsWarn) warnings.push(dnsWarn);
    for (const w of warnings) cli.err.write(`WARNING: ${w}\n`);
    if (cidFd !== undefined) {
      writeSync(cidFd, resp.Id);
      cidWritten = true;
    }
    return resp.Id;
  } finally {
    if (cidFd !== undefined) {
      closeSync(cidFd);
      if (!cidWritten) rmSync(cidPath, { force: true });
    }
  }
}
