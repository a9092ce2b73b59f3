// The content store: digests computed and verified while streaming, blobs appear only
// complete (via ingest/ + rename), malformed digests never become paths, crash leftovers
// are cleaned by init().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, promises as fsp, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/content/store.ts';
import { assertDigest, digestOf, isDigest } from '../../src/content/digest.ts';

const sha = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function withStore(fn: (store: ContentStore, root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'berth-content-'));
  try {
    const store = new ContentStore(root);
    await store.init();
    await fn(store, root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

test('put and read back by digest', () =>
  withStore(async (store) => {
    const d = await store.put(Buffer.from('hello'));
    assert.equal(d, sha('hello'));
    assert.equal(await store.has(d), true);
    assert.equal(await store.size(d), 5);
    assert.equal((await store.readBytes(d)).toString(), 'hello');
    const parts: Buffer[] = [];
    for await (const c of store.readStream(d)) parts.push(c as Buffer);
    assert.equal(Buffer.concat(parts).toString(), 'hello');
    assert.deepEqual(await store.list(), [d]);
    // Storing the same bytes again is idempotent.
    assert.equal(await store.put(Buffer.from('hello')), d);
    assert.deepEqual(await store.list(), [d]);
  }));

test('ingest hashes a stream and verifies the expected digest', () =>
  withStore(async (store, root) => {
    const big = 'x'.repeat(3 << 20);
    const got = await store.ingest(chunks(big, 'tail'), sha(big + 'tail'));
    assert.deepEqual(got, { digest: sha(big + 'tail'), size: big.length + 4 });
    await assert.rejects(store.ingest(chunks('abc'), sha('abd')), (err: Error & { status?: number }) => {
      assert.match(err.message, /digest mismatch/);
      assert.equal(err.status, 400);
      return true;
    });
    assert.equal(await store.has(sha('abc')), false, 'a mismatching blob is not kept');
    assert.deepEqual(readdirSync(join(root, 'ingest')), [], 'no temporary file is left');
  }));

test('a failing stream leaves nothing behind', () =>
  withStore(async (store, root) => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    }
    await assert.rejects(store.ingest(failing()), /connection reset/);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(readdirSync(join(root, 'ingest')), []);
  }));

test('spool keeps a blob invisible until commit', () =>
  withStore(async (store) => {
    const p = await store.spool(chunks('pending'));
    assert.equal(p.digest, sha('pending'));
    assert.equal(await store.has(p.digest), false);
    assert.equal(await fsp.readFile(p.path, 'utf8'), 'pending');
    await p.commit();
    assert.equal(await store.has(p.digest), true);
    await p.discard();
    assert.equal(await store.has(p.digest), true, 'discard after commit keeps the blob');
    const q = await store.spool(chunks('dropped'));
    await q.discard();
    assert.equal(await store.has(q.digest), false);
    assert.equal(existsSync(q.path), false);
  }));

test('malformed digests never become paths', () =>
  withStore(async (store) => {
    const bad = ['', 'sha256:', 'sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`,
      `sha256:${'a'.repeat(63)}/`, `sha256:../../${'a'.repeat(58)}`, `../sha256:${'a'.repeat(64)}`];
    for (const d of bad) {
      assert.equal(isDigest(d), false, d);
      assert.throws(() => store.path(d), /invalid digest/, d);
      assert.equal(await store.has(d), false, d);
      await assert.rejects(store.readBytes(d), /invalid digest/, d);
      await assert.rejects(store.delete(d), /invalid digest/, d);
      await assert.rejects(store.ingest(chunks('x'), d), /invalid digest/, d);
    }
    assert.throws(() => assertDigest('nope'), (err: Error & { status?: number }) => err.status === 400);
  }));

test('missing blobs give 404s; delete is idempotent', () =>
  withStore(async (store) => {
    const d = digestOf('absent');
    await assert.rejects(store.readBytes(d), (err: Error & { status?: number }) => err.status === 404);
    await assert.rejects(store.size(d), (err: Error & { status?: number }) => err.status === 404);
    const e = await store.put(Buffer.from('present'));
    await store.delete(e);
    await store.delete(e);
    assert.equal(await store.has(e), false);
  }));

test('init removes ingest leftovers of a crash and keeps committed blobs', () =>
  withStore(async (store, root) => {
    const d = await store.put(Buffer.from('kept'));
    writeFileSync(join(root, 'ingest', 'deadbeef'), 'half-written');
    const again = new ContentStore(root);
    await again.init();
    assert.deepEqual(readdirSync(join(root, 'ingest')), []);
    assert.deepEqual(await again.list(), [d]);
    assert.equal((await again.readBytes(d)).toString(), 'kept');
  }));
