// berth against the real docker CLI (28.x): both run with the same arguments against the
// same scripted daemon; the requests they send (create bodies included) and what they print
// must match, with "berth" where docker says "docker". Skipped when docker is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asBerth, canned, compareWithDocker, DOCKER, frame, requestLines, routeOf, type Comparison, type Handler, type Recorded } from './cli-harness.ts';

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';
const ID = 'a'.repeat(64);
const now = Math.floor(Date.now() / 1000);

const createHandler: Handler = (r) => (r.method === 'POST' && routeOf(r.url) === '/containers/create' ? { status: 201, body: { Id: ID, Warnings: [] } } : undefined);

/** Same exit status, same stdout, same stderr (docker's words swapped for berth's), same requests. */
function assertSame(c: Comparison, label: string, opts: { requests?: boolean; unordered?: boolean; helpText?: boolean; rowsUnordered?: boolean } = {}): void {
  assert.equal(c.berth.code, c.docker.code, `${label}: exit status`);
  // docker lists the repositories of one image in Go map order (random): compare rows as a set.
  const rows = (s: string) => (opts.rowsUnordered ? s.split('\n').sort().join('\n') : s);
  assert.equal(rows(c.berth.stdout), rows(opts.helpText ? asBerth(c.docker.stdout) : c.docker.stdout), `${label}: stdout`);
  assert.equal(c.berth.stderr, asBerth(c.docker.stderr), `${label}: stderr`);
  if (opts.requests !== false) {
    const lines = (reqs: Recorded[]) => {
      const l = requestLines(reqs).filter((x) => !x.startsWith('STDIN'));
      // Operations on several containers run in parallel: their order is not fixed.
      return opts.unordered ? l.sort() : l;
    };
    assert.deepEqual(lines(c.berth.requests), lines(c.docker.requests), `${label}: requests`);
  }
}

/** The create body, with the lists docker builds from Go maps (in random order) sorted. */
function createBody(reqs: Recorded[]): Record<string, any> | undefined {
  const r = reqs.find((q) => routeOf(q.url) === '/containers/create');
  if (!r) return undefined;
  const b = JSON.parse(r.body.toString());
  if (Array.isArray(b.Env)) b.Env.sort();
  if (Array.isArray(b.HostConfig?.Binds)) b.HostConfig.Binds.sort();
  return b;
}

test('create: the same request body as docker for a broad set of flags', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-compat-'));
  try {
    writeFileSync(join(dir, 'env'), '# comment\n\nFROM_FILE=1\nHOME\nBERTH_TEST_UNSET\n  SPACED=x y\n');
    writeFileSync(join(dir, 'labels'), 'l1=v1\nbare\n');
    const cases: string[][] = [
      ['busybox'],
      ['--name', 'web', '-e', 'A=1', '-e', 'B', '-e', 'HOME', '-e', 'A=2', '--env-file', join(dir, 'env'), '-l', 'z=1', '-l', 'a=2', '--label-file', join(dir, 'labels'), 'busybox', 'sh', '-c', 'echo hi'],
      ['-w', '/tmp', '--entrypoint', '', '-u', '1000:1000', '-h', 'myhost', '--domainname', 'dom', '--stop-signal', 'SIGUSR1', '--stop-timeout', '5', '--init', '-it', 'busybox'],
      ['--entrypoint', '/bin/sh', '-a', 'stdin', '-a', 'STDOUT', '--read-only', '--privileged', '--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'all', '--security-opt', 'no-new-privileges', '--security-opt', 'label=disable', 'busybox'],
      ['-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-p', '9000-9001:9000-9001', '-p', '[::1]:443:443', '-p', '7000', '-P', '--expose', '7000-7002', '--expose', '5000/udp', 'busybox'],
      ['-v', '/host:/c:ro', '-v', 'named:/data', '-v', '/anon', '-v', './rel:/rel', '--tmpfs', '/run:size=10m', '--tmpfs', '/tmp', '--volumes-from', 'other:ro', '--volume-driver', 'local', 'busybox'],
      ['--mount', 'type=bind,src=/etc,dst=/e,readonly', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777', '--mount', 'type=volume,src=v,dst=/v,volume-label=b=1,volume-label=a=2,volume-opt=o=1,volume-nocopy', '--mount', 'type=bind,source=/x,target=/y,bind-propagation=rshared', 'busybox'],
      ['-m', '512m', '--memory-swap', '1g', '--memory-reservation', '256m', '--memory-swappiness', '10', '--kernel-memory', '10m', '--cpus', '1.5', '-c', '512', '--cpu-period', '100000', '--cpu-quota', '50000', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '500', '--cpuset-cpus', '0-1', '--cpuset-mems', '0', '--pids-limit', '100', '--oom-kill-disable', '--oom-score-adj', '500', '--shm-size', '64m', 'busybox'],
      ['--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:2mb', '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sda:200', '--device', '/dev/null:/dev/xnull:rw', '--device', '/dev/zero', '--device-cgroup-rule', 'c 1:3 rwm', 'busybox'],
      ['--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=10', '--ulimit', 'core=-1', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1', '--group-add', 'audio', '--group-add', '10', '--annotation', 'x=y', '--storage-opt', 'size=1G', 'busybox'],
      ['--dns', '8.8.8.8', '--dns', '1.1.1.1', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--dns-opt', 'timeout:1', '--add-host', 'h:1.2.3.4', '--add-host', 'g=host-gateway', '--add-host', 'v6:[::1]', 'busybox'],
      ['--network', 'mynet', '--network-alias', 'al', '--ip', '10.0.0.5', '--ip6', '2001:db8::33', '--mac-address', '92:d0:c6:0a:29:33', '--link', 'other:o', '--link-local-ip', '169.254.1.1', 'busybox'],
      ['--network', 'name=n1,alias=x,ip=1.2.3.4,driver-opt=a=b,gw-priority=5', '--network', 'n2', 'busybox'],
      ['--network', 'host', '--pid', 'host', '--uts', 'host', '--ipc', 'shareable', '--userns', 'host', '--cgroupns', 'private', '--cgroup-parent', '/foo', '--runtime', 'runc', '--isolation', 'default', 'busybox'],
      ['--network', 'none', '--mac-address', '92:d0:c6:0a:29:34', 'busybox'],
      ['--restart', 'on-failure:3', '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', '--health-cmd', 'true', '--health-interval', '5s', '--health-retries', '3', '--health-timeout', '2s', '--health-start-period', '1s', '--health-start-interval', '500ms', 'busybox'],
      ['--no-healthcheck', '--rm', '--platform', 'linux/amd64', '--pull', 'never', '--gpus', 'all', '--security-opt', 'systempaths=unconfined', 'busybox', '--', '-x'],
      ['--restart', 'always', '--platform', 'arm64', '-q', '--label', 'only', 'busybox:1.36', 'true'],
    ];
    for (const args of cases) {
      const c = await compareWithDocker(['create', ...args], [createHandler], { cwd: dir });
      assertSame(c, args.join(' '));
      assert.ok(createBody(c.docker.requests), `${args.join(' ')}: docker sent a create request`);
      assert.deepEqual(createBody(c.berth.requests), createBody(c.docker.requests), args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('create/run: flag and argument errors worded and numbered as docker', { skip }, async () => {
  const cases: string[][] = [
    ['run', '--foo', 'busybox'], ['run'], ['create', '-m', '12x', 'busybox'], ['run', '-p', 'abc', 'busybox'], ['run', '-e', '=x', 'busybox'],
    ['run', '--cpus', '1.0000000001', 'busybox'], ['create', '--network', 'host', '--network', 'bridge', 'busybox'], ['create', '-v', 'ab:/b:ro:x', 'busybox'],
    ['create', '--mount', 'type=bind', 'busybox'], ['create', '--health-interval', '-5s', '--health-cmd', 'x', 'busybox'], ['run', '--rm', '--restart', 'always', 'busybox'],
    ['create', '--ulimit', 'nofile=10:5', 'busybox'], ['create', '--pull', 'bogus', 'busybox'], ['run', '-it', 'busybox'], ['run', '-d', '-a', 'stdout', 'busybox'],
    ['create', '--network-alias', 'x', 'busybox'], ['create', '--pid', 'bogus', 'busybox'], ['create', '--restart', ':3', 'busybox'], ['create', '--mac-address', 'zz', 'busybox'],
    ['create', '--sysctl', 'kernel.bogus=1', 'busybox'], ['create', '--add-host', 'x', 'busybox'], ['create', '--dns', 'not-ip', 'busybox'], ['create', '-a', 'stdweird', 'busybox'],
    ['create', '--device', 'relative', 'busybox'], ['create', '--log-driver', 'none', '--log-opt', 'a=b', 'busybox'], ['create', '--memory-swappiness', '101', 'busybox'],
  ];
  for (const args of cases) {
    const c = await compareWithDocker(args, [createHandler]);
    assertSame(c, args.join(' '), { requests: false });
  }
});

function containers(): unknown[] {
  return [
    {
      Id: '3f4e8b2a1c9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f', Names: ['/web', '/other/alias'], Image: 'nginx:latest',
      ImageID: 'sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789', Command: "/docker-entrypoint.sh nginx -g 'daemon off;'", Created: now - 7000,
      Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 444, Type: 'tcp' }, { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 53, Type: 'udp' }],
      SizeRw: 12345, SizeRootFs: 4260000, Labels: { b: '2', a: '1', 'com.example.x': 'y' }, State: 'running', Status: 'Up 2 hours',
      Mounts: [{ Name: '', Source: '/very/long/host/path/here', Driver: '' }, { Name: 'vol1', Driver: 'local' }], NetworkSettings: { Networks: { bridge: {} } },
    },
    {
      Id: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', Names: ['/db'], Image: 'sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789',
      ImageID: 'sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789', Command: 'sh', Created: now - 600, Ports: [], Labels: {}, State: 'exited',
      Status: 'Exited (0) 3 minutes ago', Mounts: [], NetworkSettings: { Networks: {} },
    },
    {
      Id: 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210', Names: ['/日本語名前'], Image: 'docker.io/library/busybox:1.36', ImageID: 'sha256:1111',
      Command: 'echo 日本語の長いコマンドラインです', Created: now - 86400 * 3, Ports: null, Labels: null, State: 'created', Status: 'Created', Mounts: null, NetworkSettings: null,
    },
  ];
}

test('ps: tables, custom templates, json, quiet, filters, as docker prints them', { skip }, async () => {
  const handlers = [canned({ 'GET /containers/json': { body: containers() } })];
  const cases: string[][] = [
    ['ps'], ['ps', '-a', '--no-trunc'], ['ps', '-q'], ['ps', '-s'], ['ps', '--format', 'json'], ['ps', '--format', '{{json .}}'], ['container', 'ls', '-l'],
    ['ps', '--format', 'table {{.ID}}\\t{{.Labels}}\\t{{.Label "a"}}\\t{{.Mounts}}\\t{{.LocalVolumes}}\\t{{.Networks}}\\t{{.State}}'],
    ['ps', '--format', '{{.Names}} {{.Size}}'], ['container', 'list', '-n', '2', '-f', 'status=running', '-f', 'name=web', '--format', 'table {{.Names}}\\t{{.CreatedAt}}'],
    ['ps', '--format', '{{.Foo}}'], ['ps', '--format', '{{.ID'], ['ps', '--format', 'raw'], ['ps', '-q', '--format', '{{.Names}}'], ['ps', '--format', 'table {{json .}}'],
    ['ps', '--format', 'table {{.Platform}} {{upper .Names}} {{pad .State 2 1}}|{{.Image}}'], ['ps', '-f', 'bad'], ['ps', 'extra'],
    ['ps', '--format', '{{range $k, $v := .Labels}}{{$k}}{{end}}'], ['ps', '--format', '{{if eq .State "running"}}{{.Names}} is up{{else}}{{.Names}} is not{{end}}'],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '));
});

const IMAGE = {
  Id: 'sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789', RepoTags: ['busybox:latest', 'busybox:1.36'],
  RepoDigests: ['busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111'], Created: '2024-05-01T00:00:00Z', Size: 4260000,
};

test('images, history, tag, rmi, image prune: output and requests as docker', { skip }, async () => {
  const handlers = [
    canned({
      'GET /images/json': {
        body: [
          { Id: IMAGE.Id, ParentId: '', RepoTags: ['busybox:latest', 'busybox:1.36', 'localhost:5000/my/busybox:v1'], RepoDigests: IMAGE.RepoDigests, Created: now - 86400 * 3, Size: 4260000, SharedSize: -1, Labels: null, Containers: -1 },
          { Id: 'sha256:0000000000000000000000000000000000000000000000000000000000000001', RepoTags: [], RepoDigests: [], Created: now - 7000, Size: 123456789, SharedSize: -1, Containers: 2 },
          { Id: 'sha256:0000000000000000000000000000000000000000000000000000000000000002', RepoTags: null, RepoDigests: ['alpine@sha256:2222222222222222222222222222222222222222222222222222222222222222'], Created: 0, Size: 999, SharedSize: -1, Containers: -1 },
        ],
      },
      'GET /images/busybox/history': {
        body: [
          { Id: IMAGE.Id, Created: now - 3600 * 30, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]\tand a tab and a very long trailing text here', Tags: ['busybox:latest'], Size: 0, Comment: '' },
          { Id: '<missing>', Created: now - 3600 * 31, CreatedBy: '/bin/sh -c #(nop) ADD file:abc in / ', Tags: null, Size: 4260000, Comment: 'imported' },
          { Id: '<missing>', Created: 100, CreatedBy: '', Tags: null, Size: 12, Comment: '' },
        ],
      },
      'GET /images/nope/history': { status: 404, body: { message: 'No such image: nope:latest' } },
      'POST /images/busybox/tag': { status: 201 },
      'DELETE /images/busybox': { body: [{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:abc' }] },
      'DELETE /images/nope': { status: 404, body: { message: 'No such image: nope:latest' } },
      'DELETE /images/inuse': { status: 409, body: { message: 'conflict: unable to remove repository reference "inuse" (must force)' } },
      'POST /images/prune': { body: { ImagesDeleted: [{ Untagged: 'x:1' }, { Deleted: 'sha256:abc' }], SpaceReclaimed: 123456789 } },
    }),
  ];
  const cases: string[][] = [
    ['images'], ['images', '-a', '--digests'], ['images', '--no-trunc', '-q'], ['image', 'ls', '--format', '{{json .}}'], ['image', 'list', '--format', 'raw'],
    ['images', '--format', 'table {{.Repository}}:{{.Tag}}\\t{{.Size}}\\t{{.Containers}}\\t{{.CreatedAt}}\\t{{.VirtualSize}}\\t{{.SharedSize}}\\t{{.UniqueSize}}', '-f', 'dangling=false', 'busybox'],
    ['images', '--format', 'table {{.ID}}', '--digests'], ['images', 'a', 'b'],
    ['history', 'busybox'], ['history', '-H=false', 'busybox'], ['history', '--no-trunc', '-q', 'busybox'], ['image', 'history', '--format', '{{json .}}', 'busybox'], ['history', 'nope'],
    ['tag', 'busybox', 'myrepo/x:v2'], ['tag', 'busybox', 'Bad'], ['tag', 'busybox', 'x@sha256:1111111111111111111111111111111111111111111111111111111111111111'], ['tag', 'a'],
    ['rmi', 'busybox', 'nope'], ['rmi', '-f', 'nope', '--no-prune'], ['image', 'rm', '-f', 'inuse', 'nope'], ['image', 'prune', '-f', '-a', '--filter', 'until=24h'],
  ];
  for (const args of cases) {
    const c = await compareWithDocker(args, handlers);
    assertSame(c, args.join(' '), { rowsUnordered: args[0] === 'images' || args[1] === 'ls' || args[1] === 'list' });
  }
  const declined = await compareWithDocker(['image', 'prune'], handlers, { stdin: 'n\n' });
  assertSame(declined, 'image prune (declined)');
});

test('inspect, logs, stop, kill, restart, rm, wait, start: output and requests as docker', { skip }, async () => {
  const ctr = {
    Id: '3f4e8b2a1c9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f', Created: '2025-01-01T00:00:00.000000000Z', Path: 'sh', Args: ['-c', 'echo <hi> & bye'],
    State: { Status: 'exited', Running: false, ExitCode: 3, Pid: 0, StartedAt: '2025-01-01T00:00:01Z', Health: null }, Name: '/web',
    Config: { Hostname: 'abc', Env: ['A=1', 'B=2'], Cmd: ['sh', '-c', 'x'], Image: 'busybox', Labels: { b: '2', a: '1' }, Tty: false },
    HostConfig: { Memory: 536870912, NanoCpus: 1500000000 }, Mounts: [],
  };
  const logs = Buffer.concat([frame(1, 'out line 1\n'), frame(2, 'err line\n'), frame(1, 'out line 2\n')]);
  const handlers = [
    canned({
      'GET /containers/web/json': { body: ctr },
      [`GET /containers/${ctr.Id}/json`]: { body: ctr },
      [`GET /containers/${ctr.Id}/logs`]: { headers: { 'Content-Type': 'application/vnd.docker.multiplexed-stream' }, body: logs },
      'GET /containers/nope/json': { status: 404, body: { message: 'No such container: nope' } },
      'GET /images/nope/json': { status: 404, body: { message: 'No such image: nope:latest' } },
      'GET /networks/nope': { status: 404, body: { message: 'network nope not found' } },
      'GET /volumes/nope': { status: 404, body: { message: 'get nope: no such volume' } },
      'GET /info': { body: { Swarm: { LocalNodeState: 'inactive', ControlAvailable: false } } },
      'GET /plugins/nope/json': { status: 404, body: { message: 'plugin "nope" not found' } },
      'GET /images/busybox/json': { body: IMAGE },
      'POST /containers/web/stop': { status: 204 },
      'POST /containers/nope/stop': { status: 404, body: { message: 'No such container: nope' } },
      'POST /containers/web/kill': { status: 204 },
      'POST /containers/web/restart': { status: 204 },
      'POST /containers/web/start': { status: 204 },
      'POST /containers/nope/start': { status: 404, body: { message: 'No such container: nope' } },
      'POST /containers/web/wait': { body: { StatusCode: 3 } },
      'POST /containers/nope/wait': { status: 404, body: { message: 'No such container: nope' } },
      'DELETE /containers/web': { status: 204 },
      'DELETE /containers/nope': { status: 404, body: { message: 'No such container: nope' } },
    }),
  ];
  const cases: string[][] = [
    ['inspect', 'web'], ['inspect', 'nope'], ['inspect', '--format', 'json', 'web', 'busybox'], ['container', 'inspect', '-s', 'web', 'nope'], ['image', 'inspect', 'busybox'],
    ['inspect', '-f', '{{.State.ExitCode}} {{json .Config.Labels}} {{.Config.Env}} {{.Name}} {{index .Config.Labels "a"}} {{.HostConfig.Memory}} {{json .Args}}', 'web', 'busybox'],
    ['inspect', '-f', '{{.Foo}}', 'web'], ['inspect', '-f', '{{.ID', 'web'], ['inspect', '--type', 'image', 'web'], ['inspect', '--type', 'bogus', 'x'], ['inspect', '-f', '{{.Config.Cmd}} {{.State.Health}} {{.Config.Labels}}', 'web'],
    ['image', 'inspect', '-f', '{{.Id}} {{.Size}} {{.RepoTags}}', 'busybox', 'nope'],
    ['logs', 'web'], ['logs', '-f', '-t', '--since', '1700000000.5', '--tail', '5', '--details', 'web'], ['logs', '--until', '2024-01-02T03:04:05Z', 'web'], ['logs', 'nope'], ['logs'],
    ['stop', 'web', 'nope'], ['stop', '-t', '5', '-s', 'SIGTERM', 'web'], ['kill', '-s', 'HUP', 'web'], ['restart', 'web'], ['restart', '--time', '3', 'web'],
    ['rm', '-f', '-v', 'web', 'nope'], ['rm', 'nope'], ['wait', 'web', 'nope'], ['start', 'web', 'nope'],
  ];
  for (const args of cases) assertSame(await compareWithDocker(args, handlers), args.join(' '), { unordered: true });
});

test('run: the same requests, streams and exit statuses as docker', { skip }, async () => {
  const output = Buffer.concat([frame(1, 'hello out\n'), frame(2, 'hello err\n')]);
  const base = {
    [`POST /containers/${ID}/attach`]: { status: 101, upgrade: output },
    [`POST /containers/${ID}/wait`]: { body: { StatusCode: 3, Error: null } },
    [`POST /containers/${ID}/start`]: { status: 204 },
  };
  const ok = [canned(base), createHandler];
  for (const args of [['run', 'busybox', 'echo', 'hi'], ['run', '-d', 'busybox'], ['run', '--rm', 'busybox'], ['container', 'run', '--name', 'x', '-e', 'A=1', 'busybox']]) {
    const c = await compareWithDocker(args, ok);
    assertSame(c, args.join(' '));
    assert.deepEqual(createBody(c.berth.requests), createBody(c.docker.requests));
  }
  const withStdin = await compareWithDocker(['run', '-i', 'busybox', 'cat'], ok, { stdin: 'piped input\n' });
  assertSame(withStdin, 'run -i');
  const sent = (reqs: Recorded[]) => reqs.find((r) => r.method === 'STDIN')?.body.toString();
  assert.equal(sent(withStdin.berth.requests), 'piped input\n');
  assert.equal(sent(withStdin.berth.requests), sent(withStdin.docker.requests));

  const notFound = [canned({ ...base, [`POST /containers/${ID}/attach`]: { status: 101 }, [`POST /containers/${ID}/start`]: { status: 400, body: { message: 'failed to create task: exec: "foo": executable file not found in $PATH: unknown' } } }), createHandler];
  assertSame(await compareWithDocker(['run', 'busybox', 'foo'], notFound), 'run (127)');
  const denied = [canned({ ...base, [`POST /containers/${ID}/attach`]: { status: 101 }, [`POST /containers/${ID}/start`]: { status: 400, body: { message: 'exec /etc: permission denied' } } }), createHandler];
  assertSame(await compareWithDocker(['run', 'busybox', '/etc'], denied), 'run (126)');
  const noImage = [canned({ 'POST /containers/create': { status: 404, body: { message: 'No such image: nope:latest' } }, 'POST /images/create': { headers: { 'Content-Type': 'application/json' }, body: '{"status":"Pulling from library/nope","id":"latest"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n' } })];
  assertSame(await compareWithDocker(['run', 'nope'], noImage), 'run (pull fails)');
  assertSame(await compareWithDocker(['create', 'nope'], noImage), 'create (pull fails)');
});

test('help texts and usage errors of every command, as docker prints them', { skip }, async () => {
  const commands = [
    'run', 'create', 'start', 'ps', 'stop', 'kill', 'rm', 'wait', 'inspect', 'logs', 'restart', 'images', 'tag', 'rmi', 'history', 'import', 'save', 'load', 'version', 'info',
    'container ls', 'container run', 'container inspect', 'image ls', 'image rm', 'image inspect', 'image prune', 'system info',
  ];
  for (const cmd of commands) {
    // With a daemon to ask, docker hides the flags it cannot use (Windows-only, experimental).
    const c = await compareWithDocker([...cmd.split(' '), '--help'], []);
    assertSame(c, `${cmd} --help`, { requests: false, helpText: true });
  }
  for (const args of [['ps', 'x'], ['stop'], ['tag', 'a'], ['bogus'], ['container', 'foo'], ['ps', '-n', 'abc'], ['ps', '--last'], ['ps', '-x'], ['logs', 'a', 'b'], ['--foo'], ['-l', 'bogus', 'ps'], ['load', 'x'], ['save'], ['import'], ['history']]) {
    assertSame(await compareWithDocker(args, []), args.join(' '), { requests: false });
  }
});

test('info: the server section as docker lays it out', { skip }, async () => {
  const info = {
    ID: 'x', Containers: 3, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 2, Images: 5, Driver: 'overlay2', DriverStatus: [['Backing Filesystem', 'extfs']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host'], Authorization: null, Log: ['json-file'] }, Debug: false, LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: '1',
    KernelVersion: '6.18.0', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', OSType: 'linux', Architecture: 'x86_64', NCPU: 2, MemTotal: 8241532928, DockerRootDir: '/var/lib/berth',
    Name: 'host1', Labels: ['a=b'], ExperimentalBuild: false, ServerVersion: '0.1.0', Runtimes: { runc: { path: 'runc' } }, DefaultRuntime: 'runc',
    Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false }, LiveRestoreEnabled: false, InitBinary: 'tini',
    ContainerdCommit: { ID: '' }, RuncCommit: { ID: 'v1.1.12' }, InitCommit: { ID: '' }, SecurityOptions: ['name=seccomp,profile=builtin', 'name=cgroupns'],
    Warnings: ['WARNING: bridge-nf-call-iptables is disabled'],
  };
  const c = await compareWithDocker(['info'], [canned({ 'GET /info': { body: info } })]);
  const serverPart = (s: string) => s.slice(s.indexOf('\nServer:'));
  assert.equal(c.berth.code, c.docker.code);
  assert.equal(serverPart(c.berth.stdout), asBerth(serverPart(c.docker.stdout)));
  assert.equal(c.berth.stderr, c.docker.stderr);
  const f = await compareWithDocker(['info', '--format', '{{.Name}} {{.NCPU}} {{json .Plugins}}'], [canned({ 'GET /info': { body: info } })]);
  assertSame(f, 'info --format');
});
