// berth registry serve: runs berth's own OCI Distribution registry in this process until
// SIGINT or SIGTERM. It needs no berthd; see src/registry/server.
import type { Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { serve } from '../../registry/server/server.ts';

interface ServeFlags {
  addr: StringFlag;
  root: StringFlag;
  htpasswd: StringFlag;
  tlsCert: StringFlag;
  tlsKey: StringFlag;
  realm: StringFlag;
}

export const command: CommandDef<ServeFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    addr: fs.string('addr', undefined, '127.0.0.1:5000', 'Address to listen on (HOST:PORT; ":PORT" for every interface, port 0 for any free port)'),
    root: fs.string('root', undefined, '', 'Directory holding the registry\'s blobs, manifests and uploads (required)'),
    htpasswd: fs.string('htpasswd', undefined, '', 'Require basic authentication against this htpasswd file (bcrypt entries, htpasswd -B)'),
    tlsCert: fs.string('tls-cert', undefined, '', 'Serve HTTPS with this certificate (PEM)'),
    tlsKey: fs.string('tls-key', undefined, '', 'Private key of --tls-cert (PEM)'),
    realm: fs.string('realm', undefined, 'berth-registry', 'Realm of the basic authentication challenge'),
  }),
  async run(_cli: Cli, f: ServeFlags) {
    if (!f.root.value) throw new Error('--root is required');
    const registry = await serve({
      addr: f.addr.value,
      root: f.root.value,
      htpasswd: f.htpasswd.value || undefined,
      tlsCert: f.tlsCert.value || undefined,
      tlsKey: f.tlsKey.value || undefined,
      realm: f.realm.value,
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await registry.close();
  },
};
