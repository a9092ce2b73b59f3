// docker diff from an overlay upper dir: additions, changes, whiteouts, and the runtime's
// mount targets left out as dockerd's init layer hides them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mknod } from '../../src/util/native.ts';
import { constants } from 'node:fs';
import { overlayChanges, lowerDirs } from '../../src/container/changes.ts';

test('A, C and D from an upper dir over two lower layers; mount targets are not changes', async (t) => {
  const top = await fsp.mkdtemp(join(tmpdir(), 'berth-changes-'));
  t.after(() => fsp.rm(top, { recursive: true, force: true }));
  const [upper, l1, l2] = ['upper', 'l1', 'l2'].map((x) => join(top, x)) as [string, string, string];
  const files: Record<string, string[]> = {
    [l2]: ['etc/passwd', 'etc/group', 'bin/sh'],
    [l1]: ['usr/lib/x', 'opt/only-dir/keep'],
    // the container: /etc/passwd changed, /etc/group deleted, /new added, and what the
    // runtime made for its mounts (/etc/hosts, /proc, /dev/shm, /.dockerenv).
    [upper]: ['etc/passwd', 'etc/hosts', 'etc/resolv.conf', 'new/sub/f', 'proc/.keep', 'usr/lib/y', '.dockerenv'],
  };
  for (const [root, list] of Object.entries(files)) {
    for (const f of list) {
      await fsp.mkdir(join(root, f, '..'), { recursive: true });
      await fsp.writeFile(join(root, f), 'x');
    }
  }
  await fsp.rm(join(upper, 'proc', '.keep'));
  await fsp.mkdir(join(upper, 'dev', 'shm'), { recursive: true });
  mknod(join(upper, 'etc', 'group'), constants.S_IFCHR, 0, 0); // a whiteout
  const changes = await overlayChanges(upper, [l1, l2]);
  const text = changes.map((c) => `${'CAD'[c.Kind]} ${c.Path}`);
  assert.deepEqual(text, ['C /etc', 'D /etc/group', 'C /etc/passwd', 'A /new', 'A /new/sub', 'A /new/sub/f', 'C /usr', 'C /usr/lib', 'A /usr/lib/y']);
  // /etc copied up only for the runtime's /etc/hosts: no change at all.
  await fsp.rm(join(upper, 'etc', 'passwd'));
  await fsp.rm(join(upper, 'etc', 'group'));
  const only = (await overlayChanges(upper, [l1, l2])).map((c) => c.Path);
  assert.ok(!only.includes('/etc'), only.join(' '));
  assert.deepEqual(lowerDirs(['index=off', 'lowerdir=/a/l/X:/a/l/Y', 'upperdir=/u']), ['/a/l/X', '/a/l/Y']);
});
