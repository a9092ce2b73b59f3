// berth info: the client section and the daemon's GET /info laid out as docker's info,
// or any --format template over {ClientInfo, ...server fields}.
import { StatusError, VERSION, type Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { Template, TemplateSyntaxError } from '../format/template.ts';
import type { GoStruct } from '../format/gofmt.ts';
import { bytesSize } from '../format/units.ts';
import { ConnectionError } from '../../client/errors.ts';
import { goArch } from './version.ts';
import { CLIENT_API_VERSION } from '../../client/api-client.ts';

type Info = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function line(label: string, value: unknown): string {
  return `${label} ${goPrint(value)}\n`;
}

/** fmt.Println of one value. */
function goPrint(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return `[${v.join(' ')}]`;
  return String(v);
}

function nonEmpty(label: string, value: unknown): string {
  return value === undefined || value === null || value === '' ? '' : `${label} ${value}\n`;
}

function serverText(info: Info): { out: string; warnings: string[] } {
  let o = '';
  o += line(' Containers:', info.Containers ?? 0);
  o += line('  Running:', info.ContainersRunning ?? 0);
  o += line('  Paused:', info.ContainersPaused ?? 0);
  o += line('  Stopped:', info.ContainersStopped ?? 0);
  o += line(' Images:', info.Images ?? 0);
  o += nonEmpty(' Server Version:', info.ServerVersion);
  o += nonEmpty(' Storage Driver:', info.Driver);
  for (const pair of info.DriverStatus ?? []) o += `  ${pair[0]}: ${pair[1]}\n`;
  for (const pair of info.SystemStatus ?? []) o += ` ${pair[0]}: ${pair[1]}\n`;
  o += nonEmpty(' Logging Driver:', info.LoggingDriver);
  o += nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  o += nonEmpty(' Cgroup Version:', info.CgroupVersion);
  o += ' Plugins:\n';
  const plugins = info.Plugins ?? {};
  o += line('  Volume:', (plugins.Volume ?? []).join(' '));
  o += line('  Network:', (plugins.Network ?? []).join(' '));
  if ((plugins.Authorization ?? []).length) o += line('  Authorization:', plugins.Authorization.join(' '));
  o += line('  Log:', (plugins.Log ?? []).join(' '));
  if ((info.CDISpecDirs ?? []).length) {
    o += ' CDI spec directories:\n';
    for (const d of info.CDISpecDirs) o += `  ${d}\n`;
  }
  const swarm = info.Swarm ?? {};
  o += line(' Swarm:', swarm.LocalNodeState ?? '');
  if (swarm.LocalNodeState && swarm.LocalNodeState !== 'inactive' && swarm.LocalNodeState !== 'locked') {
    o += line('  NodeID:', swarm.NodeID ?? '');
    if (swarm.Error) o += line('  Error:', swarm.Error);
    o += line('  Is Manager:', Boolean(swarm.ControlAvailable));
    o += line('  Node Address:', swarm.NodeAddr ?? '');
  }
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length) {
    o += line(' Runtimes:', runtimes.join(' '));
    o += line(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    o += line(' Init Binary:', info.InitBinary ?? '');
    o += line(' containerd version:', info.ContainerdCommit?.ID ?? '');
    o += line(' runc version:', info.RuncCommit?.ID ?? '');
    o += line(' init version:', info.InitCommit?.ID ?? '');
    if ((info.SecurityOptions ?? []).length) {
      o += ' Security Options:\n';
      for (const so of info.SecurityOptions as string[]) {
        const fields = so.split(',');
        const name = fields.find((f) => f.startsWith('name='))?.slice(5) ?? so;
        o += `  ${name}\n`;
        const profile = fields.find((f) => f.startsWith('profile='));
        if (profile) o += line('   Profile:', profile.slice(8));
      }
    }
  }
  o += nonEmpty(' Kernel Version:', info.KernelVersion);
  o += nonEmpty(' Operating System:', info.OperatingSystem);
  o += nonEmpty(' OSType:', info.OSType);
  o += nonEmpty(' Architecture:', info.Architecture);
  o += line(' CPUs:', info.NCPU ?? 0);
  o += line(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  o += nonEmpty(' Name:', info.Name);
  o += nonEmpty(' ID:', info.ID);
  o += line(' Berth Root Dir:', info.DockerRootDir ?? '');
  o += line(' Debug Mode:', Boolean(info.Debug));
  if (info.Debug) {
    o += line('  File Descriptors:', info.NFd ?? 0);
    o += line('  Goroutines:', info.NGoroutines ?? 0);
    o += line('  System Time:', info.SystemTime ?? '');
    o += line('  EventsListeners:', info.NEventsListener ?? 0);
  }
  o += nonEmpty(' HTTP Proxy:', info.HttpProxy);
  o += nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  o += nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length) {
    o += ' Labels:\n';
    for (const l of info.Labels) o += `  ${l}\n`;
  }
  o += line(' Experimental:', Boolean(info.ExperimentalBuild));
  const reg = info.RegistryConfig;
  const cidrs: string[] = reg?.InsecureRegistryCIDRs ?? [];
  const indexes: Record<string, { Name: string; Secure: boolean }> = reg?.IndexConfigs ?? {};
  if (reg && (cidrs.length || Object.keys(indexes).length)) {
    o += ' Insecure Registries:\n';
    for (const ic of Object.values(indexes)) if (!ic.Secure) o += `  ${ic.Name}\n`;
    for (const c of cidrs) o += `  ${c}\n`;
  }
  if ((reg?.Mirrors ?? []).length) {
    o += ' Registry Mirrors:\n';
    for (const m of reg.Mirrors) o += `  ${m}\n`;
  }
  o += line(' Live Restore Enabled:', Boolean(info.LiveRestoreEnabled));
  if (info.ProductLicense) o += line(' Product License:', info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length) {
    o += ' Default Address Pools:\n';
    for (const p of info.DefaultAddressPools) o += `   Base: ${p.Base}, Size: ${p.Size}\n`;
  }
  o += '\n';
  return { out: o, warnings: info.Warnings ?? [] };
}

/**
 * docker contacts the daemon only when the template needs it: it tries the template on the
 * client fields alone (a struct, so any other field is an error).
 */
function needsServerInfo(format: string, clientInfo: unknown): boolean {
  if (format === '' || format === 'json' || format === '{{json .}}') return true;
  if (!/\.[a-zA-Z]/.test(format)) return true;
  const sparse: GoStruct = {
    goType: 'system.sparseInfo',
    member: (name) => (name === 'ClientInfo' ? { value: clientInfo } : name === 'ClientErrors' ? { value: null } : undefined),
    toJSON: () => ({ ClientInfo: clientInfo }),
  };
  try {
    Template.parse(format).execute(sparse);
    return false;
  } catch {
    return true;
  }
}

export const command: CommandDef<{ format: StringFlag }> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({ format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP) }),
  async run(cli: Cli, f) {
    const format = f.format.value;
    const clientInfo = { Version: VERSION, ApiVersion: CLIENT_API_VERSION, DefaultAPIVersion: CLIENT_API_VERSION, Os: 'linux', Arch: goArch(), Context: 'default', Debug: false, Plugins: [] as unknown[] };
    let info: Info | null = null;
    let connErr: unknown;
    const serverErrors: string[] = [];
    try {
      if (needsServerInfo(format, clientInfo)) {
        info = await cli.client.json<Info>('GET', '/info');
        clientInfo.ApiVersion = cli.client.apiVersion;
      }
    } catch (e) {
      if (e instanceof ConnectionError) connErr = e;
      else {
        serverErrors.push((e as Error).message);
        if (format !== '') cli.err.write((e as Error).message + '\n');
      }
    }
    if (format === '') {
      let o = 'Client:\n';
      o += ` Version:    ${clientInfo.Version}\n`;
      o += ` Context:    ${clientInfo.Context}\n`;
      o += ` Debug Mode: ${clientInfo.Debug}\n`;
      o += '\nServer:\n';
      cli.out.write(o);
      if (info) {
        const { out, warnings } = serverText(info);
        cli.out.write(out);
        for (const w of warnings) cli.err.write(w + '\n');
      }
      for (const e of serverErrors) cli.err.write(`ERROR: ${e}\n`);
      const errs: string[] = [];
      if (serverErrors.length) errs.push('errors pretty printing info');
      if (connErr) errs.push((connErr as Error).message);
      if (errs.length) throw new Error(errs.join('\n'));
      return;
    }
    let tmpl: Template;
    try {
      tmpl = Template.parse(format === 'json' ? '{{json .}}' : format);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw new StatusError(64, `template parsing error: ${e.message}`);
      throw e;
    }
    const data = { ...(info ?? {}), ClientInfo: clientInfo, ClientErrors: undefined, ServerErrors: serverErrors.length ? serverErrors : undefined };
    let out = '';
    let execErr: unknown;
    try {
      out = tmpl.execute(data);
    } catch (e) {
      execErr = e;
    }
    cli.out.write(out + '\n');
    if (connErr) throw connErr;
    if (execErr) throw execErr;
  },
};
