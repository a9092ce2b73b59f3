// Docker's credential helper protocol (docker/docker-credential-helpers): a program named
// docker-credential-<helper> on the PATH, run with "get", "store" or "erase" and its input on
// stdin, so that passwords live in a keychain (pass, secretservice, a cloud's token
// helper) instead of config.json. Errors read as the docker CLI's.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Username a helper stores an identity token under. */
export const TOKEN_USERNAME = '<token>';
const NOT_FOUND = 'credentials not found in native keychain';
const PREFIX = 'docker-credential-';

export interface HelperCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** exec.LookPath: the program's path on $PATH, or undefined. */
export function lookPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** credentials.DetectDefaultStore on Linux: "pass" when pass is installed, else "secretservice", if its helper is on the PATH. */
export function detectDefaultStore(): string {
  const platformDefault = lookPath('pass') ? 'pass' : 'secretservice';
  return lookPath(PREFIX + platformDefault) ? platformDefault : '';
}

interface Outcome {
  /** Go's exec error text ("exit status 1", "exec: …: executable file not found in $PATH"), or undefined on success. */
  error?: string;
  out: string;
}

function execHelper(helper: string, action: string, input: string): Promise<Outcome> {
  const program = PREFIX + helper;
  const path = lookPath(program);
  if (!path) return Promise.resolve({ error: `exec: "${program}": executable file not found in $PATH`, out: '' });
  return new Promise((resolve) => {
    const child = spawn(path, [action], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => resolve({ error: err.message, out: '' }));
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8');
      if (signal) resolve({ error: `signal: ${signal === 'SIGKILL' ? 'killed' : signal}`, out });
      else resolve({ error: code === 0 ? undefined : `exit status ${code}`, out });
    });
    child.stdin.on('error', () => undefined); // a helper that exits without reading
    child.stdin.end(input);
  });
}

function failure(verb: string, o: Outcome): Error {
  return new Error(`error ${verb} credentials - err: ${o.error}, out: \`${o.out.trim()}\``);
}

/** client.Get: the stored credentials, or an empty result when the helper has none. */
export async function helperGet(helper: string, server: string): Promise<HelperCredentials> {
  const o = await execHelper(helper, 'get', server);
  if (o.error !== undefined) {
    if (o.out.trim() === NOT_FOUND) return {};
    throw failure('getting', o);
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(o.out) as typeof doc;
  } catch (err) {
    throw new Error(`error getting credentials - err: ${(err as Error).message}, out: \`${o.out.trim()}\``);
  }
  const username = typeof doc.Username === 'string' ? doc.Username : '';
  const secret = typeof doc.Secret === 'string' ? doc.Secret : '';
  return username === TOKEN_USERNAME ? { identitytoken: secret } : { username, password: secret };
}

/** client.Store: an identity token goes under the "<token>" user, as docker stores it. */
export async function helperStore(helper: string, server: string, c: HelperCredentials): Promise<void> {
  const creds = c.identitytoken ? { ServerURL: server, Username: TOKEN_USERNAME, Secret: c.identitytoken } : { ServerURL: server, Username: c.username ?? '', Secret: c.password ?? '' };
  const o = await execHelper(helper, 'store', JSON.stringify(creds));
  if (o.error !== undefined) throw failure('storing', o);
}

export async function helperErase(helper: string, server: string): Promise<void> {
  const o = await execHelper(helper, 'erase', server);
  if (o.error !== undefined) throw failure('erasing', o);
}
