// berth logout: removes a registry's credentials from the docker CLI's config.json (and its
// credential helper), under every key docker may have stored them as.
import type { Cli } from '../cli.ts';
import { maxArgs, type CommandDef } from '../command.ts';
import { DockerConfig, INDEX_SERVER, convertToHostname } from '../docker-config.ts';

export const command: CommandDef<Record<string, never>> = {
  args: maxArgs(1),
  flags: () => ({}),
  async run(cli: Cli, _f, args: string[]) {
    const server = args[0] || INDEX_SERVER;
    const keys = [server];
    let shown = server;
    if (args[0]) {
      shown = convertToHostname(server);
      keys.push(shown, `http://${shown}`, `https://${shown}`);
    }
    cli.println(`Removing login credentials for ${shown}`);
    const cfg = await DockerConfig.load();
    // As docker: each key from its own store, failures collected by key (a key listed twice
    // counts once), and a warning only when there are as many failures as keys listed.
    const errors = new Map<string, Error>();
    for (const key of keys) {
      try {
        await cfg.eraseAuth(key);
      } catch (err) {
        errors.set(key, err as Error);
      }
    }
    if (errors.size === keys.length) {
      cli.eprintln('WARNING: could not erase credentials:');
      for (const [key, err] of errors) cli.eprintln(`${key}: ${err.message}`);
    }
  },
};
