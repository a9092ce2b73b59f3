// htpasswd bcrypt authentication: our bcrypt against hashes made by Debian's
// `htpasswd -B` (apache2-utils, installed by scripts/setup.sh) and the OpenBSD test
// vectors, the htpasswd file format, and the Basic challenge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { bcryptHash, bcryptVerify, piFraction } from '../../src/registry/server/bcrypt.ts';
import { BasicAuth, parseBasic, parseHtpasswd } from '../../src/registry/server/auth.ts';
import type { RegistryError } from '../../src/registry/server/errors.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

test("Blowfish's constants computed from pi match the published ones", () => {
  const w = piFraction();
  // P[0], P[17], S0[0], S3[255] as printed in Schneier's reference code.
  assert.deepEqual([w[0], w[17], w[18], w[1041]].map((x) => x.toString(16)), ['243f6a88', '8979fb1b', 'd1310ba6', '3ac372e6']);
});

test('bcrypt: OpenBSD test vectors', () => {
  assert.equal(bcryptVerify('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'), true);
  assert.equal(bcryptVerify('', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'), true);
  assert.equal(bcryptVerify('U*V', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'), false);
  assert.equal(bcryptVerify('x', 'not a hash'), false);
  const salt = Buffer.alloc(16, 7);
  assert.equal(bcryptVerify('pw', bcryptHash('pw', 4, salt)), true);
});

test('bcrypt: hashes written by htpasswd -B verify, wrong passwords do not', () => {
  for (const password of ['s3cret', 'pässwörd with spaces', 'x'.repeat(80)]) {
    const line = execFileSync('htpasswd', ['-nbB', '-C', '5', 'alice', password], { encoding: 'utf8' }).trim();
    const hash = line.slice('alice:'.length);
    assert.match(hash, /^\$2y\$05\$/);
    assert.equal(bcryptVerify(password, hash), true, password);
    assert.equal(bcryptVerify(password + '!', hash), password.length >= 72, `${password}!`); // bcrypt reads 72 bytes at most
    assert.equal(bcryptVerify('', hash), false);
  }
});

test('htpasswd files: bcrypt entries only, comments and blank lines skipped', () => {
  const users = parseHtpasswd('# users\n\nalice:$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW\n');
  assert.deepEqual([...users.keys()], ['alice']);
  assert.throws(() => parseHtpasswd('bob:$apr1$abc$def\n', 'f'), /f:1: only bcrypt/);
  assert.throws(() => parseHtpasswd('nocolon\n', 'f'), /f:1: expected user:hash/);
});

test('Basic auth: a challenge without or with wrong credentials, the user with right ones', () => {
  assert.deepEqual(parseBasic(basic('u', 'p:q')), { user: 'u', password: 'p:q' });
  assert.equal(parseBasic('Bearer x'), undefined);
  const auth = new BasicAuth(new Map([['alice', bcryptHash('s3cret', 4, Buffer.alloc(16, 1))]]), 'my "realm"');
  const unauthorized = (e: RegistryError) => e.code === 'UNAUTHORIZED' && e.status === 401 && e.headers['WWW-Authenticate'] === 'Basic realm="my realm"';
  assert.throws(() => auth.check(undefined), unauthorized);
  assert.throws(() => auth.check(basic('alice', 'wrong')), unauthorized);
  assert.throws(() => auth.check(basic('bob', 's3cret')), unauthorized);
  assert.equal(auth.check(basic('alice', 's3cret')), 'alice');
  // The second time comes from the cache, and a wrong password is still refused after it.
  assert.equal(auth.check(basic('alice', 's3cret')), 'alice');
  assert.throws(() => auth.check(basic('alice', 's3cret2')), unauthorized);
});

test('too many failed logins from one address: 429 TOOMANYREQUESTS until the minute is over', () => {
  let now = 1_000_000;
  const auth = new BasicAuth(new Map([['alice', bcryptHash('s3cret', 4, Buffer.alloc(16, 2))]]), 'r', 3, () => now);
  for (let i = 0; i < 3; i++) assert.throws(() => auth.check(basic('alice', `guess${i}`), '10.0.0.1'), (e: RegistryError) => e.code === 'UNAUTHORIZED');
  const limited = (e: RegistryError) => e.code === 'TOOMANYREQUESTS' && e.status === 429 && e.headers['Retry-After'] === '60';
  assert.throws(() => auth.check(basic('alice', 's3cret'), '10.0.0.1'), limited);
  // Another address is not affected.
  assert.equal(auth.check(basic('alice', 's3cret'), '10.0.0.2'), 'alice');
  now += 60_000;
  assert.equal(auth.check(basic('alice', 's3cret'), '10.0.0.1'), 'alice');
});
