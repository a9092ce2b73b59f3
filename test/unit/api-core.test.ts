// Version negotiation, routing and the create-time merge of image defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitVersion, compareVersions } from '../../src/api/version.ts';
import { Router } from '../../src/api/router.ts';
import { mergeImageDefaults, commandOf, normalizeHostConfig } from '../../src/container/create-config.ts';
import { validateName, randomName } from '../../src/container/names.ts';
import { EngineError } from '../../src/util/errors.ts';
import { humanDuration, rfc3339Nano, parseRfc3339, rfc3339NanoFixed } from '../../src/util/time.ts';
import { parseDaemonArgs, UsageError } from '../../src/daemon/config.ts';

test('API versions: prefixes, bounds and dockerd messages', () => {
  assert.deepEqual(splitVersion('/v1.43/containers/json'), { version: '1.43', path: '/containers/json' });
  assert.deepEqual(splitVersion('/containers/json'), { version: '1.50', path: '/containers/json' });
  assert.throws(() => splitVersion('/v1.51/info'), (e: EngineError) => e.status === 400 && e.message === 'client version 1.51 is too new. Maximum supported API version is 1.50');
  assert.throws(() => splitVersion('/v1.12/info'), /client version 1.12 is too old/);
  assert.ok(compareVersions('1.9', '1.10') < 0);
  assert.equal(compareVersions('1.50', '1.50'), 0);
});

test('router: segments, rest-of-path params, HEAD falls back to GET', () => {
  const r = new Router();
  const h = () => undefined;
  r.add('GET', '/containers/{name}/json', h);
  r.add('GET', '/images/{name:*}/json', h);
  const m = r.match('GET', '/images/example.com/team/app:1/json');
  assert.ok(m.handler);
  assert.equal((m as { params: Record<string, string> }).params.name, 'example.com/team/app:1');
  assert.ok(r.match('HEAD', '/containers/abc/json').handler);
  const miss = r.match('POST', '/containers/abc/json');
  assert.equal(miss.handler, undefined);
  assert.equal((miss as { pathExists: boolean }).pathExists, true);
});

test('image defaults merge as dockerd merges them', () => {
  const image = { Env: ['PATH=/bin', 'A=image'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/srv', User: 'daemon', Labels: { a: 'image', b: 'image' } };
  const c = mergeImageDefaults({ Env: ['A=user'], Labels: { b: 'user' } }, image);
  assert.deepEqual(c.Env, ['A=user', 'PATH=/bin']);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'daemon');
  assert.deepEqual(c.Labels, { a: 'image', b: 'user' });
  // A user entrypoint drops the image's Cmd; `--entrypoint ""` clears the image's entrypoint.
  const ep = mergeImageDefaults({ Entrypoint: ['echo'] }, { Cmd: ['sh'], Entrypoint: ['/init'] });
  assert.deepEqual(commandOf(ep), { path: 'echo', args: [] });
  const cleared = mergeImageDefaults({ Entrypoint: [''], Cmd: ['ls', '-l'] }, { Entrypoint: ['/init'] });
  assert.deepEqual(commandOf(cleared), { path: 'ls', args: ['-l'] });
  // The API accepts a bare string for Cmd.
  assert.deepEqual(commandOf(mergeImageDefaults({ Cmd: 'true' }, {})), { path: 'true', args: [] });
  assert.throws(() => commandOf(mergeImageDefaults({}, {})), /no command specified/);
});

test('host config defaults and refusals', () => {
  const hc = normalizeHostConfig({});
  assert.equal(hc.NetworkMode, 'bridge');
  assert.equal(hc.ShmSize, 64 * 1024 * 1024);
  assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.throws(() => normalizeHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), /can't create 'AutoRemove' container with restart policy/);
  assert.throws(() => normalizeHostConfig({ RestartPolicy: { Name: 'sometimes' as never } }), /invalid restart policy/);
  assert.throws(() => normalizeHostConfig({ ShmSize: -1 }), /SHM size can not be less than 0/);
});

test('container names: Docker\'s rule and generated names', () => {
  assert.equal(validateName('web-1'), '/web-1');
  assert.equal(validateName('/web_1.a'), '/web_1.a');
  assert.throws(() => validateName('-bad'), /Invalid container name \(-bad\)/);
  assert.throws(() => validateName('a'), /Invalid container name/);
  assert.match(randomName(), /^[a-z]+_[a-z]+$/);
});

test('time formats: RFC3339Nano, fixed nanos, human durations', () => {
  assert.match(rfc3339Nano(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  assert.match(rfc3339NanoFixed(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(parseRfc3339('2026-11-23T22:42:38.123456789Z') % 1_000_000_000n, 123456789n);
  assert.equal(rfc3339Nano(parseRfc3339('2026-11-23T22:42:38.5Z')), '2026-11-23T22:42:38.5Z');
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1999), '1 second');
  assert.equal(humanDuration(45_000), '45 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(5 * 60_000), '5 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3_600_000), '5 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
});

test('daemon flags: dockerd names, defaults, refusals', () => {
  const c = parseDaemonArgs(['--data-root', '/d', '--exec-root=/x', '-H', '/tmp/s.sock', '--runtime', 'runc', '--config-file', '/nonexistent.json']);
  assert.ok(typeof c === 'object');
  assert.equal(c.dataRoot, '/d');
  assert.equal(c.execRoot, '/x');
  assert.deepEqual(c.hosts, ['unix:///tmp/s.sock']);
  assert.equal(c.defaultRuntime, 'runc');
  const d = parseDaemonArgs(['--config-file', '/nonexistent.json']);
  assert.ok(typeof d === 'object');
  assert.equal(d.dataRoot, '/var/lib/berth');
  assert.deepEqual(d.hosts, ['unix:///run/berth/berth.sock']);
  assert.throws(() => parseDaemonArgs(['--bogus']), UsageError);
  assert.throws(() => parseDaemonArgs(['--exec-root', '/' + 'x'.repeat(100), '--config-file', '/nonexistent.json']), /too long/);
  assert.equal(parseDaemonArgs(['--help']), 'help');
});

test('create merges a partial health check with the image\'s, field by field (dockerd)', () => {
  const image = { Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, Retries: 3 } };
  const c = mergeImageDefaults({ Image: 'x', Healthcheck: { Interval: 5e9 } } as never, image);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 });
  assert.deepEqual(mergeImageDefaults({ Image: 'x' } as never, image).Healthcheck, image.Healthcheck);
  const none = { Test: ['NONE'] };
  assert.deepEqual(mergeImageDefaults({ Image: 'x', Healthcheck: none } as never, image).Healthcheck, { ...none, Interval: 30e9, Retries: 3 });
});
