// Named volumes through a real berthd and the real docker CLI: volume create/ls/ls -q/
// ls --filter/inspect/rm/rm -f/prune -f/prune -a -f, their output and exit codes as docker
// prints them, the raw API's status codes, events, and records surviving a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ loadBusybox: false });
});
after(async () => {
  await d?.cleanup();
});
/** A test body that leaves no volumes behind, even when it fails (the next one starts from none). */
function clean(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } finally {
      await d.docker(['volume', 'prune', '-a', '-f']);
    }
  };
}

async function ok(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('docker volume create/ls/inspect/rm', clean(async () => {
  assert.equal(await ok(['volume', 'create', 'v1']), 'v1\n');
  assert.equal(await ok(['volume', 'create', '--label', 'app=web', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=8m', 'v2']), 'v2\n');
  assert.equal(await ok(['volume', 'create', 'v1']), 'v1\n'); // the same name again: the existing one
  const anon = (await ok(['volume', 'create'])).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);

  assert.equal(await ok(['volume', 'ls']), `DRIVER    VOLUME NAME\nlocal     ${anon}\nlocal     v1\nlocal     v2\n`);
  assert.equal(await ok(['volume', 'ls', '-q']), `${anon}\nv1\nv2\n`);
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=app=web']), 'v2\n');
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'name=v']), 'v1\nv2\n');
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'driver=local']), `${anon}\nv1\nv2\n`);
  assert.equal(await ok(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous']), `${anon}\n`);
  const badFilter = await d.docker(['volume', 'ls', '--filter', 'until=1h']);
  assert.equal(badFilter.code, 1);
  assert.equal(badFilter.stderr, "Error response from daemon: invalid filter 'until'\n");

  const [v2] = JSON.parse(await ok(['volume', 'inspect', 'v2']));
  assert.deepEqual(Object.keys(v2), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(v2.Mountpoint, join(d.dataRoot, 'volumes', 'v2', '_data'));
  assert.deepEqual(v2.Options, { device: 'tmpfs', o: 'size=8m', type: 'tmpfs' });
  assert.deepEqual(v2.Labels, { app: 'web' });
  assert.match(v2.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(await ok(['volume', 'inspect', '-f', '{{.Driver}} {{.Scope}}', 'v1']), 'local local\n');
  assert.ok((await fsp.stat(join(d.dataRoot, 'volumes', 'v1', '_data'))).isDirectory());

  const missing = await d.docker(['volume', 'inspect', 'nope']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Error response from daemon: get nope: no such volume\n');
  const plugin = await d.docker(['volume', 'create', '-d', 'nfs', 'x']);
  assert.equal(plugin.code, 1);
  assert.equal(plugin.stderr, 'Error response from daemon: create x: error looking up volume plugin nfs: plugin "nfs" not found\n');
  const bad = await d.docker(['volume', 'create', 'a/b']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error response from daemon: create a\/b: "a\/b" includes invalid characters for a local volume name/);

  const rmMissing = await d.docker(['volume', 'rm', 'nope']);
  assert.equal(rmMissing.code, 1);
  assert.equal(rmMissing.stderr, 'Error response from daemon: get nope: no such volume\n');
  assert.equal(await ok(['volume', 'rm', '-f', 'nope']), 'nope\n');
  assert.equal(await ok(['volume', 'rm', 'v1']), 'v1\n');
  await assert.rejects(fsp.stat(join(d.dataRoot, 'volumes', 'v1')), { code: 'ENOENT' });
  assert.equal(await ok(['volume', 'ls', '-q']), `${anon}\nv2\n`);

  // Records survive a daemon restart.
  await d.stop();
  await d.restart();
  assert.equal(await ok(['volume', 'ls', '-q']), `${anon}\nv2\n`);
  assert.equal(await ok(['volume', 'inspect', '-f', '{{.Labels.app}} {{.Options.type}}', 'v2']), 'web tmpfs\n');

  // Clean up for the next test.
  assert.equal(await ok(['volume', 'rm', anon, 'v2']), `${anon}\nv2\n`);
}));

test('docker volume prune: anonymous only, then -a, with label filters', clean(async () => {
  await ok(['volume', 'create', 'named']);
  await ok(['volume', 'create', '--label', 'keep=1', 'kept']);
  const anon = (await ok(['volume', 'create'])).trim();
  await fsp.writeFile(join(d.dataRoot, 'volumes', anon, '_data', 'f'), Buffer.alloc(2000));

  assert.equal(await ok(['volume', 'prune', '-f']), `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 2kB\n`);
  assert.equal(await ok(['volume', 'prune', '-f']), 'Total reclaimed space: 0B\n');
  assert.equal(await ok(['volume', 'prune', '-a', '-f', '--filter', 'label!=keep=1']), 'Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n');
  assert.equal(await ok(['volume', 'ls', '-q']), 'kept\n');
  assert.equal(await ok(['volume', 'prune', '-a', '-f']), 'Deleted Volumes:\nkept\n\nTotal reclaimed space: 0B\n');
  assert.equal(await ok(['volume', 'ls', '-q']), '');
  const badPrune = await d.docker(['volume', 'prune', '-f', '--filter', 'until=1h']);
  assert.equal(badPrune.code, 1);
  assert.equal(badPrune.stderr, "Error response from daemon: invalid filter 'until'\n");
}));

test('raw API: status codes, bodies and volume events', clean(async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const c1 = await d.api('POST', '/volumes/create', { Name: 'raw', Labels: { a: 'b' } });
  assert.equal(c1.status, 201);
  assert.equal(c1.json().Name, 'raw');
  const c2 = await d.api('POST', '/volumes/create', { Name: 'raw', Driver: 'local' });
  assert.equal(c2.status, 201);
  assert.deepEqual(c2.json(), c1.json());
  const conflict = await d.api('POST', '/volumes/create', { Name: 'raw', Driver: 'other' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json().message, "create raw: driver 'local' already has volume 'raw': volume name must be unique");
  const opt = await d.api('POST', '/volumes/create', { Name: 'opt', DriverOpts: { foo: 'bar' } });
  assert.equal(opt.status, 400);
  assert.equal(opt.json().message, 'create opt: invalid option: "foo"');

  const list = await d.api('GET', `/volumes?filters=${encodeURIComponent(JSON.stringify({ label: ['a=b'] }))}`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json().Volumes.map((v: { Name: string }) => v.Name), ['raw']);
  assert.equal((await d.api('GET', '/volumes/raw')).status, 200);
  const gone = await d.api('GET', '/volumes/none');
  assert.equal(gone.status, 404);
  assert.equal(gone.json().message, 'get none: no such volume');
  assert.equal((await d.api('DELETE', '/volumes/raw')).status, 204);
  assert.equal((await d.api('DELETE', '/volumes/raw')).status, 404);
  assert.equal((await d.api('DELETE', '/volumes/raw?force=1')).status, 204);
  const pruned = await d.api('POST', '/volumes/prune');
  assert.equal(pruned.status, 200);
  assert.deepEqual(pruned.json(), { VolumesDeleted: [], SpaceReclaimed: 0 });

  const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=volume', '--filter', 'volume=raw', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(ev.stdout, 'create raw local\ndestroy raw local\n');
}));
