// Flag parsing (pflag's rules and messages) and the run/create flags turned into the
// container create body, checked against what docker's CLI sends for the same flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagError, FlagSet, HelpRequested } from '../../src/cli/flags.ts';
import { addContainerFlags } from '../../src/cli/opts/container-flags.ts';
import { buildContainerConfig, createBody, dedupEnv } from '../../src/cli/opts/container-config.ts';
import { parsePortSpecs } from '../../src/cli/opts/ports.ts';
import { parseVolume } from '../../src/cli/opts/volumes.ts';
import { parseMount } from '../../src/cli/opts/mounts.ts';
import { parseCPUs, parseUlimit } from '../../src/cli/opts/misc.ts';
import { parseGoDuration } from '../../src/cli/opts/duration.ts';
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../../src/cli/reference.ts';
import { flagUsages } from '../../src/cli/help.ts';

test('pflag rules: long/short forms, combined booleans, "--", stopping at the first argument', () => {
  const fs = new FlagSet();
  const i = fs.bool('interactive', 'i', false, '');
  const t = fs.bool('tty', 't', false, '');
  const name = fs.string('name', undefined, '', '');
  const e = fs.list('env', 'e', '');
  const n = fs.int('last', 'n', -1, '');
  assert.deepEqual(fs.parse(['-it', '--name=x', '-eA=1', '-e', 'B=2', '-e=C=3', '-n', '0x10', 'img', '--', '-x']), ['img', '-x']);
  assert.equal(i.value && t.value, true);
  assert.equal(name.value, 'x');
  assert.deepEqual(e.values, ['A=1', 'B=2', 'C=3']);
  assert.equal(n.value, 16);
  fs.interspersed = false;
  assert.deepEqual(fs.parse(['--name', 'y', 'img', '--name', 'z']), ['img', '--name', 'z']);
  assert.equal(name.value, 'y');
});

test('pflag error texts', () => {
  const fs = new FlagSet();
  fs.bool('all', 'a', false, '');
  fs.int('last', 'n', -1, '');
  const msg = (args: string[]) => {
    try {
      fs.parse(args);
    } catch (e) {
      assert.ok(e instanceof FlagError);
      return (e as Error).message;
    }
    return undefined;
  };
  assert.equal(msg(['--foo']), 'unknown flag: --foo');
  assert.equal(msg(['-x']), "unknown shorthand flag: 'x' in -x");
  assert.equal(msg(['-ax']), "unknown shorthand flag: 'x' in -x");
  assert.equal(msg(['--last']), 'flag needs an argument: --last');
  assert.equal(msg(['-n']), "flag needs an argument: 'n' in -n");
  assert.equal(msg(['-n', 'abc']), 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax');
  assert.equal(msg(['--all=maybe']), 'invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
  assert.throws(() => fs.parse(['--help']), HelpRequested);
});

function body(args: string[], env: string[] = []): Record<string, any> {
  const fs = new FlagSet();
  fs.interspersed = false;
  const f = addContainerFlags(fs);
  const rest = fs.parse(args);
  const cfg = buildContainerConfig(fs, f, { image: rest[0], args: rest.slice(1), env: dedupEnv([...f.env.values, ...env]), serverOS: 'linux' });
  return createBody(cfg);
}

test('defaults: the fields docker always sends, with its nulls and empty lists', () => {
  const b = body(['busybox']);
  assert.equal(b.Image, 'busybox');
  assert.equal(b.Cmd, null);
  assert.equal(b.Env, null);
  assert.equal(b.Entrypoint, null);
  assert.deepEqual(b.Labels, {});
  assert.deepEqual(b.Volumes, {});
  assert.equal(b.AttachStdout && b.AttachStderr && !b.AttachStdin, true);
  assert.equal('ExposedPorts' in b, false);
  const h = b.HostConfig;
  assert.equal(h.NetworkMode, 'default');
  assert.deepEqual(h.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(h.Dns, []);
  assert.deepEqual(h.PortBindings, {});
  assert.equal(h.MemorySwappiness, -1);
  assert.equal(h.Binds, null);
  assert.deepEqual(h.Ulimits, []);
  assert.equal('Init' in h, false);
  assert.deepEqual(Object.keys(b.NetworkingConfig.EndpointsConfig), ['default']);
});

test('resources, ports, volumes, env and labels become the create body as docker builds it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-flags-'));
  try {
    writeFileSync(join(dir, 'env'), '# comment\n\nFROM_FILE=1\n  SPACED=a b\nHOME\nBERTH_TEST_UNSET_VAR\n');
    writeFileSync(join(dir, 'labels'), 'l1=v1\nbare\n'); // a bare key is dropped in label files
    const b = body([
      '-e', 'X=1', '-e', 'X=2', '--env-file', join(dir, 'env'), '-l', 'z=1', '--label-file', join(dir, 'labels'),
      '-m', '512m', '--cpus', '1.5', '--memory-swap', '-1', '--pids-limit', '100', '--shm-size', '64m',
      '-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '--expose', '7000-7001', '-v', '/h:/c:ro', '-v', '/anon', '-v', 'named:/data',
      '--tmpfs', '/run:size=1m', '--ulimit', 'nofile=1024:2048', '--cap-add', 'net_admin', '--restart', 'on-failure:3',
      '--health-cmd', 'true', '--health-interval', '5s', '--stop-timeout', '7', '--init', '--entrypoint', '', '-it',
      'busybox', 'sh', '-c', 'echo hi',
    ]);
    assert.deepEqual(b.Env, ['FROM_FILE=1', 'SPACED=a b', `HOME=${process.env.HOME}`, 'X=2']);
    assert.deepEqual(b.Labels, { l1: 'v1', z: '1' });
    assert.deepEqual(b.Cmd, ['sh', '-c', 'echo hi']);
    assert.deepEqual(b.Entrypoint, ['']);
    assert.equal(b.Tty && b.OpenStdin && b.AttachStdin && b.StdinOnce, true);
    assert.deepEqual(b.ExposedPorts, { '53/udp': {}, '7000/tcp': {}, '7001/tcp': {}, '80/tcp': {} });
    assert.deepEqual(b.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9 });
    assert.equal(b.StopTimeout, 7);
    const h = b.HostConfig;
    assert.equal(h.Memory, 536870912);
    assert.equal(h.NanoCpus, 1500000000);
    assert.equal(h.MemorySwap, -1);
    assert.equal(h.PidsLimit, 100);
    assert.equal(h.ShmSize, 67108864);
    assert.deepEqual(h.PortBindings, { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }], '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.deepEqual(h.Binds, ['/h:/c:ro', 'named:/data']);
    assert.deepEqual(b.Volumes, { '/anon': {} });
    assert.deepEqual(h.Tmpfs, { '/run': 'size=1m' });
    assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Hard: 2048, Soft: 1024 }]);
    assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(h.Init, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('networks: the endpoint of the chosen network, aliases only on user-defined ones', () => {
  const b = body(['--network', 'mynet', '--network-alias', 'web', '--ip', '10.0.0.5', 'busybox']);
  assert.equal(b.HostConfig.NetworkMode, 'mynet');
  const ep = b.NetworkingConfig.EndpointsConfig.mynet;
  assert.deepEqual(ep.Aliases, ['web']);
  assert.deepEqual(ep.IPAMConfig, { IPv4Address: '10.0.0.5' });
  // A plain --network sends no endpoint settings at all.
  assert.deepEqual(body(['--network', 'mynet', 'busybox']).NetworkingConfig.EndpointsConfig, {});
  assert.throws(() => body(['--network', 'host', '--network-alias', 'x', 'busybox']), { message: 'network-scoped aliases are only supported for user-defined networks' });
  assert.throws(() => body(['--rm', '--restart', 'always', 'busybox']), { message: 'conflicting options: cannot specify both --restart and --rm' });
});

test('value parsers: ports, volumes, mounts, cpus, ulimits, durations', () => {
  assert.deepEqual(parsePortSpecs(['9000-9001:80-81']).bindings, { '80/tcp': [{ HostIp: '', HostPort: '9000' }], '81/tcp': [{ HostIp: '', HostPort: '9001' }] });
  assert.deepEqual(parsePortSpecs(['[::1]:80:80']).bindings['80/tcp'], [{ HostIp: '::1', HostPort: '80' }]);
  assert.throws(() => parsePortSpecs(['abc']), { message: 'invalid containerPort: abc' });
  assert.throws(() => parsePortSpecs(['80/xyz']), { message: 'invalid proto: xyz' });
  assert.deepEqual(parseVolume('/a:/b:ro'), { type: 'bind', source: '/a', target: '/b', readOnly: true });
  assert.deepEqual(parseVolume('vol:/b'), { type: 'volume', source: 'vol', target: '/b', readOnly: false });
  assert.throws(() => parseVolume('ab:/b:ro:x'), { message: 'invalid spec: ab:/b:ro:x: too many colons' });
  assert.deepEqual(parseMount('type=bind,src=/etc,dst=/e,readonly'), { Type: 'bind', Source: '/etc', Target: '/e', ReadOnly: true });
  assert.throws(() => parseMount('type=bind'), { message: 'target is required' });
  assert.throws(() => parseMount('type=bind,dst=/x,volume-nocopy'), { message: "cannot mix 'volume-*' options with mount type 'bind'" });
  assert.equal(parseCPUs('0.5'), 500000000);
  assert.equal(parseCPUs('2'), 2000000000);
  assert.throws(() => parseCPUs('1.0000000001'), { message: 'value is too precise' });
  assert.throws(() => parseCPUs('x'), { message: 'failed to parse x as a rational number' });
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Hard: 10, Soft: 10 });
  assert.throws(() => parseUlimit('nofile=10:5'), { message: 'ulimit soft limit must be less than or equal to hard limit: 10 > 5' });
  assert.throws(() => parseUlimit('bogus=1'), { message: 'invalid ulimit type: bogus' });
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseGoDuration('300ms'), 3e8);
  assert.throws(() => parseGoDuration('5'), { message: 'time: missing unit in duration "5"' });
});

test('image references: normalization and familiar forms', () => {
  assert.equal(parseNormalizedNamed('busybox').name, 'docker.io/library/busybox');
  assert.equal(familiarString(tagNameOnly(parseNormalizedNamed('busybox'))), 'busybox:latest');
  assert.equal(familiarString(parseNormalizedNamed('docker.io/library/busybox:1.36')), 'busybox:1.36');
  assert.equal(parseNormalizedNamed('localhost:5000/a/b:v1').name, 'localhost:5000/a/b');
  assert.throws(() => parseNormalizedNamed('Bad'), { message: 'invalid reference format: repository name (library/Bad) must be lowercase' });
  assert.throws(() => parseNormalizedNamed('a::b'), { message: 'invalid reference format' });
});

test('help lists flags as pflag does: sorted, aligned, wrapped at 80 columns, defaults shown', () => {
  const fs = new FlagSet();
  fs.int('last', 'n', -1, 'Show n last created containers (includes all states)');
  fs.bool('all', 'a', false, 'Show all containers (default shows just running)');
  fs.string('pull', undefined, 'missing', 'Pull image');
  assert.equal(
    flagUsages(fs.flags, 79),
    '  -a, --all           Show all containers (default shows just running)\n' +
      '  -n, --last int      Show n last created containers (includes all\n' +
      '                      states) (default -1)\n' +
      '      --pull string   Pull image (default "missing")\n',
  );
});
