// berth system df and berth system prune side by side with the real docker CLI (28.x)
// against the same scripted daemon: same requests, same output, same exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithDocker, DOCKER, requestLines, routeOf, asBerth, type Comparison, type Handler } from './cli-harness.ts';
import { confirmationMessage } from '../../src/cli/commands/system-prune.ts';
import { summaryRows } from '../../src/cli/format/disk-usage.ts';

const skip = DOCKER ? false : 'the docker CLI (28.x) is not installed';
const hex = (c: string) => c.repeat(64);
// Created long ago, so "N years ago" reads the same for both CLIs.
const IMG = (id: string, tags: string[], size: number, shared: number, containers: number) => ({
  Containers: containers, Created: 1_000_000_000, Id: `sha256:${hex(id)}`, Labels: null, ParentId: '', RepoDigests: [], RepoTags: tags, SharedSize: shared, Size: size,
});
const CTR = (id: string, name: string, state: string, status: string, rw: number) => ({
  Id: hex(id), Names: [`/${name}`], Image: 'busybox', ImageID: `sha256:${hex('1')}`, Command: 'sh -c "dd if=/dev/zero of=/f bs=1M count=1"',
  Created: 1_000_000_000, Ports: [], Labels: { a: 'b' }, State: state, Status: status, SizeRw: rw, SizeRootFs: rw + 4_000_000,
  HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: { bridge: {} } }, Mounts: [{ Type: 'volume', Name: 'data', Driver: 'local' }],
});
const VOL = (name: string, size: number, refs: number, labels: Record<string, string> | null = null) => ({
  CreatedAt: '2026-11-24T01:02:03Z', Driver: 'local', Labels: labels, Mountpoint: `/var/lib/berth/volumes/${name}/_data`, Name: name, Options: null, Scope: 'local',
  UsageData: { Size: size, RefCount: refs },
});
const DF = {
  LayersSize: 12_345_678,
  Images: [
    IMG('1', ['busybox:latest', 'mine:1'], 4_261_550, 1_000_000, 2),
    IMG('2', [], 2_000_000, 0, 0),
    IMG('3', ['registry.example:5000/team/app:v2'], 6_000_000, 1_000_000, 1),
    IMG('4', ['<none>:<none>'], 1_500, -1, 0),
  ],
  Containers: [
    CTR('a', 'web', 'running', 'Up 2 hours', 1_048_576),
    CTR('b', 'job', 'exited', 'Exited (0) 3 hours ago', 3_500_000),
    CTR('c', 'held', 'paused', 'Up 1 hour (Paused)', 0),
    CTR('d', 'fresh', 'created', 'Created', 20),
  ],
  Volumes: [VOL('data', 2_000_000, 1, { app: 'web' }), VOL('idle', 750_000, 0), VOL('gone', -1, 0), VOL(hex('e'), 0, 0, { 'com.docker.volume.anonymous': '' })],
  BuildCache: [],
};

function dfHandler(body: unknown): Handler {
  return (r) => (r.method === 'GET' && routeOf(r.url) === '/system/df' ? { status: 200, body } : undefined);
}

function assertSame(c: Comparison, label: string): void {
  assert.equal(c.berth.code, c.docker.code, `${label}: exit status`);
  assert.equal(c.berth.stdout, c.docker.stdout, `${label}: stdout`);
  assert.equal(c.berth.stderr, asBerth(c.docker.stderr), `${label}: stderr`);
  assert.deepEqual(requestLines(c.berth.requests), requestLines(c.docker.requests), `${label}: requests`);
}

async function same(args: string[], handlers: Handler[], opts: { stdin?: string } = {}): Promise<Comparison> {
  const c = await compareWithDocker(args, handlers, opts);
  assertSame(c, args.join(' '));
  return c;
}

test('system df: summary, -v tables, json, raw and templates as docker prints them', { skip }, async () => {
  const h = [dfHandler(DF)];
  const summary = await same(['system', 'df'], h);
  assert.equal(
    summary.berth.stdout,
    'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n' +
      'Images          4         2         12.35MB   4.084MB (33%)\n' +
      'Containers      4         2         4.549MB   3.5MB (76%)\n' +
      'Local Volumes   4         1         2.75MB    750kB (27%)\n' +
      'Build Cache     0         0         0B        0B\n',
  );
  assert.deepEqual(requestLines(summary.berth.requests), ['GET /v1.50/system/df']);
  await same(['system', 'df', '--format', 'json'], h);
  await same(['system', 'df', '--format', 'raw'], h);
  await same(['system', 'df', '--format', 'table {{.Type}}\t{{.Reclaimable}}'], h);
  await same(['system', 'df', '--format', '{{.Type}}={{.Size}}'], h);
  await same(['system', 'df', '--format', '{{.Nope}}'], h);
  await same(['system', 'df', '--format', '{{'], h);
  const verbose = await same(['system', 'df', '-v'], h);
  assert.match(verbose.berth.stdout, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
  assert.match(verbose.berth.stdout, /\nregistry\.example:5000\/team\/app +v2 +333333333333 /);
  assert.match(verbose.berth.stdout, /\nBuild cache usage: 0B\n\nCACHE ID +CACHE TYPE/);
  await same(['system', 'df', '--verbose', '--format', 'json'], h);
  await same(['system', 'df', '-v', '--format', 'raw'], h);
  await same(['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Name}}:{{.Links}}:{{.Size}} {{end}}|{{len .Images}}'], h);
  await same(['system', 'df', '-v', '--format', 'table {{range .Containers}}{{.Names}} {{.Size}}\n{{end}}'], h);
  await same(['system', 'df', '-v', '--format', '{{range .Images}}{{.Repository}} {{end}}{{.Missing}}'], h);
  await same(['system', 'df', 'extra'], h);
  // An empty daemon.
  await same(['system', 'df'], [dfHandler({ LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] })]);
  await same(['system', 'df', '-v'], [dfHandler({ LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] })]);
  await same(['system', 'df'], [(r) => (routeOf(r.url) === '/system/df' ? { status: 500, body: { message: 'disk on fire' } } : undefined)]);
});

test('system df summary: build cache records count as docker counts them', { skip }, async () => {
  const withCache = { ...DF, BuildCache: [{ ID: 'x', Size: 5_000, Shared: false, InUse: true }, { ID: 'y', Size: 7_000, Shared: true, InUse: false }, { ID: 'z', Size: 1_000, Shared: false, InUse: false }] };
  const c = await same(['system', 'df'], [dfHandler(withCache)]);
  assert.match(c.berth.stdout, /\nBuild Cache +3 +1 +6kB +1kB\n$/);
  const rows = summaryRows(withCache).map((r) => r.toJSON());
  assert.deepEqual(rows[3], { Active: '1', Reclaimable: '1kB', Size: '6kB', TotalCount: '3', Type: 'Build Cache' });
});

/** A scripted daemon for the prunes: each route answers its report and records its query. */
function pruneHandlers(fail?: string): Handler[] {
  const reports: Record<string, unknown> = {
    '/containers/prune': { ContainersDeleted: [hex('a'), hex('b')], SpaceReclaimed: 3_500_000 },
    '/networks/prune': { NetworksDeleted: ['n1', 'n2'] },
    '/volumes/prune': { VolumesDeleted: [hex('e')], SpaceReclaimed: 1_234 },
    '/images/prune': { ImagesDeleted: [{ Untagged: 'mine:1' }, { Deleted: `sha256:${hex('2')}` }], SpaceReclaimed: 2_000_000 },
    '/build/prune': { CachesDeleted: null, SpaceReclaimed: 0 },
  };
  return [
    (r) => {
      const route = routeOf(r.url);
      if (r.method !== 'POST' || !(route in reports)) return undefined;
      if (route === fail) return { status: 500, body: { message: `${route.split('/')[1]} prune failed` } };
      return { status: 200, body: reports[route] };
    },
  ];
}

test('system prune: the routes docker 28 calls, in its order, with its queries and output', { skip }, async () => {
  const plain = await same(['system', 'prune', '-f'], pruneHandlers());
  assert.deepEqual(requestLines(plain.berth.requests), [
    'POST /v1.50/containers/prune',
    'POST /v1.50/networks/prune',
    `POST /v1.50/images/prune?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`,
    'POST /v1.50/build/prune?filters=',
  ]);
  assert.equal(
    plain.berth.stdout,
    `Deleted Containers:\n${hex('a')}\n${hex('b')}\n\nDeleted Networks:\nn1\nn2\n\nDeleted Images:\nuntagged: mine:1\ndeleted: sha256:${hex('2')}\n\nTotal reclaimed space: 5.5MB\n`,
  );
  // -a --volumes: images with dangling=false, the build cache with all=1; volumes without all=true (docker 28 keeps named ones).
  const all = await same(['system', 'prune', '-a', '--volumes', '-f', '--filter', 'label=keep!=1', '--filter', 'label=x'], pruneHandlers());
  const lines = requestLines(all.berth.requests);
  assert.equal(lines.length, 5);
  assert.match(lines[2], /^POST \/v1\.50\/volumes\/prune\?filters=/);
  assert.doesNotMatch(decodeURIComponent(lines[2]), /"all"/);
  assert.match(decodeURIComponent(lines[3]), /"dangling":\{"false":true\}/);
  assert.match(lines[4], /^POST \/v1\.50\/build\/prune\?all=1&filters=/);
  assert.match(all.berth.stdout, /\nDeleted Volumes:\n[e]{64}\n\n/);
  assert.match(all.berth.stdout, /Total reclaimed space: 5.501MB\n$/);
  await same(['system', 'prune', '-f', '--filter', 'until=24h', '--filter', 'label!=a'], pruneHandlers());
  // A failing step ends the command with the daemon's error; what came before is printed.
  const failed = await same(['system', 'prune', '-f'], pruneHandlers('/images/prune'));
  assert.equal(failed.berth.code, 1);
  assert.match(failed.berth.stdout, /^Deleted Containers:/);
  await same(['system', 'prune', '-f'], pruneHandlers('/build/prune'));
  // Nothing to delete.
  const empty: Handler = (r) => (r.method === 'POST' && routeOf(r.url).endsWith('/prune') ? { status: 200, body: {} } : undefined);
  const none = await same(['system', 'prune', '-af', '--volumes'], [empty]);
  assert.equal(none.berth.stdout, 'Total reclaimed space: 0B\n');
});

test('system prune: the prompt, declining, and flag errors', { skip }, async () => {
  const declined = await same(['system', 'prune'], pruneHandlers(), { stdin: 'n\n' });
  assert.equal(declined.berth.code, 0);
  assert.deepEqual(requestLines(declined.berth.requests), []);
  assert.equal(
    declined.berth.stdout,
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ',
  );
  const yes = await same(['system', 'prune', '-a', '--volumes', '--filter', 'label=b', '--filter', 'label=a10', '--filter', 'label=a9'], pruneHandlers(), { stdin: 'y\n' });
  assert.match(yes.berth.stdout, /^WARNING! This will remove:\n(  - .*\n){5}\n  Items to be pruned will be filtered with:\n  - label=a9\n  - label=a10\n  - label=b\n\nAre you sure/);
  await same(['system', 'prune', '--filter', 'until=2h', '--filter', 'until=10h', '--filter', 'name=x'], pruneHandlers(), { stdin: '\n' });
  await same(['system', 'prune', '--volumes', '--filter', 'until=1h'], pruneHandlers());
  await same(['system', 'prune', '--filter', 'nonsense'], pruneHandlers());
  await same(['system', 'prune', 'extra'], pruneHandlers());
  await same(['system', 'prune', '--bogus'], pruneHandlers());
});

test('confirmationMessage lists the filters docker shows, naturally sorted', () => {
  const f = new Map([['label', ['z', 'a2', 'a10']], ['until', ['1h']], ['name', ['x']]]);
  assert.equal(
    confirmationMessage(true, true, f),
    'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n' +
      '  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n' +
      '  - label=a2\n  - label=a10\n  - label=z\n  - until=1h\n\nAre you sure you want to continue?',
  );
});
