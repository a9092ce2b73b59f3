// Docker's reference grammar: valid and invalid names, normalization, familiar forms and
// error texts, from distribution/reference's own test tables; plus Go path.Match globs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  familiarName, familiarString, familiarize, isDigestRef, isFullId, isIdPrefix, isNameOnly, normalize, parseExact,
  parseReference, referenceString, repoTagReference, withDefaultTag,
} from '../../src/image/reference.ts';
import { globMatch } from '../../src/image/glob.ts';

const HEX = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';
const DIGEST = `sha256:${HEX}`;

test('normalizes familiar names as Docker does', () => {
  const cases: [string, string, string][] = [
    // input, full normalized (default tag added), familiar string of the parsed ref
    ['busybox', 'docker.io/library/busybox:latest', 'busybox'],
    ['debian', 'docker.io/library/debian:latest', 'debian'],
    ['library/debian', 'docker.io/library/debian:latest', 'debian'],
    ['docker/docker', 'docker.io/docker/docker:latest', 'docker/docker'],
    ['user/app:1.0', 'docker.io/user/app:1.0', 'user/app:1.0'],
    ['docker.io/docker/docker', 'docker.io/docker/docker:latest', 'docker/docker'],
    ['docker.io/library/debian', 'docker.io/library/debian:latest', 'debian'],
    ['docker.io/debian', 'docker.io/library/debian:latest', 'debian'],
    ['index.docker.io/docker/docker', 'docker.io/docker/docker:latest', 'docker/docker'],
    ['index.docker.io/library/debian', 'docker.io/library/debian:latest', 'debian'],
    ['index.docker.io/debian', 'docker.io/library/debian:latest', 'debian'],
    ['127.0.0.1:5000/docker/docker', '127.0.0.1:5000/docker/docker:latest', '127.0.0.1:5000/docker/docker'],
    ['127.0.0.1:5000/library/debian', '127.0.0.1:5000/library/debian:latest', '127.0.0.1:5000/library/debian'],
    ['127.0.0.1:5000/debian', '127.0.0.1:5000/debian:latest', '127.0.0.1:5000/debian'],
    ['192.168.0.1/debian', '192.168.0.1/debian:latest', '192.168.0.1/debian'],
    ['localhost:5000/app', 'localhost:5000/app:latest', 'localhost:5000/app'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app'],
    ['[2001:db8::1]:5000/repo', '[2001:db8::1]:5000/repo:latest', '[2001:db8::1]:5000/repo'],
    ['Example.com/app', 'Example.com/app:latest', 'Example.com/app'],
    ['docker.io/library/foo/bar', 'docker.io/library/foo/bar:latest', 'library/foo/bar'],
    [`docker.io/${HEX}`, `docker.io/library/${HEX}:latest`, HEX],
    ['a.b-c_d/e__f---g.h:Tag_1.0-x', 'a.b-c_d/e__f---g.h:Tag_1.0-x', 'a.b-c_d/e__f---g.h:Tag_1.0-x'],
    [`registry.example.com/a/b@${DIGEST}`, `registry.example.com/a/b@${DIGEST}`, `registry.example.com/a/b@${DIGEST}`],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`busybox:1.36@${DIGEST}`, `docker.io/library/busybox:1.36@${DIGEST}`, `busybox:1.36@${DIGEST}`],
  ];
  for (const [input, full, familiar] of cases) {
    assert.equal(normalize(input), full, input);
    assert.equal(familiarString(parseReference(input)), familiar, input);
  }
});

test('splits domain, path, tag and digest', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('localhost:5000/app:v2'), { domain: 'localhost:5000', path: 'app', tag: 'v2' });
  assert.deepEqual(parseReference(`registry.example.com/a/b@${DIGEST}`), { domain: 'registry.example.com', path: 'a/b', digest: DIGEST });
  assert.deepEqual(parseExact('busybox:1'), { domain: '', path: 'busybox', tag: '1' });
  assert.equal(isDigestRef(parseReference(`a@${DIGEST}`)), true);
  assert.equal(isDigestRef(parseReference('a:1')), false);
  assert.equal(isNameOnly(parseReference('a')), true);
  assert.equal(isNameOnly(parseReference('a:b')), false);
  assert.equal(referenceString(withDefaultTag(parseReference(`a@${DIGEST}`))), `docker.io/library/a@${DIGEST}`);
});

test('rejects invalid references with Docker\'s messages', () => {
  const cases: [string, string][] = [
    ['', 'invalid reference format'],
    ['https://github.com/docker/docker', 'invalid reference format'],
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['docker.io/docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['-docker', 'invalid reference format'],
    ['-docker/docker', 'invalid reference format'],
    ['docker///docker', 'invalid reference format'],
    ['docker.io/docker///docker', 'invalid reference format'],
    ['a b', 'invalid reference format'],
    ['foo:bar:baz', 'invalid reference format'],
    ['busybox:', 'invalid reference format'],
    ['busybox:-tag', 'invalid reference format'],
    [`busybox:${'a'.repeat(129)}`, 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${'a'.repeat(32)}`, 'invalid checksum digest length'],
    [`busybox@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
    [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
    [`a/${'b'.repeat(255)}`, 'repository name must not be more than 255 characters'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseReference(input), (err: Error & { status?: number }) => {
      assert.equal(err.message, message, JSON.stringify(input));
      assert.equal(err.status, 400);
      return true;
    });
  }
  assert.throws(() => parseExact(''), /repository name must have at least one component/);
  assert.throws(() => parseExact('Foo'), /^Error: repository name must be lowercase$/);
});

test('familiar forms for display', () => {
  assert.equal(familiarName(parseReference('docker.io/library/busybox')), 'busybox');
  assert.equal(familiarName(parseReference('docker.io/user/app')), 'user/app');
  assert.equal(familiarName(parseReference('quay.io/library/x')), 'quay.io/library/x');
  assert.equal(familiarize('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarize(`docker.io/user/app@${DIGEST}`), `user/app@${DIGEST}`);
});

test('ids and id prefixes', () => {
  assert.equal(isFullId(HEX), true);
  assert.equal(isFullId(DIGEST), true);
  assert.equal(isFullId(HEX.slice(1)), false);
  assert.equal(isIdPrefix('1a3f'), true);
  assert.equal(isIdPrefix('sha256:1a3f'), true);
  assert.equal(isIdPrefix('busybox'), false);
  assert.equal(isIdPrefix('1A3F'), false);
});

test('repo and tag form values combine as the tag/import endpoints do', () => {
  assert.equal(repoTagReference('', 'x'), undefined);
  assert.equal(referenceString(repoTagReference('myapp', '')!), 'docker.io/library/myapp:latest');
  assert.equal(referenceString(repoTagReference('myapp', 'v1')!), 'docker.io/library/myapp:v1');
  assert.throws(() => repoTagReference(`myapp@${DIGEST}`, ''), /cannot import digest reference/);
  assert.throws(() => repoTagReference('myapp', 'bad tag'), /invalid tag format/);
});

test('glob patterns match as Go path.Match', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a/b', false],
    ['busy*', 'busybox:latest', true],
    ['*/app', 'user/app', true],
    ['*', 'user/app', false],
  ];
  for (const [p, s, want] of cases) assert.equal(globMatch(p, s), want, `${p} ~ ${s}`);
  for (const bad of ['[', 'a\\', '[]a]', '[-]', '[x-]', 'a[']) {
    assert.throws(() => globMatch(bad, 'a'), /syntax error in pattern/, bad);
  }
});
