// Logging options as dockerd checks them: names at create, values when the driver starts,
// the daemon's default, where the log lives, the attributes json-file records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  daemonLogConfigProblem,
  encodeAttrs,
  logAttrs,
  logFileOf,
  logOptsProblem,
  logPathFor,
  logWriterSettings,
  openLogReader,
  parseSize,
  resolveLogConfig,
  type LogConfig,
} from '../../src/container/log-config.ts';
import { EngineError } from '../../src/util/errors.ts';

const JSON_DEFAULT: LogConfig = { Type: 'json-file', Config: {} };

test('resolveLogConfig: the daemon default fills in what the request leaves out', () => {
  assert.deepEqual(resolveLogConfig(undefined, JSON_DEFAULT), { Type: 'json-file', Config: {} });
  assert.deepEqual(resolveLogConfig({ Type: '', Config: null }, { Type: 'local', Config: {} }), { Type: 'local', Config: {} });
  // The daemon's options apply only under the daemon's driver, and under the user's own.
  const dflt: LogConfig = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };
  assert.deepEqual(resolveLogConfig({ Type: 'json-file', Config: { 'max-file': '5' } }, dflt), {
    Type: 'json-file',
    Config: { 'max-file': '5', 'max-size': '10m' },
  });
  assert.deepEqual(resolveLogConfig({ Type: 'local', Config: {} }, dflt), { Type: 'local', Config: {} });
  // What is stored is what was asked: no driver defaults filled in (local's 20m stays implicit).
  assert.deepEqual(resolveLogConfig({ Type: 'local', Config: { compress: 'false' } }, JSON_DEFAULT), { Type: 'local', Config: { compress: 'false' } });
  const requested = { Type: 'json-file', Config: { 'max-size': '1m' } };
  resolveLogConfig(requested, dflt);
  assert.deepEqual(requested.Config, { 'max-size': '1m' }, 'the request is not modified');
});

test("option names and drivers are refused at create with Docker's messages", () => {
  const refuse = (cfg: { Type?: string; Config?: Record<string, string> }, message: string) =>
    assert.throws(() => resolveLogConfig(cfg, JSON_DEFAULT), (err: unknown) => err instanceof EngineError && err.status === 400 && err.message === message);
  refuse({ Type: 'syslogx' }, "logger: no log driver named 'syslogx' is registered");
  refuse({ Type: 'json-file', Config: { 'max-sise': '1m' } }, "unknown log opt 'max-sise' for json-file log driver");
  refuse({ Config: { bogus: 'x' } }, "unknown log opt 'bogus' for json-file log driver");
  refuse({ Type: 'local', Config: { labels: 'a' } }, "unknown log opt 'labels' for log driver local");
  refuse({ Type: 'json-file', Config: { mode: 'fast' } }, 'logger: logging mode not supported: fast');
  refuse({ Type: 'json-file', Config: { 'max-buffer-size': '4m' } }, "logger: max-buffer-size option is only supported with 'mode=non-blocking'");
  refuse({ Type: 'json-file', Config: { mode: 'non-blocking', 'max-buffer-size': '4q' } }, "error parsing option max-buffer-size: invalid suffix: 'q'");
  refuse({ Type: 'local', Config: { 'cache-disabled': 'maybe' } }, 'invalid value for option cache-disabled: maybe');
  // Values are the driver's business, when it starts: create takes them.
  assert.doesNotThrow(() => resolveLogConfig({ Type: 'json-file', Config: { 'max-size': 'lots' } }, JSON_DEFAULT));
  for (const key of ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'cache-max-size']) {
    assert.equal(logOptsProblem('json-file', { [key]: key === 'mode' ? 'blocking' : '1' }), undefined, key);
  }
  // none takes anything, as Docker's does.
  assert.deepEqual(resolveLogConfig({ Type: 'none', Config: { whatever: '1' } }, JSON_DEFAULT), { Type: 'none', Config: { whatever: '1' } });
});

test("option values: Docker's defaults, units and messages when the driver starts", () => {
  const settings = (Type: string, Config: Record<string, string>) => logWriterSettings({ Type, Config });
  const fails = (Type: string, Config: Record<string, string>, message: string) => assert.throws(() => settings(Type, Config), { message });
  assert.deepEqual(settings('json-file', {}), { driver: 'json-file', maxSize: -1, maxFile: 1, compress: false });
  assert.deepEqual(logWriterSettings(undefined), { driver: 'json-file', maxSize: -1, maxFile: 1, compress: false });
  assert.equal(settings('none', {}), undefined);
  // go-units FromHumanSize: decimal units.
  assert.deepEqual(settings('json-file', { 'max-size': '10k', 'max-file': '3', compress: 'true' }), { driver: 'json-file', maxSize: 10_000, maxFile: 3, compress: true });
  assert.equal(settings('json-file', { 'max-size': '1.5MB' })!.maxSize, 1_500_000);
  assert.equal(settings('json-file', { 'max-size': '2g' })!.maxSize, 2_000_000_000);
  assert.equal(settings('json-file', { 'max-size': '512' })!.maxSize, 512);
  fails('json-file', { 'max-size': '-1' }, "invalid size: '-1'");
  fails('json-file', { 'max-size': 'lots' }, "invalid size: 'lots'");
  fails('json-file', { 'max-size': '10x' }, "invalid suffix: 'x'");
  fails('json-file', { 'max-size': '0' }, 'max-size must be a positive number');
  fails('json-file', { 'max-file': '0' }, 'max-file cannot be less than 1');
  fails('json-file', { 'max-file': 'two' }, 'strconv.Atoi: parsing "two": invalid syntax');
  fails('json-file', { compress: 'yes' }, 'strconv.ParseBool: parsing "yes": invalid syntax');
  fails('json-file', { compress: 'true' }, 'compress cannot be true when max-file is less than 2 or max-size is not set');
  fails('json-file', { 'max-size': '1m', compress: 'true' }, 'compress cannot be true when max-file is less than 2 or max-size is not set');
  // local: 20 MiB, five files, compressed, unless told otherwise.
  assert.deepEqual(settings('local', {}), { driver: 'local', maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true });
  assert.deepEqual(settings('local', { 'max-size': '1m', 'max-file': '1', compress: 'false' }), { driver: 'local', maxSize: 1_000_000, maxFile: 1, compress: false });
  fails('local', { 'max-file': '1' }, 'compression cannot be enabled when max file count is 1');
  fails('local', { 'max-file': '-1' }, 'max file count cannot be less than 0');
  fails('local', { 'max-size': 'big' }, "invalid value for max-size: big: invalid size: 'big'");
  fails('local', { 'max-file': 'x' }, 'invalid value for max-file: x: strconv.Atoi: parsing "x": invalid syntax');
  fails('local', { compress: 'nope' }, 'error reading compress log option: strconv.ParseBool: parsing "nope": invalid syntax');
});

test("go-units' size parser", () => {
  assert.equal(parseSize('32'), 32);
  assert.equal(parseSize('32b'), 32);
  assert.equal(parseSize('32 KB'), 32_000);
  assert.equal(parseSize('32kib'), 32_000);
  assert.equal(parseSize('0.5m'), 500_000);
  assert.equal(parseSize('1e3'), 1000);
  assert.equal(parseSize('32bb'), "invalid suffix: 'bb'");
  assert.equal(parseSize('32kbx'), "invalid suffix: 'kbx'");
  assert.equal(parseSize('32Kibs'), "invalid suffix: 'Kibs'");
  assert.equal(parseSize(''), "invalid size: ''");
  assert.equal(parseSize('1.2.3k'), 'strconv.ParseFloat: parsing "1.2.3": invalid syntax');
});

test('logPathFor: where each driver keeps the log', () => {
  assert.equal(logPathFor('/d/c', 'abc', { Type: 'json-file', Config: {} }), '/d/c/abc-json.log');
  assert.equal(logPathFor('/d/c', 'abc', { Type: '', Config: {} }), '/d/c/abc-json.log');
  assert.equal(logPathFor('/d/c', 'abc', { Type: 'local', Config: {} }), '/d/c/local-logs/container.log');
  assert.equal(logPathFor('/d/c', 'abc', { Type: 'none', Config: {} }), '');
});

test('logAttrs: labels, env and the tag a json-file entry carries', () => {
  const labels = { 'com.example.team': 'core', 'com.example.tier': 'web', other: 'x' };
  const env = ['PATH=/bin', 'STAGE=prod', 'REGION=eu', 'NOVALUE'];
  const cfg = (Config: Record<string, string>): LogConfig => ({ Type: 'json-file', Config });
  assert.deepEqual(logAttrs(cfg({}), labels, env), {});
  assert.deepEqual(logAttrs(cfg({ labels: 'other,missing' }), labels, env), { other: 'x' });
  assert.deepEqual(logAttrs(cfg({ 'labels-regex': '^com\\.example\\.' }), labels, env), { 'com.example.team': 'core', 'com.example.tier': 'web' });
  assert.deepEqual(logAttrs(cfg({ env: 'STAGE,NOVALUE', 'env-regex': '^REG' }), labels, env), { STAGE: 'prod', REGION: 'eu' });
  const info = { id: 'f'.repeat(64), name: '/web', imageId: 'sha256:' + 'a'.repeat(64), imageName: 'busybox', entrypoint: 'sh', args: ['-c', 'true'], created: '2026-01-01T00:00:00Z' };
  assert.deepEqual(logAttrs(cfg({ tag: '{{.Name}}/{{.ID}}/{{.ImageName}}/{{.ImageID}}/{{.Command}}' }), labels, env, info), {
    tag: `web/${'f'.repeat(12)}/busybox/sha256:aaaaa/sh -c true`,
  });
  assert.deepEqual(logAttrs(cfg({ tag: '' }), labels, env, info), {});
  assert.throws(() => logAttrs(cfg({ 'labels-regex': '(' }), labels, env), /^Error: error parsing regexp: /);
  assert.equal(encodeAttrs({ z: '1', a: '<&>' }), '{"a":"\\u003c\\u0026\\u003e","z":"1"}');
});

test('openLogReader: none cannot be read, with 501 as Docker says it, before anything streams', () => {
  const opts = { stdout: true, stderr: true, since: 0n, until: 0n, tail: -1, follow: false, running: () => false };
  assert.throws(
    () => openLogReader({ LogPath: '', HostConfig: { LogConfig: { Type: 'none', Config: {} } } }, opts),
    (err: unknown) => err instanceof EngineError && err.status === 501 && err.message === 'configured logging driver does not support reading',
  );
  assert.equal(typeof openLogReader({ LogPath: '/nonexistent/x-json.log', HostConfig: {} }, opts).next, 'function');
});

test('daemon defaults are checked whole: names and values', () => {
  assert.equal(daemonLogConfigProblem({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }), undefined);
  assert.equal(daemonLogConfigProblem({ Type: 'local', Config: {} }), undefined);
  assert.equal(daemonLogConfigProblem({ Type: 'none', Config: {} }), undefined);
  assert.equal(daemonLogConfigProblem({ Type: 'fluent', Config: {} }), "logger: no log driver named 'fluent' is registered");
  assert.equal(daemonLogConfigProblem({ Type: 'json-file', Config: { 'max-size': 'huge' } }), "invalid size: 'huge'");
  assert.equal(daemonLogConfigProblem({ Type: 'json-file', Config: { 'max-files': '2' } }), "unknown log opt 'max-files' for json-file log driver");
});

test('berthd --log-driver/--log-opt and daemon.json log-driver/log-opts make the default', async (t) => {
  const { parseDaemonArgs, UsageError } = await import('../../src/daemon/config.ts');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'berth-logcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'daemon.json');
  const parse = (...args: string[]) => parseDaemonArgs(['--config-file', file, ...args]) as { logDefault: LogConfig };
  assert.deepEqual(parse().logDefault, { Type: 'json-file', Config: {} });
  assert.deepEqual(parse('--log-driver', 'local', '--log-opt', 'max-size=5m', '--log-opt=max-file=2').logDefault, { Type: 'local', Config: { 'max-size': '5m', 'max-file': '2' } });
  await writeFile(file, JSON.stringify({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } }));
  assert.deepEqual(parse().logDefault, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.deepEqual(parse('--log-driver', 'none').logDefault, { Type: 'none', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.throws(() => parse('--log-opt', 'novalue'), UsageError);
  assert.throws(() => parse('--log-driver', 'splunkish'), { message: "failed to set log opts: logger: no log driver named 'splunkish' is registered" });
  await writeFile(file, JSON.stringify({ 'log-opts': { 'max-size': '-5' } }));
  assert.throws(() => parse(), { message: "failed to set log opts: invalid size: '-5'" });
});

test('logFileOf: a local log is found even when LogPath is kept empty, as Docker keeps it', () => {
  const local = { LogConfig: { Type: 'local', Config: {} } };
  assert.equal(logFileOf({ LogPath: '', HostsPath: '/d/c/abc/hosts', HostConfig: local }), '/d/c/abc/local-logs/container.log');
  assert.equal(logFileOf({ LogPath: '/x/y.log', HostsPath: '/d/c/abc/hosts', HostConfig: local }), '/x/y.log');
  assert.equal(logFileOf({ LogPath: '', HostsPath: '/d/c/abc/hosts', HostConfig: { LogConfig: { Type: 'none' } } }), '');
});
