// berth version: the client's own version and the daemon's (GET /version), laid out by
// docker's version template, or any --format template over the same data.
import { StatusError, VERSION, type Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { Template, TemplateExecError, TemplateSyntaxError } from '../format/template.ts';
import { TabWriter } from '../format/tabwriter.ts';
import { CLIENT_API_VERSION } from '../../client/api-client.ts';

const TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:	{{.Version}}
 API version:	{{.ApiVersion}}{{if ne .ApiVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Node version:	{{.NodeVersion}}
 Git commit:	{{.GitCommit}}
 Built:	{{.BuildTime}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Context:	{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:	{{.Version}}
  API version:	{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:	{{index .Details "GoVersion"}}
  Git commit:	{{index .Details "GitCommit"}}
  Built:	{{index .Details "BuildTime"}}
  OS/Arch:	{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:	{{index .Details "Experimental"}}
  {{- else }}
  Version:	{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:	{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

export function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

/** time.Parse(RFC3339Nano).Format(time.ANSIC), or the value unchanged. */
function reformatDate(s: string): string {
  const d = new Date(s);
  if (!s || Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(s)) return s;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  // ANSIC keeps the time in the zone it was written in; the API sends UTC ("Z").
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> | null }> | null;
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

export const command: CommandDef<{ format: StringFlag }> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({ format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP) }),
  async run(cli: Cli, f) {
    let source = f.format.value;
    if (source === '') source = TEMPLATE;
    else if (source === 'json') source = '{{json .}}';
    let tmpl: Template;
    try {
      tmpl = Template.parse(source, {
        name: 'version',
        funcs: { getDetailsOrder: (c: unknown) => Object.keys((c as { Details?: Record<string, string> }).Details ?? {}).sort() },
      });
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw new StatusError(64, `template parsing error: ${e.message}`);
      throw e;
    }
    let server: ServerVersion | null = null;
    let error: unknown;
    try {
      server = await cli.client.json<ServerVersion>('GET', '/version');
    } catch (e) {
      error = e;
    }
    if (server) {
      server.Platform ??= { Name: '' };
      server.Components ??= [];
      let found = false;
      for (const c of server.Components) {
        if (c.Name === 'Engine') {
          found = true;
          if (c.Details?.BuildTime) c.Details.BuildTime = reformatDate(c.Details.BuildTime);
        }
      }
      if (!found) {
        server.Components.push({
          Name: 'Engine',
          Version: server.Version ?? '',
          Details: {
            ApiVersion: server.ApiVersion ?? '',
            MinAPIVersion: server.MinAPIVersion ?? '',
            GitCommit: server.GitCommit ?? '',
            GoVersion: server.GoVersion ?? '',
            Os: server.Os ?? '',
            Arch: server.Arch ?? '',
            BuildTime: reformatDate(server.BuildTime ?? ''),
            Experimental: String(Boolean(server.Experimental)),
          },
        });
      }
    }
    const data = {
      Client: {
        Platform: null,
        Version: VERSION,
        ApiVersion: error === undefined ? cli.client.apiVersion : CLIENT_API_VERSION,
        DefaultAPIVersion: CLIENT_API_VERSION,
        NodeVersion: process.version,
        GitCommit: 'unknown',
        Os: 'linux',
        Arch: goArch(),
        BuildTime: '',
        Context: 'default',
      },
      Server: server,
    };
    const tw = new TabWriter(20, 1, 1, ' ');
    let execErr: unknown;
    try {
      tw.write(tmpl.execute(data));
    } catch (e) {
      if (e instanceof TemplateExecError) tw.write(e.partial);
      execErr = e;
    }
    tw.write('\n');
    cli.out.write(tw.flush());
    if (error !== undefined) throw error;
    if (execErr !== undefined) throw execErr;
  },
};
