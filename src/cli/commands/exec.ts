// berth exec: checks the container exists, POST /containers/{id}/exec, then either starts the
// exec detached or hijacks POST /exec/{id}/start and relays the streams (following the
// terminal size with -t), and exits with the exec's exit code (GET /exec/{id}/json), as
// docker does.
import { StatusError, type Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import { ListFlag, type BoolFlag, type FlagSet, type StringFlag } from '../flags.ts';
import { validateEnv } from '../opts/validators.ts';
import { parseKeyValueFile } from '../opts/kvfile.ts';
import { DetachedError, streamAttach } from '../../client/attach.ts';
import { ConnectionError } from '../../client/errors.ts';
import { monitorTtySize } from './attach-helpers.ts';

interface ExecFlags {
  detachKeys: StringFlag;
  interactive: BoolFlag;
  tty: BoolFlag;
  detach: BoolFlag;
  user: StringFlag;
  privileged: BoolFlag;
  env: ListFlag;
  envFile: ListFlag;
  workdir: StringFlag;
}

/** The exec create body, its fields in the order docker's client encodes them. */
export interface ExecConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  ConsoleSize?: [number, number];
  AttachStdin: boolean;
  AttachStderr: boolean;
  AttachStdout: boolean;
  Detach: boolean;
  DetachKeys: string;
  Env: string[] | null;
  WorkingDir: string;
  Cmd: string[];
}

export function execConfig(f: ExecFlags, cmd: string[]): ExecConfig {
  // Variables from the files first, then -e (which may override them).
  const env = [...f.envFile.values.flatMap((file) => parseKeyValueFile(file, (k) => process.env[k])), ...f.env.values];
  const attach = !f.detach.value;
  return {
    User: f.user.value,
    Privileged: f.privileged.value,
    Tty: f.tty.value,
    AttachStdin: attach && f.interactive.value,
    AttachStderr: attach,
    AttachStdout: attach,
    Detach: f.detach.value,
    DetachKeys: f.detachKeys.value,
    Env: env.length ? env : null,
    WorkingDir: f.workdir.value,
    Cmd: cmd,
  };
}

export const command: CommandDef<ExecFlags> = {
  noInterspersed: true,
  args: minArgs(2),
  flags: (fs: FlagSet) => ({
    detachKeys: fs.string('detach-keys', undefined, '', 'Override the key sequence for detaching a container'),
    interactive: fs.bool('interactive', 'i', false, 'Keep STDIN open even if not attached'),
    tty: fs.bool('tty', 't', false, 'Allocate a pseudo-TTY'),
    detach: fs.bool('detach', 'd', false, 'Detached mode: run command in the background'),
    user: fs.string('user', 'u', '', 'Username or UID (format: "<name|uid>[:<group|gid>]")'),
    privileged: fs.bool('privileged', undefined, false, 'Give extended privileges to the command'),
    env: fs.add(new ListFlag('env', 'e', 'Set environment variables', validateEnv)),
    envFile: fs.add(new ListFlag('env-file', undefined, 'Read in a file of environment variables')),
    workdir: fs.string('workdir', 'w', '', 'Working directory inside the container'),
  }),
  async run(cli: Cli, f: ExecFlags, args: string[]) {
    const [container, ...cmd] = args;
    const config = execConfig(f, cmd);
    await cli.client.call('GET', `/containers/${container}/json`);
    if (!config.Detach && config.Tty && config.AttachStdin && !cli.inIsTerminal) throw new Error('the input device is not a TTY');
    // docker sends the console size whenever -t is given ([0, 0] when stdout is no terminal).
    if (config.Tty) config.ConsoleSize = cli.ttySize();
    const body = orderedExecConfig(config);
    const created = await cli.client.json<{ Id?: string }>('POST', `/containers/${container}/exec`, { body });
    const execId = created?.Id ?? '';
    if (execId === '') throw new Error('exec ID empty');
    const start: Record<string, unknown> = { Detach: config.Detach, Tty: config.Tty };
    if (config.ConsoleSize) start.ConsoleSize = config.ConsoleSize;
    if (config.Detach) {
      await cli.client.call('POST', `/exec/${execId}/start`, { body: start });
      return;
    }
    const { socket } = await cli.client.hijack(`/exec/${execId}/start`, { body: start, headers: { 'Content-Type': 'application/json' } });
    const streaming = streamAttach(socket, {
      stdin: config.AttachStdin ? cli.in : undefined,
      stdout: cli.out,
      // With a TTY, stderr is merged into the terminal output.
      stderr: config.Tty ? cli.out : cli.err,
      tty: config.Tty,
      detachKeys: config.DetachKeys,
    });
    const stopResize = config.Tty && cli.inIsTerminal ? monitorTtySize(cli, execId, 'exec') : () => {};
    try {
      await streaming;
    } catch (e) {
      // docker ends with "read escape sequence" (status 1) when the detach keys were typed.
      if (e instanceof DetachedError) throw new Error(e.message);
      throw e;
    } finally {
      stopResize();
    }
    let exitCode: number;
    try {
      exitCode = (await cli.client.json<{ ExitCode?: number }>('GET', `/exec/${execId}/json`))?.ExitCode ?? 0;
    } catch (e) {
      if (e instanceof ConnectionError) throw new StatusError(255);
      throw e;
    }
    if (exitCode !== 0) throw new StatusError(exitCode);
  },
};

/** Key order of docker's ExecOptions (ConsoleSize right after Tty). */
function orderedExecConfig(c: ExecConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { User: c.User, Privileged: c.Privileged, Tty: c.Tty };
  if (c.ConsoleSize) o.ConsoleSize = c.ConsoleSize;
  Object.assign(o, {
    AttachStdin: c.AttachStdin,
    AttachStderr: c.AttachStderr,
    AttachStdout: c.AttachStdout,
    Detach: c.Detach,
    DetachKeys: c.DetachKeys,
    Env: c.Env,
    WorkingDir: c.WorkingDir,
    Cmd: c.Cmd,
  });
  return o;
}
