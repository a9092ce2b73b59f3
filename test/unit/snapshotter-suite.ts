// The behaviour every Snapshotter must show, as a node:test suite: run it with
// snapshotterSuite('name', (root) => new MySnapshotter(root)). Needs root and real mounts;
// every test unmounts and deletes what it made, also when it fails.
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TarWriter } from '../../src/archive/tar.ts';
import type { TarWriterHeader } from '../../src/archive/tar.ts';
import { mountAll, unmount } from '../../src/snapshot/mount.ts';
import type { Snapshotter } from '../../src/snapshot/snapshotter.ts';

export type TarSpec = Array<TarWriterHeader & { body?: string | Buffer }>;

/** An in-memory tar of the given entries, written by our TarWriter. */
export async function buildTar(entries: TarSpec): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const { body, ...h } of entries) await w.add(h, body === undefined ? undefined : Buffer.from(body));
  await w.finish();
  return Buffer.concat(chunks);
}

export function sha256(data: string | Buffer): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** OCI chain id of a stack of diff ids. */
export function chainIdOf(diffIds: string[]): string {
  let chain = diffIds[0]!;
  for (const d of diffIds.slice(1)) chain = sha256(`${chain} ${d}`);
  return chain;
}

async function* chunks(data: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Every path under dir with its type and size, for "nothing changed" comparisons. */
export async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const name of (await fsp.readdir(d)).sort()) {
      const st = await fsp.lstat(join(d, name));
      out.push(`${rel}${name} ${st.mode.toString(8)} ${st.isDirectory() ? '' : st.size}`);
      if (st.isDirectory()) await walk(join(d, name), `${rel}${name}/`);
    }
  };
  await walk(dir, '');
  return out;
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch {
    return null;
  }
}

const BASE: TarSpec = [
  { name: 'bin/', type: 'dir' },
  { name: 'bin/sh', type: 'file', mode: 0o755, body: '#!fake shell\n' },
  { name: 'etc/', type: 'dir' },
  { name: 'etc/group', type: 'file', body: 'root:x:0:\n' },
  { name: 'etc/passwd', type: 'file', body: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'gone.txt', type: 'file', body: 'deleted by layer 2\n' },
  { name: 'opt/', type: 'dir' },
  { name: 'opt/a', type: 'file', body: 'a' },
  { name: 'opt/sub/', type: 'dir' },
  { name: 'opt/sub/c', type: 'file', body: 'c' },
  { name: 'tmp/', type: 'dir', mode: 0o1777 },
];

const TOP: TarSpec = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/.wh.group', type: 'file' },
  { name: 'etc/hostname', type: 'file', body: 'box\n' },
  { name: '.wh.gone.txt', type: 'file' },
  { name: 'opt/', type: 'dir' },
  { name: 'opt/.wh..wh..opq', type: 'file' },
  { name: 'opt/new', type: 'file', body: 'new' },
];

export function snapshotterSuite(name: string, make: (root: string) => Snapshotter): void {
  describe(`snapshotter contract: ${name}`, () => {
    let base: string; // per-test temp dir: root/ for the snapshotter, mnt*/ for mounts
    let root: string;
    let s: Snapshotter;
    const mounted: string[] = [];

    const mountAt = async (key: string, mounts: Awaited<ReturnType<Snapshotter['mounts']>>): Promise<string> => {
      const target = join(base, `mnt-${key}`);
      await fsp.mkdir(target);
      mounted.push(target);
      await mountAll(mounts, target);
      return target;
    };

    // Two layers: a base and one with a whiteout, a whiteout of a file and an opaque dir.
    const applyBoth = async () => {
      const [t1, t2] = [await buildTar(BASE), await buildTar(TOP)];
      const c1 = chainIdOf([sha256(t1)]);
      const c2 = chainIdOf([sha256(t1), sha256(t2)]);
      const r1 = await s.applyLayer(undefined, c1, chunks(t1));
      const r2 = await s.applyLayer(c1, c2, chunks(t2), sha256(t2));
      return { t1, t2, c1, c2, r1, r2 };
    };

    beforeEach(async () => {
      base = await fsp.mkdtemp(join(tmpdir(), 'berth-snapsuite-'));
      root = join(base, 'root');
      s = make(root);
      await s.init();
    });

    afterEach(async () => {
      for (const m of mounted.splice(0)) await unmount(m);
      await fsp.rm(base, { recursive: true, force: true });
    });

    after(() => assert.equal(mounted.length, 0));

    test('applyLayer reports the exact digest and size and commits the layer', async () => {
      const { t1, t2, c1, c2, r1, r2 } = await applyBoth();
      assert.deepEqual(r1, { diffId: sha256(t1), size: t1.length });
      assert.deepEqual(r2, { diffId: sha256(t2), size: t2.length });
      assert.equal(await s.has(c1), true);
      assert.equal(await s.has(c2), true);
      assert.equal(await s.has(sha256('nothing')), false);
      // Docker counts file bytes of the layer's own files.
      assert.equal(await s.usage(c1), 13 + 10 + 26 + 19 + 1 + 1);
    });

    test('the merged view shows the top layer and hides whiteouts and opaque dirs', async () => {
      const { c2 } = await applyBoth();
      const m = await mountAt('c1', await s.prepare('c1', c2));
      assert.equal(await readOrNull(join(m, 'etc/passwd')), 'root:x:0:0::/root:/bin/sh\n');
      assert.equal(await readOrNull(join(m, 'etc/hostname')), 'box\n');
      assert.equal(existsSync(join(m, 'etc/group')), false);
      assert.equal(existsSync(join(m, 'gone.txt')), false);
      assert.deepEqual((await fsp.readdir(join(m, 'opt'))).sort(), ['new']);
      assert.deepEqual((await fsp.readdir(m)).sort(), ['bin', 'etc', 'opt', 'tmp']);
      assert.equal((await fsp.stat(join(m, 'bin/sh'))).mode & 0o7777, 0o755);
      assert.equal((await fsp.stat(join(m, 'tmp'))).mode & 0o7777, 0o1777);
    });

    test('writes land in the writable layer only; another container does not see them', async () => {
      const { c2 } = await applyBoth();
      const m1 = await mountAt('c1', await s.prepare('c1', c2));
      const m2 = await mountAt('c2', await s.prepare('c2', c2));
      await fsp.writeFile(join(m1, 'etc/passwd'), 'changed\n');
      await fsp.writeFile(join(m1, 'created'), 'x');
      await fsp.rm(join(m1, 'etc/hostname'));
      await fsp.rm(join(m1, 'opt'), { recursive: true });

      const upper = s.upperDir('c1');
      assert.equal(await readOrNull(join(upper, 'created')), 'x');
      assert.equal(await readOrNull(join(upper, 'etc/passwd')), 'changed\n');
      assert.equal(await readOrNull(join(m1, 'etc/hostname')), null);
      assert.equal(existsSync(join(m1, 'opt')), false);
      // The other container still sees the image as it was.
      assert.equal(await readOrNull(join(m2, 'etc/passwd')), 'root:x:0:0::/root:/bin/sh\n');
      assert.equal(await readOrNull(join(m2, 'etc/hostname')), 'box\n');
      assert.equal(existsSync(join(m2, 'created')), false);
      assert.deepEqual(await fsp.readdir(join(m2, 'opt')), ['new']);
      assert.deepEqual(await fsp.readdir(s.upperDir('c2')), []);

      // mounts() gives the same assembly again, e.g. after a daemon restart.
      await unmount(m1);
      await mountAll(await s.mounts('c1'), m1);
      assert.equal(await readOrNull(join(m1, 'etc/passwd')), 'changed\n');
      assert.equal(await readOrNull(join(m1, 'created')), 'x');
    });

    test('removeActive deletes a writable layer; remove deletes a committed one', async () => {
      const { c1, c2 } = await applyBoth();
      const m = await mountAt('c1', await s.prepare('c1', c2));
      await fsp.writeFile(join(m, 'f'), 'x');
      await unmount(m);
      await s.removeActive('c1');
      assert.equal(existsSync(s.upperDir('c1')), false);
      await assert.rejects(s.mounts('c1'), (e: Error & { status?: number }) => e.status === 404);
      await s.removeActive('c1'); // already gone: no error

      const before = await listing(root);
      await s.remove(c2);
      assert.equal(await s.has(c2), false);
      assert.equal(await s.has(c1), true);
      assert.notDeepEqual(await listing(root), before);
      await s.remove(c1);
      assert.equal(await s.has(c1), false);
    });

    test('a writable layer without a parent is empty; keys and parents are checked', async () => {
      const m = await mountAt('scratch', await s.prepare('scratch', undefined));
      assert.deepEqual(await fsp.readdir(m), []);
      await fsp.writeFile(join(m, 'x'), 'y');
      assert.equal(await readOrNull(join(s.upperDir('scratch'), 'x')), 'y');
      await assert.rejects(s.prepare('scratch', undefined), (e: Error & { status?: number }) => e.status === 409);
      await assert.rejects(s.prepare('other', sha256('missing')), (e: Error & { status?: number }) => e.status === 404);
      await assert.rejects(s.prepare('../evil', undefined), (e: Error & { status?: number }) => e.status === 400);
      await assert.rejects(s.applyLayer(sha256('missing'), sha256('x'), chunks(await buildTar([]))), (e: Error & { status?: number }) => e.status === 404);
    });

    test('applying a chain id that exists again changes nothing and still checks the digest', async () => {
      const { t1, c1 } = await applyBoth();
      const before = await listing(root);
      assert.deepEqual(await s.applyLayer(undefined, c1, chunks(t1), sha256(t1)), { diffId: sha256(t1), size: t1.length });
      await assert.rejects(s.applyLayer(undefined, c1, chunks(t1), sha256('other')));
      assert.deepEqual(await listing(root), before);
    });

    test('a layer whose digest differs from the expected one leaves nothing behind', async () => {
      const before = await listing(root);
      const t = await buildTar(BASE);
      await assert.rejects(s.applyLayer(undefined, chainIdOf([sha256(t)]), chunks(t), sha256('something else')), /digest/);
      assert.equal(await s.has(chainIdOf([sha256(t)])), false);
      assert.deepEqual(await listing(root), before);
    });

    test('a hostile layer is refused, writes nothing outside and leaves nothing behind', async () => {
      const sentinel = join(base, 'sentinel');
      await fsp.mkdir(sentinel);
      const before = await listing(root);
      const hostile: TarSpec[] = [
        [{ name: 'ok', type: 'file', body: 'fine' }, { name: '../sentinel/escaped', type: 'file', body: 'x' }],
        [{ name: 'a', type: 'symlink', linkname: sentinel }, { name: 'a/escaped', type: 'file', body: 'x' }],
        [{ name: '/abs', type: 'file', body: 'x' }],
        [{ name: 'l', type: 'hardlink', linkname: '../sentinel/x' }],
      ];
      for (const spec of hostile) {
        const t = await buildTar(spec);
        await assert.rejects(s.applyLayer(undefined, chainIdOf([sha256(t)]), chunks(t)), (e: Error & { status?: number }) => e.status === 400);
        assert.equal(await s.has(chainIdOf([sha256(t)])), false);
      }
      assert.deepEqual(await fsp.readdir(sentinel), []);
      assert.deepEqual(await listing(root), before);
    });

    test('init() after a crash in the middle of an apply removes its leftovers', async () => {
      const before = await listing(root);
      const t = await buildTar([...BASE, { name: 'big', type: 'file', body: Buffer.alloc(200_000, 1) }]);
      // The stream delivers the first half, then never again: the apply is left hanging
      // mid-way, as a process killed at that moment would leave it.
      let stalled!: () => void;
      let release!: (err: Error) => void;
      const reachedStall = new Promise<void>((resolve) => (stalled = resolve));
      const stream: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]() {
          let sent = false;
          return {
            next: () => {
              if (!sent) {
                sent = true;
                return Promise.resolve({ done: false as const, value: t.subarray(0, 100_000) });
              }
              stalled();
              return new Promise<IteratorResult<Uint8Array>>((_, reject) => (release = reject));
            },
          };
        },
      };
      const chain = chainIdOf([sha256(t)]);
      const hanging = s.applyLayer(undefined, chain, stream);
      await reachedStall;
      assert.notDeepEqual(await listing(root), before, 'the interrupted apply wrote something');

      const restarted = make(root);
      await restarted.init();
      assert.equal(await restarted.has(chain), false);
      assert.deepEqual(await listing(root), before);
      // Let the abandoned apply fail, so it closes its files before the test ends.
      release(new Error('simulated crash'));
      await assert.rejects(hanging, /simulated crash/);
      assert.equal(await restarted.has(chain), false);
    });

    // A stream that sends its first piece and holds the rest until release() (fail() ends it with an error).
    const gated = (data: Buffer) => {
      let open!: () => void;
      let shut!: (err: Error) => void;
      const gate = new Promise<void>((resolve, reject) => {
        open = resolve;
        shut = reject;
      });
      gate.catch(() => undefined); // the stream reports it when it gets there
      async function* stream() {
        yield data.subarray(0, 512);
        await gate;
        yield* chunks(data.subarray(512));
      }
      return { stream: stream(), release: open, fail: shut };
    };

    test('a layer applied while its parent still is: committed after it, and sees its content where the tar refers to it', async () => {
      const t1 = await buildTar(BASE);
      // A hardlink to a file only the parent has, and a file in a directory the tar does not list.
      const t2 = await buildTar([
        { name: 'bin/', type: 'dir' },
        { name: 'bin/sh2', type: 'hardlink', linkname: 'bin/sh' },
        { name: 'opt/sub/d', type: 'file', body: 'd' },
      ]);
      const c1 = chainIdOf([sha256(t1)]);
      const c2 = chainIdOf([sha256(t1), sha256(t2)]);
      const parentTar = gated(t1);
      const parent = s.applyLayer(undefined, c1, parentTar.stream, sha256(t1));
      const child = s.applyLayer(c1, c2, chunks(t2), sha256(t2), { parentReady: parent });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await s.has(c2), false, 'the child committed before its parent');
      parentTar.release();
      assert.deepEqual(await child, { diffId: sha256(t2), size: t2.length });
      assert.equal(await s.has(c1), true);
      const m = await mountAt('side', await s.prepare('side', c2));
      assert.equal(await readOrNull(join(m, 'bin/sh2')), '#!fake shell\n');
      assert.equal((await fsp.stat(join(m, 'bin/sh2'))).mode & 0o777, 0o755);
      assert.equal(await readOrNull(join(m, 'opt/sub/c')), 'c');
      assert.equal(await readOrNull(join(m, 'opt/sub/d')), 'd');
    });

    test('a layer applied while its parent fails fails too and keeps nothing', async () => {
      const before = await listing(root);
      const t1 = await buildTar(BASE);
      const t2 = await buildTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hostname', type: 'file', body: 'box\n' }]);
      const c1 = chainIdOf([sha256(t1)]);
      const c2 = chainIdOf([sha256(t1), sha256(t2)]);
      const parentTar = gated(t1);
      const parent = s.applyLayer(undefined, c1, parentTar.stream, sha256(t1));
      parent.catch(() => undefined);
      const child = s.applyLayer(c1, c2, chunks(t2), sha256(t2), { parentReady: parent });
      parentTar.fail(new Error('connection reset'));
      await assert.rejects(parent, /connection reset/);
      await assert.rejects(child, /connection reset/);
      assert.equal(await s.has(c1), false);
      assert.equal(await s.has(c2), false);
      assert.deepEqual(await listing(root), before);
    });

    test('a deep chain of layers (more than fit in one page of mount options) mounts', async () => {
      const diffIds: string[] = [];
      for (let i = 0; i < 130; i++) {
        const spec: TarSpec = [{ name: `layer${i}`, type: 'file', body: String(i) }];
        if (i > 0) spec.push({ name: `.wh.layer${i - 1}`, type: 'file' });
        const t = await buildTar(spec);
        const parent = i ? chainIdOf(diffIds) : undefined;
        diffIds.push(sha256(t));
        await s.applyLayer(parent, chainIdOf(diffIds), chunks(t));
      }
      const m = await mountAt('deep', await s.prepare('deep', chainIdOf(diffIds)));
      assert.deepEqual(await fsp.readdir(m), ['layer129']);
      assert.equal(await readOrNull(join(m, 'layer129')), '129');
    });
  });
}
