// berth login: checks credentials through the daemon (POST /auth) and stores them where the
// docker CLI would (config.json, or its credential helper), with docker 28's flag checks,
// prompts and messages.
import type { Cli } from '../cli.ts';
import { maxArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { DockerConfig, INDEX_SERVER, convertToHostname, type StoredAuth } from '../docker-config.ts';
import { ApiError } from '../../client/errors.ts';
import { readLine } from '../prompt.ts';

interface LoginFlags {
  username: StringFlag;
  password: StringFlag;
  passwordStdin: BoolFlag;
}

const UNENCRYPTED_WARNING = (path: string) =>
  `\nWARNING! Your credentials are stored unencrypted in '${path}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

export const command: CommandDef<LoginFlags> = {
  args: maxArgs(1),
  flags: (fs: FlagSet) => ({
    username: fs.string('username', 'u', '', 'Username'),
    password: fs.string('password', 'p', '', 'Password or Personal Access Token (PAT)'),
    passwordStdin: fs.bool('password-stdin', undefined, false, 'Take the Password or Personal Access Token (PAT) from stdin'),
  }),
  async run(cli: Cli, f: LoginFlags, args: string[], fs: FlagSet) {
    if (fs.changed('password-stdin')) {
      if (fs.changed('password')) throw new Error('conflicting options: cannot specify both --password and --password-stdin');
      if (!fs.changed('username')) throw new Error('the --password-stdin option requires --username to be set');
    }
    if (fs.changed('username') && f.username.value === '') throw new Error('username is empty');
    if (fs.changed('password') && f.password.value === '') throw new Error('password is empty');
    let user = f.username.value;
    let password = f.password.value;
    if (password !== '') cli.eprintln('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    if (f.passwordStdin.value) {
      const chunks: Buffer[] = [];
      for await (const c of cli.in) chunks.push(Buffer.from(c as Buffer));
      password = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').replace(/\r$/, '');
    }
    const arg = args[0] ?? '';
    const isDefault = arg === '' || arg === 'docker.io';
    const server = isDefault ? INDEX_SERVER : convertToHostname(arg);
    const cfg = await DockerConfig.load();
    let status: string | undefined;
    // No name and no password given: try what is stored.
    const stored: StoredAuth = user === '' && password === '' ? await cfg.getAuth(server) : { serveraddress: server };
    let ok = false;
    if (stored.username && stored.password) {
      cli.err.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      cli.err.write("\n Info -> To login with a different account, run 'docker logout' followed by 'docker login'\n\n\n");
      try {
        status = await login(cli, cfg, server, stored);
        ok = true;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) cli.err.write('Stored credentials invalid or expired\n');
        else cli.err.write(`Login did not succeed, error: ${(err as Error).message}\n`);
      }
    }
    if (!ok) {
      if ((user === '' || password === '') && !cli.inIsTerminal) throw new Error('Error: Cannot perform an interactive login from a non TTY device');
      if (user === '') {
        if (isDefault) cli.println("Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.");
        const def = (stored.username ?? '').trim();
        user = (await readLine(cli, def ? `Username (${def}): ` : 'Username: ')).trim() || def;
        if (user === '') throw new Error('Error: Non-null Username Required');
      }
      password = password.trim();
      if (password === '') {
        password = await readLine(cli, 'Password: ', true);
        cli.println();
        if (password === '') throw new Error('Error: Password Required');
      }
      status = await login(cli, cfg, server, { username: user, password, serveraddress: server });
    }
    if (status) cli.println(status);
  },
};

/** POST /auth, then stores the credentials (an identity token instead of the password when one came back). */
async function login(cli: Cli, cfg: DockerConfig, server: string, a: StoredAuth): Promise<string> {
  const res = await cli.client.json<{ Status?: string; IdentityToken?: string }>('POST', '/auth', {
    body: { username: a.username, password: a.password, serveraddress: server },
  });
  const toStore: StoredAuth = res.IdentityToken ? { username: a.username, identitytoken: res.IdentityToken } : { username: a.username, password: a.password };
  let inFile: boolean;
  try {
    inFile = await cfg.storeAuth(server, toStore);
  } catch (err) {
    throw new Error(`Error saving credentials: ${(err as Error).message}`);
  }
  if (inFile) cli.err.write(UNENCRYPTED_WARNING(cfg.path));
  return res.Status ?? '';
}
