// The berth CLI entry point: global flags, command lookup (loading only the chosen command's
// module), flag and argument errors in docker's words and exit statuses, then the command.
import { Cli, BIN, VERSION, StatusError } from './cli.ts';
import { commandPath, useLine, type CommandDef, type Invocation } from './command.ts';
import { FlagError, FlagSet, HelpRequested } from './flags.ts';
import { findGroup, findTop, type Entry } from './registry.ts';
import { resolveHost } from '../client/host.ts';

const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'];

function globalFlags() {
  const fs = new FlagSet();
  fs.interspersed = false;
  const f = {
    config: fs.string('config', undefined, '', 'Location of client config files'),
    context: fs.string('context', 'c', '', 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "berth context use")'),
    debug: fs.bool('debug', 'D', false, 'Enable debug mode'),
    host: fs.list('host', 'H', 'Daemon socket to connect to'),
    logLevel: fs.string('log-level', 'l', 'info', 'Set the logging level ("debug", "info", "warn", "error", "fatal")'),
    tls: fs.bool('tls', undefined, false, 'Use TLS; implied by --tlsverify'),
    tlscacert: fs.string('tlscacert', undefined, '', 'Trust certs signed only by this CA'),
    tlscert: fs.string('tlscert', undefined, '', 'Path to TLS certificate file'),
    tlskey: fs.string('tlskey', undefined, '', 'Path to TLS key file'),
    tlsverify: fs.bool('tlsverify', undefined, false, 'Use TLS and verify the remote'),
    version: fs.bool('version', 'v', false, 'Print version information and quit'),
  };
  return { fs, f };
}

/** Exits once everything written to stdout and stderr has been handed to the OS. */
async function exit(code: number): Promise<never> {
  const flush = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (s.writableLength === 0 || s.destroyed) return resolve();
      s.write('', () => resolve());
    });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

function report(err: unknown): number {
  if (err instanceof StatusError) {
    if (err.message) process.stderr.write(err.message + '\n');
    return err.status;
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (msg) process.stderr.write(msg + '\n');
  return 1;
}

async function runCommand(cliFactory: () => Cli, entry: Entry, path: string[], args: string[]): Promise<void> {
  const inv: Invocation = { path, use: entry.use, short: entry.short, long: entry.long, aliases: entry.aliases };
  const mod = (await import(entry.module)) as { command: CommandDef };
  const def = mod.command;
  const fs = new FlagSet();
  fs.interspersed = !def.noInterspersed;
  fs.helpShorthand = !def.noHelpShorthand;
  const opts = def.flags(fs, inv);
  if (def.noHelpShorthand) fs.bool('help', undefined, false, 'Print usage');
  let positional: string[];
  try {
    positional = fs.parse(args);
  } catch (e) {
    if (e instanceof HelpRequested) {
      const { commandHelp, hideUnsupported } = await import('./help.ts');
      await hideUnsupported(cliFactory, fs);
      process.stdout.write(commandHelp(inv, fs));
      return;
    }
    if (e instanceof FlagError) throw new StatusError(125, `${e.message}\n\nUsage:  ${useLine(inv)}\n\nRun '${commandPath(inv)} --help' for more information`);
    throw e;
  }
  def.args(inv, positional);
  const cli = cliFactory();
  try {
    await def.run(cli, opts, positional, fs, inv);
  } finally {
    cli.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { fs, f } = globalFlags();
  fs.helpShorthand = true;
  let rest: string[];
  try {
    rest = fs.parse(argv, () => {});
  } catch (e) {
    if (e instanceof HelpRequested) {
      const { rootHelp } = await import('./help.ts');
      process.stdout.write(rootHelp(fs));
      return 0;
    }
    if (e instanceof FlagError) {
      return report(new StatusError(125, `${e.message}\n\nUsage:  ${BIN} [OPTIONS] COMMAND [ARG...]\n\nRun '${BIN} --help' for more information`));
    }
    return report(e);
  }
  if (f.version.value) {
    process.stdout.write(`${BIN} version ${VERSION}\n`);
    return 0;
  }
  if (!LOG_LEVELS.includes(f.logLevel.value)) return report(new Error(`Unable to parse logging level: ${f.logLevel.value}`));
  if (rest.length === 0) {
    // Without a command docker shows its help on stderr (with --help, on stdout).
    const { rootHelp } = await import('./help.ts');
    process.stderr.write(rootHelp(fs));
    return 0;
  }
  const cliFactory = () => new Cli(resolveHost(f.host.values), { out: process.stdout, err: process.stderr, in: process.stdin });
  try {
    const [name, ...args] = rest;
    const top = findTop(name);
    if (top) {
      await runCommand(cliFactory, top, [top.names[0]], args);
      return 0;
    }
    const group = findGroup(name);
    if (group) {
      const sub = args[0];
      if (sub === undefined || sub === '--help' || sub === '-h') {
        const { groupHelp } = await import('./help.ts');
        // As docker: asked for, the help goes to stdout; a group named alone shows it on stderr.
        (sub === undefined ? process.stderr : process.stdout).write(groupHelp(group));
        return 0;
      }
      const entry = group.commands.find((c) => c.names.includes(sub));
      if (!entry) {
        if (sub.startsWith('-')) {
          throw new StatusError(125, `unknown flag: ${sub}\n\nUsage:  ${BIN} ${group.name} COMMAND\n\nRun '${BIN} ${group.name} --help' for more information`);
        }
        throw new StatusError(1, `${BIN}: unknown command: ${BIN} ${group.name} ${sub}\n\nUsage:  ${BIN} ${group.use ?? group.name}\n\nRun '${BIN} ${group.name} --help' for more information`);
      }
      await runCommand(cliFactory, entry, [group.name, entry.names[0]], args.slice(1));
      return 0;
    }
    throw new StatusError(1, `${BIN}: unknown command: ${BIN} ${name}\n\nRun '${BIN} --help' for more information`);
  } catch (e) {
    return report(e);
  }
}

// Broken pipes (berth ps | head) end the process quietly, as docker does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const code = await main(process.argv.slice(2));
await exit(code);
