// GET /system/df and POST /build/prune on an API server over a scripted source: the type
// query, one computation per kind for concurrent requests, the answer's shape; the engine
// source's volumes (UsageData with RefCount) and layers size; build prune's query checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/api/server.ts';
import { checkBuildPrune, diskUsageRoutes, requestedKinds, type DiskUsageSource } from '../../src/api/routes/disk-usage.ts';
import { diskUsageSource, layersSize } from '../../src/daemon/disk-usage.ts';
import { VolumeService } from '../../src/volume/service.ts';
import type { Engine } from '../../src/daemon/engine.ts';

async function tmp(t: { after: (fn: () => Promise<void>) => void }, prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), prefix));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

function call(socket: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A source whose kinds count their calls and answer after a short wait. */
function countingSource() {
  const calls = { containers: 0, images: 0, volumes: 0 };
  const later = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 50));
  const src: DiskUsageSource = {
    containers: () => (calls.containers++, later([{ Id: 'c', SizeRw: 5 }])),
    images: () => (calls.images++, later({ layersSize: 123, images: [{ Id: 'i', Size: 123, SharedSize: 0, Containers: 1 }] })),
    volumes: () => (calls.volumes++, later([{ Name: 'v', UsageData: { Size: 7, RefCount: 1 } }])),
  };
  return { calls, src };
}

async function serve(t: { after: (fn: () => Promise<void>) => void }, src: DiskUsageSource): Promise<string> {
  const dir = await tmp(t, 'berth-df-');
  const socket = join(dir, 'api.sock');
  const api = new ApiServer();
  diskUsageRoutes(api.router, src);
  await api.listen(`unix://${socket}`);
  t.after(() => api.close());
  return socket;
}

test('GET /system/df: every kind by default, in dockerd’s field order; concurrent requests share one computation', async (t) => {
  const { calls, src } = countingSource();
  const socket = await serve(t, src);
  const [a, b] = await Promise.all([call(socket, 'GET', '/v1.50/system/df'), call(socket, 'GET', '/v1.50/system/df')]);
  assert.equal(a.status, 200);
  assert.equal(a.body, b.body);
  assert.equal(
    a.body,
    '{"LayersSize":123,"Images":[{"Id":"i","Size":123,"SharedSize":0,"Containers":1}],"Containers":[{"Id":"c","SizeRw":5}],' +
      '"Volumes":[{"Name":"v","UsageData":{"Size":7,"RefCount":1}}],"BuildCache":[]}\n',
  );
  assert.deepEqual(calls, { containers: 1, images: 1, volumes: 1 });
  // A later request computes again.
  await call(socket, 'GET', '/system/df');
  assert.deepEqual(calls, { containers: 2, images: 2, volumes: 2 });
});

test('GET /system/df?type=: only the kinds asked for are computed; unknown ones are refused', async (t) => {
  const { calls, src } = countingSource();
  const socket = await serve(t, src);
  const vols = await call(socket, 'GET', '/v1.50/system/df?type=volume');
  assert.equal(vols.body, '{"LayersSize":0,"Images":null,"Containers":null,"Volumes":[{"Name":"v","UsageData":{"Size":7,"RefCount":1}}],"BuildCache":null}\n');
  assert.deepEqual(calls, { containers: 0, images: 0, volumes: 1 });
  const cache = await call(socket, 'GET', '/v1.50/system/df?type=build-cache');
  assert.equal(cache.body, '{"LayersSize":0,"Images":null,"Containers":null,"Volumes":null,"BuildCache":[]}\n');
  assert.deepEqual(calls, { containers: 0, images: 0, volumes: 1 });
  // Before API 1.42 the type query is ignored.
  await call(socket, 'GET', '/v1.41/system/df?type=volume');
  assert.deepEqual(calls, { containers: 1, images: 1, volumes: 2 });
  const bad = await call(socket, 'GET', '/v1.50/system/df?type=image&type=layer');
  assert.deepEqual([bad.status, JSON.parse(bad.body)], [400, { message: 'unknown object type: layer' }]);
});

test('POST /build/prune: nothing to delete; dockerd’s errors for bad queries', async (t) => {
  const socket = await serve(t, countingSource().src);
  assert.deepEqual(await call(socket, 'POST', '/v1.50/build/prune?all=1&filters='), { status: 200, body: '{"CachesDeleted":null,"SpaceReclaimed":0}\n' });
  assert.equal((await call(socket, 'POST', `/v1.50/build/prune?filters=${encodeURIComponent('{"until":["24h"],"label":["a=b"]}')}&keep-storage=1000`)).status, 200);
  const badFilter = await call(socket, 'POST', `/v1.50/build/prune?filters=${encodeURIComponent('{"dangling":["true"]}')}`);
  assert.deepEqual([badFilter.status, JSON.parse(badFilter.body).message], [400, "failed to prune build cache: invalid filter 'dangling'"]);
  const badSize = await call(socket, 'POST', '/v1.50/build/prune?max-used-space=lots');
  assert.deepEqual([badSize.status, JSON.parse(badSize.body).message], [400, 'max-used-space is in bytes and expects an integer, got lots: strconv.Atoi: parsing "lots": invalid syntax']);
  // keep-storage is not read when reserved-space is given (1.48+), nor max-used-space before 1.48.
  assert.equal((await call(socket, 'POST', '/v1.50/build/prune?reserved-space=10&keep-storage=x')).status, 200);
  assert.equal((await call(socket, 'POST', '/v1.47/build/prune?max-used-space=x')).status, 200);
  assert.equal((await call(socket, 'POST', '/v1.47/build/prune?keep-storage=x')).status, 400);
});

test('the engine source: volumes with their data size and the containers holding them', async (t) => {
  const dir = await tmp(t, 'berth-df-vol-');
  const volumes = await VolumeService.open(dir);
  await volumes.create({ Name: 'data' });
  await volumes.create({ Name: 'empty' });
  const data = join(dir, 'data', '_data');
  await fsp.writeFile(join(data, 'a'), Buffer.alloc(4096));
  await fsp.link(join(data, 'a'), join(data, 'hard')); // one inode, counted once
  await fsp.mkdir(join(data, 'sub'));
  await fsp.writeFile(join(data, 'sub', 'b'), Buffer.alloc(10));
  await volumes.use('data', 'c1');
  await volumes.use('data', 'c2');
  const src = diskUsageSource({ volumes } as unknown as Engine);
  const got = (await src.volumes()) as Array<{ Name: string; UsageData: unknown }>;
  assert.deepEqual(got.map((v) => [v.Name, v.UsageData]), [['data', { Size: 4106, RefCount: 2 }], ['empty', { Size: 0, RefCount: 0 }]]);
  await volumes.unuse('data', 'c1');
  await volumes.unuse('data', 'c2');
  assert.deepEqual(((await src.volumes()) as Array<{ UsageData: unknown }>)[0]!.UsageData, { Size: 4106, RefCount: 0 });
});

test('GET /system/df type query: the kinds asked for, all of them without it or before API 1.42', () => {
  assert.deepEqual([...requestedKinds(undefined, true)], ['container', 'image', 'volume', 'build-cache']);
  assert.deepEqual([...requestedKinds(['volume'], false)], ['container', 'image', 'volume', 'build-cache']);
  assert.deepEqual([...requestedKinds(['volume', 'image', 'volume'], true)], ['volume', 'image']);
  assert.deepEqual([...requestedKinds([], true)], []);
  assert.throws(() => requestedKinds(['volume', 'layers'], true), { status: 400, message: 'unknown object type: layers' });
});

test('POST /build/prune checks its query as dockerd does', () => {
  assert.doesNotThrow(() => checkBuildPrune({}, {}));
  assert.doesNotThrow(() => checkBuildPrune({ until: ['24h'], label: ['a', 'b'], inuse: [] }, { 'keep-storage': '1000' }));
  assert.throws(() => checkBuildPrune({ dangling: ['true'] }, {}), { status: 400, message: "failed to prune build cache: invalid filter 'dangling'" });
  assert.throws(() => checkBuildPrune({ until: ['1h', '2h'] }, {}), { status: 400, message: 'failed to prune build cache: filters expect only one value' });
  assert.throws(() => checkBuildPrune({ until: ['1h'], 'unused-for': ['2h'] }, {}), { status: 400, message: 'failed to prune build cache: conflicting filters: "until" and "unused-for"' });
  assert.throws(() => checkBuildPrune({ 'unused-for': ['soon'] }, {}), {
    status: 400,
    message: 'failed to prune build cache: "unused-for" filter expects a duration (e.g., \'24h\') or a timestamp: failed to parse value as time or duration: "soon"',
  });
  assert.throws(() => checkBuildPrune({ id: ['a', 'b'] }, {}), { status: 400, message: 'failed to prune build cache: filters expect only one value' });
  assert.throws(() => checkBuildPrune({}, { 'keep-storage': '1g' }), { status: 400, message: 'keep-storage is in bytes and expects an integer, got 1g: strconv.Atoi: parsing "1g": invalid syntax' });
});

test('layersSize counts each layer once, whichever images share it', () => {
  const l = (chainId: string, size: number) => ({ chainId, size });
  assert.equal(layersSize([]), 0);
  assert.equal(layersSize([{ layers: [l('a', 100), l('b', 20)] }, { layers: [l('a', 100), l('c', 3)] }, { layers: [] }]), 123);
});
