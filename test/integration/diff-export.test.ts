// docker diff and docker export through the real docker CLI: the changes of a container's
// own layer (A, C, D), and its filesystem as a tar that imports back as a runnable image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dockerOk, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
const tag = randomBytes(3).toString('hex');
const n = (s: string) => `fs-${tag}-${s}`;

before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
});

const ok = (args: string[]) => dockerOk(d, args);

test('diff: an added file, a changed one, a deleted one and their directories, as docker prints them', async () => {
  await ok(['run', '--name', n('diff'), 'busybox', 'sh', '-c', 'mkdir -p /new/sub && echo a > /new/sub/f && echo x >> /etc/passwd && rm /etc/group']);
  const out = (await ok(['diff', n('diff')])).trim().split('\n');
  assert.deepEqual(out, ['C /etc', 'D /etc/group', 'C /etc/passwd', 'A /new', 'A /new/sub', 'A /new/sub/f']);
  const none = await ok(['run', '--name', n('clean'), 'busybox', 'true']);
  assert.equal(none, '');
  assert.equal(await ok(['diff', n('clean')]), '');
  const missing = await d.docker(['diff', n('nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container/);
  await ok(['rm', n('diff'), n('clean')]);
});

test('export: the whole filesystem of a stopped container; it imports back and runs', async (t) => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-export-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  await ok(['run', '--name', n('exp'), 'busybox', 'sh', '-c', 'echo exported > /marker']);
  const tar = join(dir, 'fs.tar');
  await ok(['export', '-o', tar, n('exp')]);
  const st = await fsp.stat(tar);
  assert.ok(st.size > 500_000, `${st.size} bytes`);
  await ok(['import', tar, `${n('img')}:1`]);
  assert.equal((await ok(['run', '--rm', `${n('img')}:1`, 'cat', '/marker'])).trim(), 'exported');
  await ok(['rm', n('exp')]);
  await ok(['rmi', `${n('img')}:1`]);
});
