// The log reader over files laid out as the monitor lays them out: rotated files (plain and
// gzipped), both formats, tail/since/until across files, and follow across rotations
// driven by a writer that rotates the way the monitor does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatDetails, readLogs, type LogEntry, type LogFormat, type LogOptions } from '../../src/container/logs.ts';
import { rfc3339Nano } from '../../src/util/time.ts';

const T0 = 1_790_000_000_000_000_000n; // 2026-09-21, in ns
const ns = (i: number) => T0 + BigInt(i) * 1_000_000n; // entry i, one ms apart

interface E {
  log: string;
  stream?: 'stdout' | 'stderr';
  at: number;
  attrs?: Record<string, string>;
  /** local: a piece of a longer line (0: whole), and whether it is the last piece. */
  piece?: { ordinal: number; last: boolean };
}

function jsonEntry(e: E): Buffer {
  const o: Record<string, unknown> = { log: e.log, stream: e.stream ?? 'stdout' };
  if (e.attrs) o.attrs = e.attrs;
  o.time = rfc3339Nano(ns(e.at));
  return Buffer.from(JSON.stringify(o) + '\n');
}

function varint(v: bigint): Buffer {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function field(n: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of((n << 3) | 2), varint(BigInt(body.length)), body]);
}

/** A local-driver record: protobuf LogEntry framed by its length before and after. */
function localEntry(e: E): Buffer {
  const stream = Buffer.from(e.stream ?? 'stdout');
  const line = Buffer.from(e.log.endsWith('\n') ? e.log.slice(0, -1) : e.log);
  const parts = [field(1, stream), Buffer.of(0x10), varint(ns(e.at))];
  if (line.length) parts.push(field(3, line));
  if (e.piece) {
    const md = [e.piece.last ? Buffer.of(0x08, 1) : Buffer.alloc(0), field(2, Buffer.from('ab'.repeat(32))), Buffer.of(0x18), varint(BigInt(e.piece.ordinal))];
    parts.push(Buffer.of(0x20, 1), field(5, Buffer.concat(md)));
  }
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body, len]);
}

function encode(format: LogFormat, entries: E[]): Buffer {
  return Buffer.concat(entries.map(format === 'json-file' ? jsonEntry : localEntry));
}

/** gzip with Docker's {"lastTime"} header extra. */
function gzipWithLastTime(data: Buffer, lastTime: bigint): Buffer {
  const gz = gzipSync(data);
  const extra = Buffer.from(JSON.stringify({ lastTime: rfc3339Nano(lastTime) }));
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(extra.length);
  const head = Buffer.from(gz.subarray(0, 10));
  head[3] = head[3]! | 4;
  return Buffer.concat([head, xlen, extra, gz.subarray(10)]);
}

const lines = (from: number, to: number, stream: 'stdout' | 'stderr' = 'stdout'): E[] =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ log: `line ${from + k}\n`, stream, at: from + k }));

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  return dir;
}

function options(o: Partial<LogOptions> = {}): LogOptions {
  return { stdout: true, stderr: true, since: 0n, until: 0n, tail: -1, follow: false, running: () => false, ...o };
}

async function collect(path: string, o: Partial<LogOptions> = {}, format: LogFormat = 'json-file'): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, options(o), format)) out.push(e);
  return out;
}

const texts = (es: LogEntry[]) => es.map((e) => `${e.stream}:${e.data.toString()}`);
const numbers = (es: LogEntry[]) => es.map((e) => Number(/line (\d+)/.exec(e.data.toString())![1]));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/** A rotated set: .3.gz (1-10), .2 (11-20), .1.gz (21-30), current (31-40). */
async function rotatedSet(dir: string, format: LogFormat): Promise<string> {
  const path = join(dir, 'c.log');
  await fsp.writeFile(`${path}.3.gz`, gzipWithLastTime(encode(format, lines(1, 10)), ns(10)));
  await fsp.writeFile(`${path}.2`, encode(format, lines(11, 20)));
  await fsp.writeFile(`${path}.1.gz`, gzipWithLastTime(encode(format, lines(21, 30)), ns(30)));
  await fsp.writeFile(path, encode(format, [...lines(31, 35), ...lines(36, 36, 'stderr'), ...lines(37, 40)]));
  return path;
}

for (const format of ['json-file', 'local'] as const) {
  test(`${format}: reads rotated files oldest first, plain and gzipped, then the current one`, async (t) => {
    const path = await rotatedSet(await tempDir(t), format);
    const all = await collect(path, {}, format);
    assert.deepEqual(numbers(all), range(1, 40));
    assert.equal(all[35]!.stream, 2);
    assert.equal(all[0]!.time, '2026-09-21T14:13:20.001000000Z', 'times in the fixed nine-digit form');
    assert.deepEqual(numbers(await collect(path, { stderr: false }, format)), range(1, 40).filter((n) => n !== 36));
    assert.deepEqual(numbers(await collect(path, { stdout: false }, format)), [36]);
  });

  test(`${format}: --tail counts back across files, gzipped ones included`, async (t) => {
    const path = await rotatedSet(await tempDir(t), format);
    assert.deepEqual(numbers(await collect(path, { tail: 1 }, format)), [40]);
    assert.deepEqual(numbers(await collect(path, { tail: 10 }, format)), range(31, 40));
    assert.deepEqual(numbers(await collect(path, { tail: 13 }, format)), range(28, 40));
    assert.deepEqual(numbers(await collect(path, { tail: 25 }, format)), range(16, 40));
    assert.deepEqual(numbers(await collect(path, { tail: 35 }, format)), range(6, 40));
    assert.deepEqual(numbers(await collect(path, { tail: 1000 }, format)), range(1, 40));
    assert.deepEqual(await collect(path, { tail: 0 }, format), []);
  });

  test(`${format}: --since and --until across files`, async (t) => {
    const path = await rotatedSet(await tempDir(t), format);
    assert.deepEqual(numbers(await collect(path, { since: ns(18) }, format)), range(18, 40));
    assert.deepEqual(numbers(await collect(path, { until: ns(22) }, format)), range(1, 22));
    assert.deepEqual(numbers(await collect(path, { since: ns(5), until: ns(33), tail: 12 }, format)), range(29, 33));
  });
}

test('a gzipped file whose header says it ends before --since is not even opened (as Docker)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'c.log');
  // The header claims an older last entry than its content has: only skipping explains its absence.
  await fsp.writeFile(`${path}.1.gz`, gzipWithLastTime(encode('json-file', lines(1, 10)), ns(0)));
  await fsp.writeFile(path, encode('json-file', lines(11, 12)));
  assert.deepEqual(numbers(await collect(path, { since: ns(5) })), [11, 12]);
  assert.deepEqual(numbers(await collect(path)), range(1, 12));
});

test('a rotated file caught mid-compression (plain and .gz both there) is read once', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'c.log');
  await fsp.writeFile(`${path}.1`, encode('json-file', lines(1, 5)));
  await fsp.writeFile(`${path}.1.gz`, gzipWithLastTime(encode('json-file', lines(1, 5)), ns(5)));
  await fsp.writeFile(`${path}.1.gz.tmp`, 'partial gzip');
  await fsp.writeFile(path, encode('json-file', lines(6, 7)));
  assert.deepEqual(numbers(await collect(path)), range(1, 7));
  assert.deepEqual(numbers(await collect(path, { tail: 4 })), range(4, 7));
});

test('local: pieces of a long line come back as written, the last with its newline', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'container.log');
  await fsp.writeFile(
    path,
    encode('local', [
      { log: 'aaa', at: 1, piece: { ordinal: 1, last: false } },
      { log: 'bb', at: 1, piece: { ordinal: 2, last: true } },
      { log: '\n', stream: 'stderr', at: 2 },
      { log: 'tail', at: 3, piece: { ordinal: 1, last: false } },
    ]),
  );
  assert.deepEqual(texts(await collect(path, {}, 'local')), ['1:aaa', '1:bb\n', '2:\n', '1:tail']);
});

test('json-file attrs come through for --details, formatted as Docker does', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'c.log');
  await fsp.writeFile(path, jsonEntry({ log: 'hi\n', at: 1, attrs: { team: 'a b', 'com.x/y': 'é,=' } }));
  const [e] = await collect(path);
  assert.deepEqual(e!.attrs, { team: 'a b', 'com.x/y': 'é,=' });
  assert.equal(formatDetails(e!.attrs), 'com.x%2Fy=%C3%A9%2C%3D,team=a+b');
  assert.equal(formatDetails(undefined), '');
});

/**
 * Appends lines `from`…`to` to a log whose current file already holds `already` entries,
 * rotating every `perFile` entries the way native/log-writer.c does (shift, rename, new
 * file; <log>.1 compressed when asked). It writes in bursts of three files' worth between
 * pauses, so that a follower falls behind by more than one rotation.
 */
async function rotatingWriter(path: string, format: LogFormat, from: number, to: number, already: number, perFile: number, compress: boolean): Promise<void> {
  // No file is ever dropped (every line must reach the follower): <log>.1 … .rotated exist.
  let rotated = 0;
  let inFile = already;
  let fh = await fsp.open(path, 'a');
  try {
    for (let i = from; i <= to; i++) {
      if (inFile === perFile) {
        await fh.close();
        for (let k = ++rotated; k > 1; k--) {
          for (const sfx of ['', '.gz']) await fsp.rename(`${path}.${k - 1}${sfx}`, `${path}.${k}${sfx}`).catch(() => undefined);
        }
        await fsp.rename(path, `${path}.1`);
        fh = await fsp.open(path, 'w');
        if (compress) {
          await fsp.writeFile(`${path}.1.gz.tmp`, gzipWithLastTime(await fsp.readFile(`${path}.1`), ns(i - 1)));
          await fsp.rename(`${path}.1.gz.tmp`, `${path}.1.gz`);
          await fsp.rm(`${path}.1`);
        }
        inFile = 0;
      }
      await fh.write(encode(format, [{ log: `line ${i}\n`, at: i }]));
      inFile++;
      if (i % (perFile * 3) === 0) await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await fh.close();
  }
}

for (const [format, compress] of [['json-file', false], ['json-file', true], ['local', true]] as const) {
  test(`follow (${format}${compress ? ', compressed' : ''}) across rotations: every line once, in order`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'c.log');
    await fsp.writeFile(path, encode(format, lines(1, 3)));
    let writing = true;
    const got: number[] = [];
    // The tail is taken when the read begins: the writer waits until it has been read.
    let tailRead!: () => void;
    const tailDone = new Promise<void>((resolve) => (tailRead = resolve));
    const reader = (async () => {
      for await (const e of readLogs(path, options({ follow: true, tail: 2, running: () => writing }), format)) {
        got.push(Number(/line (\d+)/.exec(e.data.toString())![1]));
        if (got.length === 2) tailRead();
        // A slow reader: the writer gets rotations ahead of it.
        if (got.length % 40 === 0) await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const total = 600;
    try {
      await tailDone;
      await rotatingWriter(path, format, 4, total, 3, 50, compress);
    } finally {
      writing = false;
    }
    await reader;
    assert.deepEqual(got, range(2, total));
  });
}

test('json-file times in any RFC 3339 form come out in the fixed nine-digit form, in UTC', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'c.log');
  const at = (time: string, log: string) => JSON.stringify({ log, stream: 'stdout', time }) + '\n';
  await fsp.writeFile(path, at('2026-09-21T14:13:20Z', 'a\n') + at('2026-09-21T14:13:20.5Z', 'b\n') + at('2026-09-21T15:13:21.000000007+01:00', 'c\n'));
  const es = await collect(path);
  assert.deepEqual(es.map((e) => e.time), ['2026-09-21T14:13:20.000000000Z', '2026-09-21T14:13:20.500000000Z', '2026-09-21T14:13:21.000000007Z']);
  assert.deepEqual(texts(await collect(path, { since: T0 + 1n })), ['1:b\n', '1:c\n']);
});
