// The tar reader/writer and directory packing: round trips through our own code, archives
// GNU tar writes (gnu, pax, ustar formats) and GNU tar reading what we write, corrupt and
// truncated input, and byte-exact reproducibility of packed trees.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, createReadStream, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { TarWriter, normalizeEntryPath, packDir, packOverlayDiff, readTar } from '../../src/archive/tar.ts';
import type { TarHeader, TarWriterHeader } from '../../src/archive/tar.ts';
import { applyTar } from '../../src/snapshot/apply.ts';
import { lgetxattr, llistxattr, lsetxattr, mknod } from '../../src/util/native.ts';

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of gen) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

type Spec = TarWriterHeader & { body?: Buffer };

async function write(entries: Spec[]): Promise<Buffer> {
  const out = new PassThrough();
  const result = collect(out);
  const w = new TarWriter(out);
  for (const { body, ...h } of entries) await w.add(h, body);
  await w.finish();
  return result;
}

async function readAll(data: Buffer, chunkSize = 777): Promise<Array<{ header: TarHeader; body: Buffer }>> {
  const out = [];
  for await (const e of readTar(chunked(data, chunkSize))) out.push({ header: e.header, body: await collect(e.body) });
  return out;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Everything about a tree that a faithful archive must keep, path by path. */
async function describeTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  const walk = async (d: string, rel: string) => {
    for (const name of (await fsp.readdir(d)).sort()) {
      const abs = join(d, name);
      const p = rel + name;
      const st = await fsp.lstat(abs);
      const xattrs = llistxattr(abs).sort().map((n) => `${n}=${lgetxattr(abs, n)!.toString('hex')}`);
      let line = `${p} mode=${st.mode.toString(8)} ${st.uid}:${st.gid} mtime=${Math.floor(st.mtimeMs / 1000)} xattrs=[${xattrs}]`;
      if (st.isFile()) {
        line += ` size=${st.size} sha=${sha(await fsp.readFile(abs)).slice(7, 19)}`;
        if (st.nlink > 1) {
          line += ` inode-of=${inodes.get(st.ino) ?? p}`;
          if (!inodes.has(st.ino)) inodes.set(st.ino, p);
        }
      }
      if (st.isSymbolicLink()) line += ` -> ${await fsp.readlink(abs)}`;
      if (st.isCharacterDevice() || st.isBlockDevice()) line += ` rdev=${st.rdev}`;
      out.push(line);
      if (st.isDirectory()) await walk(abs, p + '/');
    }
  };
  await walk(dir, '');
  return out;
}

const LONG_DIR = 'x'.repeat(120);
const LONG_FILE = 'y'.repeat(150);
const T = new Date('2021-05-06T07:08:09Z');

/** A tree with everything an image layer can hold. */
async function makeTree(dir: string, opts: { ustarOnly?: boolean } = {}): Promise<void> {
  const p = (rel: string) => join(dir, rel);
  await fsp.mkdir(p('a/b'), { recursive: true });
  await fsp.writeFile(p('a/b/file'), 'hello\n');
  await fsp.writeFile(p('empty'), '');
  await fsp.mkdir(p('tmp'));
  await fsp.chmod(p('tmp'), 0o1777);
  await fsp.symlink('../a/b/file', p('a/link'));
  await fsp.link(p('a/b/file'), p('a/b/file2'));
  mknod(p('fifo'), constants.S_IFIFO | 0o640);
  mknod(p('null'), constants.S_IFCHR | 0o666, 1, 3);
  mknod(p('loop0'), constants.S_IFBLK | 0o660, 7, 0);
  await fsp.chmod(p('null'), 0o666); // mknod's mode passes through the umask
  // ustar: a name that needs the prefix field (over 100, at most 255 bytes).
  await fsp.mkdir(p('pre/' + 'p'.repeat(90)), { recursive: true });
  await fsp.writeFile(p('pre/' + 'p'.repeat(90) + '/' + 'q'.repeat(90)), 'prefixed');
  await fsp.chown(p('a/b'), 1000, 1001);
  await fsp.chmod(p('a/b'), 0o750);
  await fsp.chown(p('a/b/file'), 12, 34);
  await fsp.chmod(p('a/b/file'), 0o4755); // after chown, which clears setuid
  if (!opts.ustarOnly) {
    await fsp.mkdir(p(`long/${LONG_DIR}`), { recursive: true });
    await fsp.writeFile(p(`long/${LONG_DIR}/${LONG_FILE}`), Buffer.alloc(70_000, 7));
    await fsp.symlink('t'.repeat(200), p('long/longlink'));
    await fsp.writeFile(p('ünïcødé-名前'), 'unicode');
    await fsp.writeFile(p('bigids'), 'big');
    await fsp.chown(p('bigids'), 3_000_000, 2_500_000);
    lsetxattr(p('a/b/file'), 'user.comment', Buffer.from('hi'));
    lsetxattr(p('a/b'), 'trusted.bin', Buffer.from([0, 1, 2, 255, 10]));
  }
  // Times last, deepest first, so creating entries does not change them again.
  const all = (await describeTree(dir)).map((l) => l.split(' ')[0]!).reverse();
  for (const rel of all) await fsp.lutimes(p(rel), T, T);
}

describe('tar', () => {
  let base: string;
  beforeEach(async () => {
    base = await fsp.mkdtemp(join(tmpdir(), 'berth-tar-'));
  });
  afterEach(async () => {
    await fsp.rm(base, { recursive: true, force: true });
  });

  test('normalizeEntryPath', () => {
    const cases: Array<[string, string | null]> = [
      ['./a/b/', 'a/b'], ['.', ''], ['./', ''], ['', ''], ['a//b/./c', 'a/b/c'], ['a/b/../c', 'a/c'],
      ['../x', null], ['a/../../x', null], ['/etc/passwd', null], ['..', null], ['a/..', ''], ['./../a', null],
    ];
    for (const [input, want] of cases) assert.equal(normalizeEntryPath(input), want, input);
  });

  test('round trip of every entry kind, long and non-ASCII names, big ids, xattrs', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const entries: Spec[] = [
      { name: 'dir/', type: 'dir', mode: 0o1777, uid: 1, gid: 2, mtime: T },
      { name: 'dir/file', type: 'file', mode: 0o4755, uid: 3_000_000, gid: 2_097_152, uname: 'someone', gname: 'grp', mtime: T, body: Buffer.from('content') },
      { name: 'empty', type: 'file' },
      { name: long, type: 'file', body: Buffer.alloc(1025, 1) },
      { name: 'sym', type: 'symlink', linkname: 'l'.repeat(300) },
      { name: 'hard', type: 'hardlink', linkname: long },
      { name: 'ünï/名前', type: 'file', uname: 'ü', body: Buffer.from('u') },
      { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'big-dev', type: 'block', devmajor: 259, devminor: 3_000_000 },
      { name: 'fifo', type: 'fifo', mode: 0o600 },
      { name: 'x', type: 'file', xattrs: { 'user.a': Buffer.from([0, 255, 10, 61]), 'security.capability': Buffer.from('cap') }, body: Buffer.from('x') },
      { name: 'old', type: 'file', mtime: new Date(-86400_000), body: Buffer.alloc(0) },
      { name: 'future', type: 'file', mtime: new Date(2 ** 34 * 1000) },
    ];
    const tar = await write(entries);
    assert.equal(tar.length % 512, 0);
    const got = await readAll(tar);
    assert.deepEqual(got.map((e) => e.header.name), entries.map((e) => e.name));
    for (const [i, { body, ...want }] of entries.entries()) {
      const h = got[i]!.header;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(h[k as keyof TarHeader], v, `${want.name} ${k}`);
      assert.deepEqual(got[i]!.body, body ?? Buffer.alloc(0));
      assert.equal(h.size, body?.length ?? 0);
    }
    // Writing is deterministic.
    assert.deepEqual(await write(entries), tar);
  });

  test('unread bodies are skipped, partly read ones too', async () => {
    const tar = await write([
      { name: 'a', type: 'file', body: Buffer.alloc(5000, 1) },
      { name: 'b', type: 'file', body: Buffer.alloc(3000, 2) },
      { name: 'c', type: 'file', body: Buffer.from('last') },
    ]);
    const names: string[] = [];
    let last = '';
    for await (const e of readTar(chunked(tar, 100))) {
      names.push(e.header.name);
      if (e.header.name === 'b') for await (const _ of e.body) break;
      if (e.header.name === 'c') last = (await collect(e.body)).toString();
    }
    assert.deepEqual(names, ['a', 'b', 'c']);
    assert.equal(last, 'last');
  });

  test('the writer checks body sizes and waits for a slow consumer', async () => {
    const sink = new PassThrough();
    void collect(sink);
    const w = new TarWriter(sink);
    await assert.rejects(w.add({ name: 'f', type: 'file', size: 10 }, Buffer.from('short')), /header says 10/);
    await assert.rejects(w.add({ name: 'g', type: 'file', size: 2 }, chunked(Buffer.from('toolong'), 3)), /longer/);

    // A 64 KiB high-water-mark stream that drains slowly receives 4 MiB in order.
    const received: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 65536,
      write(chunk: Buffer, _enc, cb) {
        received.push(chunk);
        setImmediate(cb);
      },
    });
    const w2 = new TarWriter(slow);
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    await w2.add({ name: 'big', type: 'file', size: data.length }, chunked(data, 100_000));
    await w2.finish();
    const [entry] = await readAll(Buffer.concat(received), 65536);
    assert.ok(entry!.body.equals(data));
  });

  test('corrupt and truncated archives are errors', async () => {
    const tar = await write([{ name: 'a', type: 'file', body: Buffer.alloc(2000, 3) }, { name: 'b', type: 'file', body: Buffer.from('b') }]);
    const corrupt = Buffer.from(tar);
    corrupt[10] ^= 0x40; // inside the first name
    await assert.rejects(readAll(corrupt), /invalid tar header/);
    const badSecond = Buffer.from(tar);
    badSecond[512 + 2048 + 100] ^= 0x01; // mode field of the second header
    await assert.rejects(readAll(badSecond), /invalid tar header/);
    await assert.rejects(readAll(tar.subarray(0, 1000)), /truncated|EOF/); // mid-body
    await assert.rejects(readAll(tar.subarray(0, 300)), /truncated|EOF/); // mid-header
    await assert.rejects(readAll(Buffer.alloc(512, 0x41)), /invalid tar header/); // not a tar
    // A missing end marker after a complete entry is tolerated, like GNU tar does.
    assert.equal((await readAll(tar.subarray(0, 512 + 2048))).length, 1);
  });

  test('global PAX headers are ignored and GNU long names read', async () => {
    // Hand-made: a 'g' header, then GNU 'L'/'K' records, then the entry they name.
    const block = (name: string, flag: string, size: number) => {
      const b = Buffer.alloc(512);
      b.write(name, 0);
      b.write('0000644\0', 100);
      b.write('0000000\0', 108);
      b.write('0000000\0', 116);
      b.write(size.toString(8).padStart(11, '0') + '\0', 124);
      b.write('00000000000\0', 136);
      b.write(flag, 156);
      b.write('ustar  \0', 257);
      b.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of b) sum += x;
      b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      return b;
    };
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const gbody = Buffer.from('19 comment=global\n');
    const longName = 'n'.repeat(300);
    const longLink = 'k'.repeat(200);
    const tar = Buffer.concat([
      block('pax_global_header', 'g', gbody.length), pad(gbody),
      block('././@LongLink', 'L', longName.length + 1), pad(Buffer.from(longName + '\0')),
      block('././@LongLink', 'K', longLink.length + 1), pad(Buffer.from(longLink + '\0')),
      block('short', '2', 0),
      Buffer.alloc(1024),
    ]);
    const [e, ...rest] = await readAll(tar, 512);
    assert.equal(rest.length, 0);
    assert.equal(e!.header.name, longName);
    assert.equal(e!.header.linkname, longLink);
    assert.equal(e!.header.type, 'symlink');
    assert.equal(e!.header.pax, undefined);
  });

  test("bsdtar's LIBARCHIVE.xattr records are read; SCHILY ones win", async () => {
    const tar = await write([{
      name: 'f', type: 'file',
      xattrs: { 'user.both': Buffer.from('schily') },
      pax: { 'LIBARCHIVE.xattr.user.lib%20x': Buffer.from([0, 1, 2]).toString('base64'), 'LIBARCHIVE.xattr.user.both': Buffer.from('lib').toString('base64') },
    }]);
    const [e] = await readAll(tar);
    assert.deepEqual(e!.header.xattrs, { 'user.both': Buffer.from('schily'), 'user.lib x': Buffer.from([0, 1, 2]) });
  });

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    test(`archives GNU tar writes in ${format} format unpack to the same tree`, async () => {
      const src = join(base, 'src');
      await fsp.mkdir(src);
      await makeTree(src, { ustarOnly: format === 'ustar' });
      const file = join(base, 'gnu.tar');
      const xattrs = format === 'ustar' ? [] : ['--xattrs', '--xattrs-include=*'];
      execFileSync('tar', [`--format=${format}`, ...xattrs, '--numeric-owner', '-cf', file, '-C', src, '.']);
      const dst = join(base, 'dst');
      const raw = await fsp.readFile(file);
      const r = await applyTar(dst, createReadStream(file), { format: 'plain' });
      assert.deepEqual(r, { diffId: sha(raw), size: raw.length });
      assert.deepEqual(await describeTree(dst), await describeTree(src));
    });
  }

  test('GNU tar lists and extracts what packDir writes, identically', async () => {
    const src = join(base, 'src');
    await fsp.mkdir(src);
    await makeTree(src);
    const file = join(base, 'ours.tar');
    await fsp.writeFile(file, await collect(packDir(src)));
    const listed = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    assert.match(listed, /^-rwsr-xr-x 12\/34 +6 2021-05-06 \d\d:\d\d a\/b\/file$/m);
    assert.match(listed, /^hrwsr-xr-x 12\/34 +0 .* a\/b\/file2 link to a\/b\/file$/m);
    assert.match(listed, /^crw-rw-rw- 0\/0 +1,3 .* null$/m);
    assert.match(listed, /^drwxrwxrwt .* tmp\/$/m);
    assert.match(listed, new RegExp(`long/${LONG_DIR}/${LONG_FILE}$`, 'm'));
    assert.match(listed, /3000000\/2500000 .* bigids$/m);
    const dst = join(base, 'dst');
    await fsp.mkdir(dst);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', file, '-C', dst]);
    assert.deepEqual(await describeTree(dst), await describeTree(src));
  });

  test('packDir is reproducible byte for byte, also after an unpack/repack cycle', async () => {
    const src = join(base, 'src');
    await fsp.mkdir(src);
    await makeTree(src);
    const first = await collect(packDir(src));
    const second = await collect(packDir(src));
    assert.ok(first.equals(second));
    const dst = join(base, 'dst');
    const r = await applyTar(dst, chunked(first, 4096), { format: 'plain' });
    assert.equal(r.diffId, sha(first));
    assert.equal(r.size, first.length);
    assert.deepEqual(await describeTree(dst), await describeTree(src));
    assert.ok((await collect(packDir(dst))).equals(first));
    // Names are relative without "./", directories end in "/", root not included.
    const names = (await readAll(first)).map((e) => e.header.name);
    assert.equal(names[0], 'a/');
    assert.ok(names.includes('a/b/file'));
    assert.ok(!names.some((n) => n.startsWith('.')));
  });

  test('packDir with a root name, and of a single file', async () => {
    const src = join(base, 'etc');
    await fsp.mkdir(src);
    await fsp.writeFile(join(src, 'passwd'), 'root');
    const named = (await readAll(await collect(packDir(src, { root: 'etc' })))).map((e) => e.header.name);
    assert.deepEqual(named, ['etc/', 'etc/passwd']);
    const [single] = await readAll(await collect(packDir(join(src, 'passwd'))));
    assert.equal(single!.header.name, 'passwd');
    assert.equal(single!.body.toString(), 'root');
  });

  test('packOverlayDiff turns overlay whiteouts and opaque dirs into Docker whiteout files', async () => {
    const upper = join(base, 'upper');
    await fsp.mkdir(join(upper, 'etc'), { recursive: true });
    await fsp.mkdir(join(upper, 'opq'));
    await fsp.writeFile(join(upper, 'opq/new'), 'n');
    mknod(join(upper, 'etc/removed'), constants.S_IFCHR, 0, 0);
    lsetxattr(join(upper, 'opq'), 'trusted.overlay.opaque', Buffer.from('y'));
    lsetxattr(join(upper, 'opq'), 'trusted.overlay.origin', Buffer.from('internal'));
    lsetxattr(join(upper, 'opq'), 'user.kept', Buffer.from('1'));
    const entries = await readAll(await collect(packOverlayDiff(upper)));
    assert.deepEqual(entries.map((e) => `${e.header.name} ${e.header.type} ${e.header.size}`), [
      'etc/ dir 0', 'etc/.wh.removed file 0', 'opq/ dir 0', 'opq/.wh..wh..opq file 0', 'opq/new file 1',
    ]);
    assert.deepEqual(Object.keys(entries[2]!.header.xattrs), ['user.kept']);
    // Applied in overlay form, the layer gives the same upper dir back.
    const again = join(base, 'again');
    await applyTar(again, chunked(await collect(packOverlayDiff(upper)), 512), { format: 'overlay' });
    assert.equal((await fsp.lstat(join(again, 'etc/removed'))).rdev, 0);
    assert.ok((await fsp.lstat(join(again, 'etc/removed'))).isCharacterDevice());
    assert.equal(lgetxattr(join(again, 'opq'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(lgetxattr(join(again, 'opq'), 'trusted.overlay.origin'), null);
  });
});
