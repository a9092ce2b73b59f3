// Container records on disk and the json-file log reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ContainerStore } from '../../src/container/store.ts';
import { initialState, type ContainerRecord } from '../../src/container/record.ts';
import { readLogs } from '../../src/container/logs.ts';

function record(id: string, name: string): ContainerRecord {
  return {
    Id: id, Created: new Date().toISOString(), Path: 'true', Args: [], State: initialState(), Image: 'sha256:' + 'a'.repeat(64),
    ResolvConfPath: '', HostnamePath: '', HostsPath: '', LogPath: '', Name: name, RestartCount: 0, Driver: 'overlay2',
    Platform: 'linux', Runtime: 'runc', Config: { Image: 'busybox' }, HostConfig: {},
  };
}

test('records survive a restart; leftovers of an interrupted create are removed', async (t) => {
  const root = await fsp.mkdtemp(join(tmpdir(), 'berth-cstore-'));
  t.after(() => fsp.rm(root, { recursive: true, force: true }));
  const a = new ContainerStore(root);
  await a.init();
  const id = 'ab'.repeat(32);
  a.reserveName('/one', id);
  await fsp.mkdir(a.dir(id));
  await a.save(record(id, '/one'));
  // a create that died before its record was written, and a temp file of a torn write
  await fsp.mkdir(join(root, 'cd'.repeat(32)));
  await fsp.writeFile(join(a.dir(id), 'config.v2.json.tmp-1-abcdef12'), '{');
  const b = new ContainerStore(root);
  await b.init();
  assert.deepEqual(b.list().map((r) => r.Name), ['/one']);
  assert.deepEqual((await fsp.readdir(root)).sort(), [id]);
  assert.deepEqual(await fsp.readdir(b.dir(id)), ['config.v2.json']);
  assert.equal(b.get('one').Id, id);
  assert.equal(b.get(id.slice(0, 5)).Id, id);
  assert.throws(() => b.get('nope'), /No such container: nope/);
  assert.throws(() => b.reserveName('/one', 'ef'.repeat(32)), /is already in use by container/);
  await b.remove(b.get('one'));
  assert.deepEqual(await fsp.readdir(root), []);
});

test('an ambiguous id prefix is refused', async (t) => {
  const root = await fsp.mkdtemp(join(tmpdir(), 'berth-cstore-'));
  t.after(() => fsp.rm(root, { recursive: true, force: true }));
  const s = new ContainerStore(root);
  await s.init();
  for (const id of ['abc1' + '0'.repeat(60), 'abc2' + '0'.repeat(60)]) {
    await fsp.mkdir(s.dir(id));
    await s.save(record(id, '/' + id.slice(0, 4)));
  }
  assert.throws(() => s.get('abc'), /multiple IDs found with provided prefix: abc/);
});

test('json-file reader: streams, tail, since/until, a torn last line', async (t) => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'log.json');
  const line = (log: string, stream: string, sec: number) => JSON.stringify({ log, stream, time: `2026-11-23T10:00:0${sec}.000000001Z` }) + '\n';
  await fsp.writeFile(path, line('a\n', 'stdout', 1) + line('b\n', 'stderr', 2) + line('c\n', 'stdout', 3) + '{"log":"tor');
  const read = async (o: Partial<Parameters<typeof readLogs>[1]>) => {
    const out: string[] = [];
    for await (const e of readLogs(path, { stdout: true, stderr: true, since: 0n, until: 0n, tail: -1, follow: false, running: () => false, ...o })) out.push(`${e.stream}:${e.data.toString()}`);
    return out;
  };
  assert.deepEqual(await read({}), ['1:a\n', '2:b\n', '1:c\n']);
  assert.deepEqual(await read({ stderr: false }), ['1:a\n', '1:c\n']);
  assert.deepEqual(await read({ tail: 1 }), ['1:c\n']);
  assert.deepEqual(await read({ tail: 0 }), []);
  const sec = (s: number) => BigInt(Date.parse(`2026-11-23T10:00:0${s}Z`)) * 1_000_000n;
  assert.deepEqual(await read({ since: sec(2) }), ['2:b\n', '1:c\n']);
  assert.deepEqual(await read({ until: sec(2) + 5n }), ['1:a\n', '2:b\n']);
  assert.deepEqual(await read({}).then(() => readLogs(join(dir, 'missing'), { stdout: true, stderr: true, since: 0n, until: 0n, tail: -1, follow: false, running: () => false }).next()), { value: undefined, done: true });
});
