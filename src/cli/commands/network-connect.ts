// berth network connect: POST /networks/{id}/connect with the endpoint settings.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import { ListFlag, StringSliceFlag, type FlagSet, type IntFlag, type StringFlag } from '../flags.ts';
import { validateLink } from '../opts/validators.ts';

interface ConnectFlags {
  ip: StringFlag;
  ip6: StringFlag;
  links: ListFlag;
  aliases: StringSliceFlag;
  linkLocal: StringSliceFlag;
  driverOpts: StringSliceFlag;
  gwPriority: IntFlag;
}

export const command: CommandDef<ConnectFlags> = {
  args: exactArgs(2),
  flags: (fs: FlagSet) => ({
    aliases: fs.add(new StringSliceFlag('alias', undefined, 'Add network-scoped alias for the container')),
    driverOpts: fs.add(new StringSliceFlag('driver-opt', undefined, 'driver options for the network')),
    gwPriority: fs.int('gw-priority', undefined, 0, 'Highest gw-priority provides the default gateway. Accepts positive and negative values.'),
    ip: fs.string('ip', undefined, '', 'IPv4 address (e.g., "172.30.100.104")'),
    ip6: fs.string('ip6', undefined, '', 'IPv6 address (e.g., "2001:db8::33")'),
    links: fs.list('link', undefined, 'Add link to another container', validateLink),
    linkLocal: fs.add(new StringSliceFlag('link-local-ip', undefined, 'Add a link-local address for the container')),
  }),
  async run(cli: Cli, f: ConnectFlags, [network, container]: string[]) {
    const driverOpts: Record<string, string> = {};
    for (const o of f.driverOpts.values) {
      const eq = o.indexOf('=');
      if (eq < 0) throw new Error(`invalid key/value pair format in driver options`);
      driverOpts[o.slice(0, eq)] = o.slice(eq + 1);
    }
    // Go's EndpointSettings as docker marshals it: zero values included, empty IPAM fields omitted.
    const ipam: Record<string, unknown> = {};
    if (f.ip.value) ipam.IPv4Address = f.ip.value;
    if (f.ip6.value) ipam.IPv6Address = f.ip6.value;
    if (f.linkLocal.values.length) ipam.LinkLocalIPs = f.linkLocal.values;
    const body = {
      Container: container,
      EndpointConfig: {
        IPAMConfig: ipam,
        Links: f.links.values.length ? f.links.values : null,
        Aliases: f.aliases.values,
        DriverOpts: driverOpts,
        GwPriority: f.gwPriority.value,
        NetworkID: '',
        EndpointID: '',
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: '',
        DNSNames: null,
      },
    };
    await cli.client.call('POST', `/networks/${encodeURIComponent(network)}/connect`, { body });
  },
};
