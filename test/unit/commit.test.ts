// docker commit's pure parts: dockerd's merge of the committed config with the container's,
// the child image config (layers, history, parent fields), the request body's config, and
// the layer diff leaving out what the include filter refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeCommitConfig } from '../../src/container/commit.ts';
import { childImageConfig, EMPTY_LAYER_DIFF_ID } from '../../src/image/commit.ts';
import { commitBodyConfig } from '../../src/api/routes/commit.ts';
import { applyChanges } from '../../src/image/changes.ts';
import { packOverlayDiff, readTar } from '../../src/archive/tar.ts';
import { mknod } from '../../src/util/native.ts';
import type { ImageConfig } from '../../src/image/types.ts';

const container = {
  Hostname: 'abc',
  User: 'app',
  Env: ['PATH=/bin', 'A=1'],
  Cmd: ['sh', '-c', 'echo hi'],
  Entrypoint: null,
  WorkingDir: '/w',
  Labels: { l1: 'x', shared: 'container' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/data': {} },
  StopSignal: 'SIGUSR1',
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 },
  Image: 'busybox',
};

test('merge: what the changes leave empty comes from the container, by key for Env and Labels', () => {
  const changed = applyChanges(['ENV A=2 B=3', 'LABEL shared=commit', 'EXPOSE 443', 'VOLUME /more', 'HEALTHCHECK --timeout=2s CMD check'], container);
  const m = mergeCommitConfig(changed as never, container);
  assert.deepEqual(m.Env, ['PATH=/bin', 'A=2', 'B=3']);
  assert.deepEqual(m.Labels, { l1: 'x', shared: 'commit' });
  assert.deepEqual(Object.keys(m.ExposedPorts!).sort(), ['443/tcp', '80/tcp']);
  assert.deepEqual(Object.keys(m.Volumes!).sort(), ['/data', '/more']);
  assert.deepEqual(m.Cmd, ['sh', '-c', 'echo hi']);
  assert.equal(m.User, 'app');
  assert.equal(m.WorkingDir, '/w');
  assert.equal(m.StopSignal, 'SIGUSR1');
  // A health check from the changes keeps what it sets and takes the rest from the container's.
  assert.deepEqual(m.Healthcheck, { Test: ['CMD-SHELL', 'check'], Timeout: 2e9, Interval: 5e9, Retries: 3 });
});

test('merge: a new ENTRYPOINT drops the container\'s CMD; a body config starts from empty', () => {
  const ep = mergeCommitConfig(applyChanges(['ENTRYPOINT ["top"]'], container) as never, container);
  assert.deepEqual(ep.Entrypoint, ['top']);
  assert.equal(ep.Cmd, null);
  const fromBody = mergeCommitConfig(applyChanges(['CMD ["x"]'], { Env: ['Z=1'] }) as never, container);
  assert.deepEqual(fromBody.Cmd, ['x']);
  assert.deepEqual(fromBody.Env, ['Z=1', 'PATH=/bin', 'A=1']);
  assert.equal(fromBody.User, 'app');
  assert.throws(() => applyChanges(['FOO bar'], container), /^Error: foo is not a valid change command$/);
});

const parent: ImageConfig = {
  architecture: 'arm64',
  variant: 'v8',
  os: 'linux',
  created: '2024-01-01T00:00:00Z',
  config: { Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64)] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs' }],
};

test('child image config: the parent\'s layers and history plus the commit\'s', () => {
  const diff = 'sha256:' + '2'.repeat(64);
  const c = childImageConfig(parent, {
    containerId: 'c'.repeat(64), containerConfig: container, config: { Cmd: ['x'] }, author: 'me', comment: 'msg', diffId: diff, dockerVersion: '0.1.0', os: 'linux', created: '2025-02-03T04:05:06.7Z',
  });
  assert.deepEqual(c.rootfs.diff_ids, ['sha256:' + '1'.repeat(64), diff]);
  assert.deepEqual(c.history, [parent.history![0], { created: '2025-02-03T04:05:06.7Z', created_by: 'sh -c echo hi', author: 'me', comment: 'msg' }]);
  assert.equal(c.architecture, 'arm64');
  assert.equal(c.variant, 'v8');
  assert.equal(c.container, 'c'.repeat(64));
  assert.equal(c.author, 'me');
  assert.equal(c.comment, undefined, 'as dockerd, the message is only in the history');
  assert.deepEqual(c.config, { Cmd: ['x'] });
  assert.equal((c.container_config as { Hostname: string }).Hostname, 'abc');
  assert.equal(c.created, '2025-02-03T04:05:06.7Z');
  // Nothing changed: no layer, an empty_layer history entry.
  const empty = childImageConfig(parent, { containerId: 'c', containerConfig: {}, config: {}, diffId: EMPTY_LAYER_DIFF_ID, dockerVersion: 'v' });
  assert.deepEqual(empty.rootfs.diff_ids, parent.rootfs.diff_ids);
  assert.equal(empty.history!.at(-1)!.empty_layer, true);
  assert.equal(empty.author, undefined);
  assert.equal(EMPTY_LAYER_DIFF_ID, 'sha256:' + createHash('sha256').update(Buffer.alloc(1024)).digest('hex'));
});

test('body config: undefined without one, the config fields of a JSON body, Docker\'s 400s', () => {
  const json = 'application/json';
  assert.equal(commitBodyConfig(Buffer.alloc(0), undefined), undefined);
  assert.equal(commitBodyConfig(Buffer.from('null'), json), undefined);
  assert.equal(commitBodyConfig(Buffer.from('{}'), json), undefined);
  assert.equal(commitBodyConfig(Buffer.from('{"HostConfig":{}}'), json), undefined);
  assert.deepEqual(commitBodyConfig(Buffer.from('{"Cmd":["a"],"HostConfig":{},"Env":["X=1"]}'), 'application/json; charset=utf-8'), { Cmd: ['a'], Env: ['X=1'] });
  assert.throws(() => commitBodyConfig(Buffer.from('{}'), 'text/plain'), { status: 400, message: "unsupported Content-Type header (text/plain): must be 'application/json'" });
  assert.throws(() => commitBodyConfig(Buffer.from('{'), json), (e: Error & { status?: number }) => e.status === 400 && e.message.startsWith('invalid JSON: '));
});

test('layer diff with an include filter: refused paths are no entries, their children still asked', async (t) => {
  const upper = await fsp.mkdtemp(join(tmpdir(), 'berth-commit-'));
  t.after(() => fsp.rm(upper, { recursive: true, force: true }));
  for (const f of ['etc/hosts', 'etc/keep', 'dev/shm/.x', 'new/f']) {
    await fsp.mkdir(join(upper, f, '..'), { recursive: true });
    await fsp.writeFile(join(upper, f), 'x');
  }
  mknod(join(upper, 'etc', 'gone'), constants.S_IFCHR, 0, 0);
  const skip = new Set(['/etc/hosts', '/dev', '/dev/shm', '/dev/shm/.x', '/new']);
  const names: string[] = [];
  for await (const e of readTar(packOverlayDiff(upper, { include: (p) => !skip.has(p), mapIds: (u, g) => [u + 1, g + 2] }))) {
    names.push(e.header.name);
    assert.deepEqual([e.header.uid, e.header.gid], [process.getuid!() + 1, process.getgid!() + 2], e.header.name);
  }
  assert.deepEqual(names, ['etc/', 'etc/.wh.gone', 'etc/keep', 'new/f']);
});
