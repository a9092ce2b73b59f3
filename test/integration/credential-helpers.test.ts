// Credential helpers as the docker CLI runs them (credsStore, credHelpers, the platform's
// default): the berth CLI and the real docker CLI side by side against one berthd and a
// registry with htpasswd auth (Debian's docker-registry). The helpers are small shell
// scripts speaking docker-credential-helpers' protocol (get, store, erase on stdin/stdout)
// and keeping what they are given in files; no keychain runs here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, run, REPO, type TestDaemon } from '../helpers/daemon.ts';
import { startRegistry, type TestRegistry } from '../helpers/registry.ts';

let d: TestDaemon;
let reg: TestRegistry;
let base: string;
let helpers: string; // docker-credential-berthtest and -broken
let defaults: string; // docker-credential-pass and -secretservice

// Keeps each server's credentials in $BERTHTEST_STORE/<base64 of the server> (or next to itself).
const FAKE_HELPER = `#!/bin/sh
store="\${BERTHTEST_STORE:-$(dirname "$0")/store}"
mkdir -p "$store"
key() { printf '%s' "$1" | base64 -w0 | tr '/+' '_-'; }
case "$1" in
  store)
    input=$(cat)
    url=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    printf '%s' "$input" > "$store/$(key "$url")" ;;
  get)
    f="$store/$(key "$(cat)")"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase)
    rm -f "$store/$(key "$(cat)")" ;;
  *) exit 1 ;;
esac
`;
const BROKEN_HELPER = '#!/bin/sh\ncat >/dev/null\necho "the keychain is locked"\nexit 3\n';

before(async () => {
  reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'secret-pw' } });
  d = await startDaemon();
  base = await fsp.mkdtemp(join(tmpdir(), 'berth-credhelpers-'));
  helpers = join(base, 'helpers');
  defaults = join(base, 'defaults');
  await fsp.mkdir(helpers);
  await fsp.mkdir(defaults);
  await fsp.writeFile(join(helpers, 'docker-credential-berthtest'), FAKE_HELPER, { mode: 0o755 });
  await fsp.writeFile(join(helpers, 'docker-credential-broken'), BROKEN_HELPER, { mode: 0o755 });
  for (const name of ['pass', 'secretservice']) await fsp.writeFile(join(defaults, `docker-credential-${name}`), FAKE_HELPER, { mode: 0o755 });
  assert.equal((await d.docker(['tag', 'busybox', `${reg.host}/helped:1`])).code, 0);
});

after(async () => {
  await d?.cleanup();
  await reg?.stop();
  if (base) await fsp.rm(base, { recursive: true, force: true });
});

/** One CLI with its own config dir, the helpers on its PATH, and the helpers' store. */
function cli(which: 'docker' | 'berth', config: string, pathDir = helpers) {
  const env = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: config, PATH: `${pathDir}:${process.env.PATH}`, BERTHTEST_STORE: join(config, 'helper-store') };
  const bin = which === 'docker' ? 'docker' : join(REPO, 'bin', 'berth');
  return (args: string[], input?: string) => run(bin, args, { env, input, timeoutMs: 120_000 });
}

async function configDir(name: string, doc?: unknown): Promise<string> {
  const dir = join(base, name);
  await fsp.mkdir(dir, { recursive: true });
  if (doc !== undefined) await fsp.writeFile(join(dir, 'config.json'), JSON.stringify(doc));
  return dir;
}

const readConfig = async (dir: string) => JSON.parse(await fsp.readFile(join(dir, 'config.json'), 'utf8'));
const stored = async (dir: string, server: string) => {
  const f = join(dir, 'helper-store', Buffer.from(server).toString('base64').replace(/\//g, '_').replace(/\+/g, '-'));
  return existsSync(f) ? await fsp.readFile(f, 'utf8') : undefined;
};
const berthOut = (s: string) => s.replace(/berth/g, 'docker');

test('credsStore: the password goes to the helper and config.json keeps an empty entry, as with docker; push uses it; logout erases it', async () => {
  const bdir = await configDir('store-berth', { credsStore: 'berthtest' });
  const ddir = await configDir('store-docker', { credsStore: 'berthtest' });
  const berth = cli('berth', bdir);
  const docker = cli('docker', ddir);

  const bl = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  const dl = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.deepEqual([bl.code, bl.stdout, bl.stderr], [0, 'Login Succeeded\n', ''], 'no unencrypted-password warning');
  assert.deepEqual([bl.code, bl.stdout, bl.stderr], [dl.code, dl.stdout, dl.stderr]);
  assert.deepEqual(await readConfig(bdir), { auths: { [reg.host]: {} }, credsStore: 'berthtest' });
  assert.deepEqual(await readConfig(bdir), await readConfig(ddir));
  // The helper got exactly what docker's CLI gives it.
  assert.deepEqual(JSON.parse((await stored(bdir, reg.host))!), { ServerURL: reg.host, Username: 'alice', Secret: 'secret-pw' });
  assert.equal(await stored(bdir, reg.host), await stored(ddir, reg.host));

  // Without -u: the stored login is found through the helper.
  const again = await berth(['login', reg.host]);
  const dagain = await docker(['login', reg.host]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual([again.stdout, again.stderr], [dagain.stdout, dagain.stderr]);
  assert.match(again.stderr, /Authenticating with existing credentials\.\.\. \[Username: alice\]/);

  const push = await berth(['push', `${reg.host}/helped:1`]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64}/);

  const lo = await berth(['logout', reg.host]);
  const dlo = await docker(['logout', reg.host]);
  assert.deepEqual([lo.code, lo.stdout, lo.stderr], [dlo.code, dlo.stdout, dlo.stderr]);
  assert.equal(await stored(bdir, reg.host), undefined);
  assert.deepEqual((await readConfig(bdir)).auths, {});
  const denied = await berth(['push', `${reg.host}/helped:1`]);
  assert.deepEqual([denied.code, denied.stderr], [1, 'no basic auth credentials\n']);
});

test('credHelpers choose the helper per registry; a failing helper fails login and logout with docker\'s texts, and a push goes without credentials', async () => {
  const doc = { credsStore: 'berthtest', credHelpers: { [reg.host]: 'broken' } };
  const berth = cli('berth', await configDir('broken-berth', doc));
  const docker = cli('docker', await configDir('broken-docker', doc));
  const bl = await berth(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  const dl = await docker(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.equal(bl.code, 1);
  assert.match(bl.stderr, /error storing credentials - err: exit status 3, out: `the keychain is locked`/);
  assert.deepEqual([bl.code, bl.stdout, berthOut(bl.stderr)], [dl.code, dl.stdout, dl.stderr]);

  const bp = await berth(['push', `${reg.host}/helped:1`]);
  const dp = await docker(['push', `${reg.host}/helped:1`]);
  // docker 28 goes on without credentials when the helper fails.
  assert.deepEqual([bp.code, bp.stderr], [1, 'no basic auth credentials\n']);
  assert.deepEqual([bp.code, bp.stdout, berthOut(bp.stderr)], [dp.code, dp.stdout, dp.stderr]);

  // Logout: the registry's own key fails, the http(s):// keys go to credsStore and succeed.
  const lo = await berth(['logout', reg.host]);
  const dlo = await docker(['logout', reg.host]);
  assert.deepEqual([lo.code, lo.stdout, lo.stderr], [dlo.code, dlo.stdout, dlo.stderr]);

  // A helper that is not installed.
  const missing = cli('berth', await configDir('missing-berth', { credsStore: 'nowhere' }));
  const dmissing = cli('docker', await configDir('missing-docker', { credsStore: 'nowhere' }));
  const ml = await missing(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  const dml = await dmissing(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.match(ml.stderr, /executable file not found in \$PATH/);
  assert.deepEqual([ml.code, ml.stdout, berthOut(ml.stderr)], [dml.code, dml.stdout, dml.stderr]);
  // Logout: docker warns only when its failures (by key) are as many as the keys it tried,
  // which with a bare host name (tried twice) they never are; with a path they are (one line
  // per key, in docker's random map order).
  for (const server of [reg.host, `${reg.host}/some/path`]) {
    const mlo = await missing(['logout', server]);
    const dmlo = await dmissing(['logout', server]);
    assert.deepEqual([mlo.code, mlo.stdout], [dmlo.code, dmlo.stdout]);
    assert.deepEqual(mlo.stderr.split('\n').sort(), dmlo.stderr.split('\n').sort());
  }
  const warned = await missing(['logout', `${reg.host}/some/path`]);
  assert.match(warned.stderr, /^WARNING: could not erase credentials:\n/);
});

test('with no login yet, the platform\'s helper on the PATH takes the first one and is written to config.json, as docker does', async () => {
  const bdir = await configDir('default-berth');
  const ddir = await configDir('default-docker');
  const bl = await cli('berth', bdir, defaults)(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  const dl = await cli('docker', ddir, defaults)(['login', '-u', 'alice', '--password-stdin', reg.host], 'secret-pw\n');
  assert.deepEqual([bl.code, bl.stdout, bl.stderr], [dl.code, dl.stdout, dl.stderr]);
  const expected = existsSync('/usr/bin/pass') ? 'pass' : 'secretservice';
  assert.deepEqual(await readConfig(bdir), { auths: { [reg.host]: {} }, credsStore: expected });
  assert.deepEqual(await readConfig(bdir), await readConfig(ddir));
  assert.ok(await stored(bdir, reg.host));
});
