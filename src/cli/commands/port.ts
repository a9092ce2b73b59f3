// berth port: the published ports of a container, read from NetworkSettings.Ports of its
// inspect document ("80/tcp -> 0.0.0.0:8080"), or the bindings of one private port.
import type { Cli } from '../cli.ts';
import { rangeArgs, type CommandDef } from '../command.ts';

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

function hostPort(b: { HostIp?: string; HostPort?: string }): string {
  const ip = b.HostIp ?? '';
  return ip.includes(':') ? `[${ip}]:${b.HostPort ?? ''}` : `${ip}:${b.HostPort ?? ''}`;
}

function portKey(k: string): [number, string] {
  const [p, proto = 'tcp'] = k.split('/');
  return [Number(p), proto];
}

export const command: CommandDef<Record<string, never>> = {
  args: rangeArgs(1, 2),
  flags: () => ({}),
  async run(cli: Cli, _f, [name, privatePort]: string[]) {
    const c = await cli.client.json<{ NetworkSettings?: { Ports?: Bindings | null } }>('GET', `/containers/${encodeURIComponent(name)}/json`);
    const ports = c?.NetworkSettings?.Ports ?? {};
    if (privatePort !== undefined) {
      let [port, proto = 'tcp'] = privatePort.split('/');
      proto = proto.toLowerCase();
      if (!/^\d+$/.test(port) || Number(port) > 65535) throw new Error(`Error: invalid port (${port}): invalid syntax`);
      const key = `${Number(port)}/${proto}`;
      const found = ports[key];
      if (found && found.length > 0) {
        cli.out.write(found.map((b) => hostPort(b) + '\n').join(''));
        return;
      }
      throw new Error(`Error: No public port '${privatePort}' published for ${name}`);
    }
    const keys = Object.keys(ports).sort((a, b) => {
      const [pa, ta] = portKey(a);
      const [pb, tb] = portKey(b);
      return pa - pb || ta.localeCompare(tb);
    });
    let out = '';
    for (const k of keys) for (const b of ports[k] ?? []) out += `${k} -> ${hostPort(b)}\n`;
    cli.out.write(out);
  },
};
