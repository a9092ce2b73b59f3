// Reads a container's log as its monitor writes it (native/log-writer.c): Docker's json-file
// or local format, in the current file and the rotated ones (<log>.1 … <log>.N, oldest last,
// plain or gzipped). Memory stays bounded whatever the log's size: files are streamed,
// --tail counts backwards (or, in a gzipped file, counts while decompressing) instead of
// loading anything whole, and a follow survives rotations without losing or repeating
// entries.
import { promises as fsp, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createGunzip } from 'node:zlib';
import { parseRfc3339, rfc3339NanoFixed } from '../util/time.ts';

export type LogFormat = 'json-file' | 'local';

export interface LogEntry {
  stream: 1 | 2;
  data: Buffer;
  /** The entry's time, RFC 3339 with nine fraction digits (Docker's --timestamps form). */
  time: string;
  /** Extra attributes (json-file's labels/env/tag options), for `logs --details`. */
  attrs?: Record<string, string>;
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  /** Nanoseconds since the epoch; 0 for no bound. */
  since: bigint;
  until: bigint;
  /** Number of last entries, or -1 for all. */
  tail: number;
  follow: boolean;
  /** For follow: whether the container may still write. */
  running: () => boolean;
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;
/** A json-file line longer than this is corruption (the writer's are under 100 KiB plus attrs). */
const MAX_LINE = 8 * 1024 * 1024;
/** Docker's local reader refuses records larger than this. */
const MAX_RECORD = 1_000_000;
/** How often a follow looks again when no file event came. */
const FOLLOW_POLL_MS = 250;

interface Rec {
  stream: 1 | 2;
  data: Buffer;
  ns: bigint;
  /** RFC 3339 with nine fraction digits. */
  time: string;
  attrs?: Record<string, string>;
}

// Times, converted for every entry: the whole-second part is worked out once a second.
let cachedPrefix = '';
let cachedSecondsNs = 0n;
let cachedSeconds = -1n;

/** A json-file "time" (RFC 3339, any fraction) as nanoseconds and in the fixed form. */
function timeFromText(t: string): { ns: bigint; time: string } {
  // The writer's form: "YYYY-MM-DDTHH:MM:SS[.fraction]Z".
  const whole = t.length === 20 && t[19] === 'Z';
  const fractional = t.length > 21 && t[19] === '.' && t.endsWith('Z');
  if (whole || fractional) {
    const prefix = t.slice(0, 19);
    if (prefix !== cachedPrefix) {
      const ms = Date.parse(prefix + 'Z');
      if (Number.isNaN(ms)) return fallbackTime(t);
      cachedPrefix = prefix;
      cachedSecondsNs = BigInt(ms) * 1_000_000n;
      cachedSeconds = -1n;
    }
    const frac = t.length > 20 ? t.slice(20, -1).padEnd(9, '0') : '000000000';
    if (frac.length !== 9 || !/^\d{9}$/.test(frac)) return fallbackTime(t);
    return { ns: cachedSecondsNs + BigInt(frac), time: `${prefix}.${frac}Z` };
  }
  return fallbackTime(t);
}

function fallbackTime(t: string): { ns: bigint; time: string } {
  const ns = parseRfc3339(t);
  return { ns, time: rfc3339NanoFixed(ns) };
}

/** Nanoseconds since the epoch in the fixed RFC 3339 form. */
function timeFromNanos(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  if (sec !== cachedSeconds || !cachedPrefix) {
    cachedPrefix = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
    cachedSecondsNs = sec * 1_000_000_000n;
    cachedSeconds = sec;
  }
  return `${cachedPrefix}.${(ns - cachedSecondsNs).toString().padStart(9, '0')}Z`;
}

// ---------------------------------------------------------------------------
// Decoding

/** Cuts a byte stream into records: json-file lines, or local's length-framed protobufs. */
class Splitter {
  readonly format: LogFormat;
  #pending: Buffer = Buffer.alloc(0);
  /** The stream cannot be trusted any more (a record too large): nothing more comes out. */
  broken = false;

  constructor(format: LogFormat) {
    this.format = format;
  }

  /** Whether bytes of an unfinished record are held. */
  get holding(): boolean {
    return this.#pending.length > 0;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.broken) return [];
    const buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let pos = 0;
    if (this.format === 'json-file') {
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        if (nl > pos) out.push(buf.subarray(pos, nl));
        pos = nl + 1;
      }
      if (buf.length - pos > MAX_LINE) this.broken = true;
    } else {
      while (buf.length - pos >= 4) {
        const len = buf.readUInt32BE(pos);
        if (len > MAX_RECORD) {
          this.broken = true;
          break;
        }
        if (buf.length - pos < len + 8) break;
        out.push(buf.subarray(pos + 4, pos + 4 + len));
        pos += len + 8;
      }
    }
    // Copy the remainder so it does not pin the whole chunk.
    this.#pending = this.broken ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    return out;
  }
}

function decodeJson(line: Buffer): Rec | undefined {
  try {
    const o = JSON.parse(line.toString('utf8')) as { log?: string; stream?: string; time?: string; attrs?: Record<string, string> };
    const { ns, time } = timeFromText(o.time ?? '');
    const rec: Rec = { stream: o.stream === 'stderr' ? 2 : 1, data: Buffer.from(o.log ?? '', 'utf8'), ns, time };
    if (o.attrs && typeof o.attrs === 'object') rec.attrs = o.attrs;
    return rec;
  } catch {
    return undefined; // a line cut by a crash mid-write
  }
}

/** protobuf LogEntry{source=1, time_nano=2, line=3, partial=4, partial_log_metadata=5{last=1}}. */
export function decodeLocal(b: Buffer): Rec | undefined {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= b.length) throw new RangeError('truncated varint');
      const byte = b[pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
      shift += 7n;
    }
  };
  let source = '';
  let ns = 0n;
  let line: Buffer = Buffer.alloc(0);
  let partial = false;
  let last = false;
  try {
    while (pos < b.length) {
      const key = Number(varint());
      const field = key >>> 3;
      const wire = key & 7;
      if (wire === 0) {
        const v = varint();
        if (field === 2) ns = BigInt.asIntN(64, v);
        else if (field === 4) partial = v !== 0n;
      } else if (wire === 2) {
        const len = Number(varint());
        if (pos + len > b.length) return undefined;
        const body = b.subarray(pos, pos + len);
        pos += len;
        if (field === 1) source = body.toString('utf8');
        else if (field === 3) line = body;
        else if (field === 5) last = metadataLast(body);
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else return undefined;
    }
  } catch {
    return undefined;
  }
  // As Docker's decoder: a whole line (or a split line's last piece) gets its '\n' back.
  const data = partial && !last ? Buffer.from(line) : Buffer.concat([line, NEWLINE]);
  return { stream: source === 'stderr' ? 2 : 1, data, ns, time: ns >= 0n ? timeFromNanos(ns) : rfc3339NanoFixed(ns) };
}

const NEWLINE = Buffer.from('\n');

function metadataLast(b: Buffer): boolean {
  // PartialLogEntryMetadata{last=1 (bool), id=2, ordinal=3}: `last` is written first when set.
  let pos = 0;
  while (pos < b.length) {
    const key = b[pos++]!;
    if (key === 0x08) return b[pos] === 1;
    if ((key & 7) === 2) pos += 1 + b[pos]!; // ids are short: one length byte
    else if ((key & 7) === 0) while (pos < b.length && b[pos++]! >= 0x80) {}
    else return false;
  }
  return false;
}

function decode(format: LogFormat, raw: Buffer): Rec | undefined {
  return format === 'json-file' ? decodeJson(raw) : decodeLocal(raw);
}

// ---------------------------------------------------------------------------
// The files of one log

interface LogFile {
  fh: fsp.FileHandle;
  gz: boolean;
  ino: number;
  /** Size when opened (plain files). */
  size: number;
}

interface Snapshot {
  current?: LogFile;
  /** Oldest first. */
  rotated: LogFile[];
}

async function openFile(path: string, gz: boolean): Promise<LogFile | undefined> {
  try {
    const fh = await fsp.open(path, 'r');
    const st = await fh.stat();
    return { fh, gz, ino: st.ino, size: st.size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function closeFiles(files: (LogFile | undefined)[]): Promise<void> {
  await Promise.all(files.map((f) => f?.fh.close().catch(() => undefined)));
}

/** The highest rotation number present (plain or gzipped), 0 for none. */
async function highestRotated(path: string): Promise<number> {
  const base = basename(path);
  const names = await fsp.readdir(dirname(path)).catch(() => [] as string[]);
  let max = 0;
  for (const name of names) {
    if (!name.startsWith(base + '.')) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** <log>.n, plain while it is (mid-compression both exist), else gzipped. */
async function openRotated(path: string, n: number): Promise<LogFile | undefined> {
  return (await openFile(`${path}.${n}`, false)) ?? (await openFile(`${path}.${n}.gz`, true));
}

/**
 * Opens the rotated files from .1 up, newest first, each once, until `stop` says a file is
 * where to end (it is closed). Why this finds every file once, even while the writer rotates:
 * a rotation renames .i to .i+1 from the highest number down, so a scan going up meets each
 * file under its old name or, if it moved first, under the next one; a file met twice keeps
 * its first place (the same inode), which is its place in the order. Names are probed one
 * past the highest listed, where the oldest file may have moved. That holds for one rotation
 * under way, not for two: callers check that the current file kept its identity.
 */
async function scanRotated(path: string, stop?: (f: LogFile) => Promise<boolean>): Promise<{ found: LogFile[]; any: boolean }> {
  const last = (await highestRotated(path)) + 1;
  const found: LogFile[] = [];
  const inos = new Set<number>();
  for (let n = 1; n <= last; n++) {
    const f = await openRotated(path, n);
    if (!f) continue;
    if (inos.has(f.ino) || (stop && (await stop(f)))) {
      await f.fh.close().catch(() => undefined);
      if (inos.has(f.ino)) continue;
      break;
    }
    inos.add(f.ino);
    found.push(f);
  }
  return { found, any: last > 1 };
}

/**
 * The current file and the rotated ones (or those `stop` leaves), open, as one consistent
 * picture: if the log rotated while they were being opened (the current file's identity
 * changed, or it was caught between a rotation's rename and create), again.
 */
async function snapshot(path: string, stop?: (f: LogFile) => Promise<boolean>): Promise<Snapshot> {
  for (let attempt = 0; ; attempt++) {
    const current = await openFile(path, false);
    const { found: newestFirst, any } = await scanRotated(path, stop);
    const now = await fsp.stat(path).catch(() => undefined);
    // No current file next to rotated ones: caught between a rotation's rename and create.
    const midRotation = !current && any;
    // Rotations coming faster than a scan, for long: take what was seen (a file at most
    // may be missed, none repeated).
    if ((current?.ino === now?.ino && !midRotation) || attempt >= 50) {
      if (current) {
        const dup = newestFirst.findIndex((f) => f.ino === current.ino);
        if (dup >= 0) await closeFiles(newestFirst.splice(dup, 1));
      }
      return { current, rotated: newestFirst.reverse() };
    }
    await closeFiles([current, ...newestFirst]);
    await delay(attempt < 5 ? 0 : Math.min(attempt, 20));
  }
}

/** Records of a plain file from byte `start`, up to `end`; `at` tracks the bytes consumed. */
async function* plainRecords(f: LogFile, split: Splitter, start: number, end: number, at: { pos: number }): AsyncGenerator<Rec[]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  at.pos = start;
  while (at.pos < end) {
    const { bytesRead } = await f.fh.read(buf, 0, Math.min(CHUNK, end - at.pos), at.pos);
    if (bytesRead === 0) return;
    at.pos += bytesRead;
    const recs: Rec[] = [];
    // Records are decoded (copied out) before the buffer is reused.
    for (const raw of split.push(buf.subarray(0, bytesRead))) {
      const r = decode(split.format, raw);
      if (r) recs.push(r);
    }
    yield recs;
  }
}

/** Raw records of a gzipped file, streamed. */
async function* gzRaw(f: LogFile, format: LogFormat): AsyncGenerator<Buffer[]> {
  const split = new Splitter(format);
  const stream = f.fh.createReadStream({ start: 0, autoClose: false }).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield split.push(chunk);
  } catch {
    // a truncated or damaged file: what came out of it is all there is
  } finally {
    stream.destroy();
  }
}

async function* gzRecords(f: LogFile, format: LogFormat, skip: number): AsyncGenerator<Rec[]> {
  for await (const raws of gzRaw(f, format)) {
    const recs: Rec[] = [];
    for (const raw of raws) {
      if (skip > 0) {
        skip--;
        continue;
      }
      const r = decode(format, raw);
      if (r) recs.push(r);
    }
    yield recs;
  }
}

async function countGz(f: LogFile, format: LogFormat): Promise<number> {
  let n = 0;
  for await (const raws of gzRaw(f, format)) n += raws.length;
  return n;
}

/** The last entry's time recorded in a gzip header's extra field ({"lastTime": …}), if any. */
async function gzLastTime(f: LogFile): Promise<bigint | undefined> {
  const head = Buffer.alloc(12 + 256);
  const { bytesRead } = await f.fh.read(head, 0, head.length, 0);
  if (bytesRead < 12 || head[0] !== 0x1f || head[1] !== 0x8b || !(head[3]! & 4)) return undefined;
  const len = head.readUInt16LE(10);
  if (12 + len > bytesRead) return undefined;
  try {
    const t = (JSON.parse(head.toString('utf8', 12, 12 + len)) as { lastTime?: string }).lastTime;
    const ns = t ? parseRfc3339(t) : 0n;
    return ns > 0n ? ns : undefined;
  } catch {
    return undefined;
  }
}

/** Reads backwards through a plain file in chunks. */
class BackReader {
  readonly #f: LogFile;
  #buf = Buffer.alloc(0);
  #bufStart = 0;

  constructor(f: LogFile) {
    this.#f = f;
  }

  /** `len` bytes at `pos`, through a window that slides backwards. */
  async at(pos: number, len: number): Promise<Buffer> {
    if (pos < this.#bufStart || pos + len > this.#bufStart + this.#buf.length) {
      const end = pos + len;
      const start = Math.max(0, end - Math.max(CHUNK, len));
      const buf = Buffer.alloc(end - start);
      const { bytesRead } = await this.#f.fh.read(buf, 0, buf.length, start);
      this.#buf = buf.subarray(0, bytesRead);
      this.#bufStart = start;
    }
    return this.#buf.subarray(pos - this.#bufStart, pos - this.#bufStart + len);
  }
}

/** Where the last `n` records of a plain file begin, and how many there are (≤ n). */
async function tailPlain(f: LogFile, format: LogFormat, end: number, n: number): Promise<{ offset: number; count: number }> {
  const back = new BackReader(f);
  if (format === 'local') {
    let pos = end;
    let count = 0;
    while (count < n && pos >= 8) {
      const len = (await back.at(pos - 4, 4)).readUInt32BE(0);
      if (len > MAX_RECORD || pos - len - 8 < 0) break;
      if ((await back.at(pos - len - 8, 4)).readUInt32BE(0) !== len) break;
      pos -= len + 8;
      count++;
    }
    return { offset: pos, count };
  }
  // json-file: the (n+1)-th newline from the end precedes the tail; text after the last
  // newline is an entry still being written (or torn) and not one of them.
  let pos = end;
  let newlines = 0;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    const chunk = await back.at(pos - len, len);
    for (let i = len - 1; i >= 0; i--) {
      if (chunk[i] === 0x0a && ++newlines === n + 1) return { offset: pos - len + i + 1, count: n };
    }
    pos -= len;
  }
  return { offset: 0, count: newlines };
}

/** The time of a file's last entry (undefined: none, or unknown). */
async function lastTime(f: LogFile, format: LogFormat): Promise<bigint | undefined> {
  if (f.gz) {
    const t = await gzLastTime(f);
    if (t !== undefined) return t;
    let last: bigint | undefined;
    for await (const recs of gzRecords(f, format, 0)) if (recs.length) last = recs[recs.length - 1]!.ns;
    return last;
  }
  const size = (await f.fh.stat()).size;
  const { offset, count } = await tailPlain(f, format, size, 1);
  if (!count) return undefined;
  let last: bigint | undefined;
  for await (const recs of plainRecords(f, new Splitter(format), offset, size, { pos: 0 })) if (recs.length) last = recs[recs.length - 1]!.ns;
  return last;
}

// ---------------------------------------------------------------------------
// Reading

/** Docker's forwarder: since drops entries until the first one at or after it; until ends the read. */
class Filter {
  #since: bigint;
  readonly #until: bigint;
  readonly #o: LogOptions;
  done = false;

  constructor(o: LogOptions) {
    this.#o = o;
    this.#since = o.since;
    this.#until = o.until;
  }

  *entries(recs: Rec[]): Generator<LogEntry> {
    for (const r of recs) {
      if (this.done) return;
      if (this.#since) {
        if (r.ns < this.#since) continue;
        this.#since = 0n; // times need not be monotonic: from here on, everything
      }
      if (this.#until && r.ns > this.#until) {
        this.done = true;
        return;
      }
      if (r.stream === 1 ? !this.#o.stdout : !this.#o.stderr) continue;
      const e: LogEntry = { stream: r.stream, data: r.data, time: r.time };
      if (r.attrs) e.attrs = r.attrs;
      yield e;
    }
  }
}

/**
 * Streams the entries of the log at `path` (json-file by default). Without follow, it stops
 * at what the log held when the read began; with follow, it goes on as the container
 * writes, across rotations, until the container stops or `signal` aborts.
 */
export async function* readLogs(path: string, opts: LogOptions, format: LogFormat = 'json-file'): AsyncGenerator<LogEntry> {
  const snap = await snapshot(path);
  const filter = new Filter(opts);
  /** The time of the last entry read (yielded or not): what a follow has seen. */
  let seen: bigint | undefined;
  let follow: Followed | undefined;
  try {
    // Docker skips gzipped files whose last entry is older than --since, before the tail.
    let files = [...snap.rotated];
    if (opts.since) {
      const keep: LogFile[] = [];
      for (const f of files) {
        const t = f.gz ? await gzLastTime(f) : undefined;
        if (t !== undefined && t < opts.since) await f.fh.close();
        else keep.push(f);
      }
      files = keep;
    }
    if (snap.current) files.push(snap.current);

    // Where each file starts for the tail: a byte offset (plain) or records to skip (gz).
    const plan = new Map<LogFile, number>();
    if (opts.tail < 0) {
      for (const f of files) plan.set(f, 0);
    } else {
      let need = opts.tail;
      for (let i = files.length - 1; i >= 0 && need > 0; i--) {
        const f = files[i]!;
        if (f.gz) {
          const total = await countGz(f, format);
          plan.set(f, Math.max(0, total - need));
          need -= Math.min(total, need);
        } else {
          const { offset, count } = await tailPlain(f, format, f.size, need);
          plan.set(f, offset);
          need -= count;
        }
      }
    }

    for (const f of files) {
      const start = plan.get(f);
      if (start === undefined) continue;
      const isCurrent = f === snap.current;
      const split = new Splitter(format);
      const at = { pos: 0 };
      const source = f.gz ? gzRecords(f, format, start) : plainRecords(f, split, start, f.size, at);
      for await (const recs of source) {
        if (recs.length) seen = recs[recs.length - 1]!.ns;
        yield* filter.entries(recs);
        if (filter.done || opts.signal?.aborted) return;
      }
      if (isCurrent) follow = { f, split, pos: at.pos };
    }
    if (!opts.follow || filter.done) return;
    // --tail 0: the follow starts at the end.
    if (!follow && snap.current) follow = { f: snap.current, split: new Splitter(format), pos: snap.current.size };

    // What the tail left unread still counts as seen: a rotation must not bring it back.
    if (seen === undefined) {
      for (let i = files.length - 1; i >= 0 && seen === undefined; i--) seen = await lastTime(files[i]!, format);
    }
    yield* followLog(path, format, opts, filter, follow, seen);
  } finally {
    await closeFiles([snap.current, ...snap.rotated]);
  }
}

interface Followed {
  f: LogFile;
  split: Splitter;
  pos: number;
  /** Opened by the follow (not part of the initial snapshot): it closes it. */
  owned?: boolean;
}

async function* followLog(
  path: string,
  format: LogFormat,
  opts: LogOptions,
  filter: Filter,
  start: Followed | undefined,
  seenBefore: bigint | undefined,
): AsyncGenerator<LogEntry> {
  let cur = start;
  let seen = seenBefore;
  const release = async (c: Followed | undefined) => {
    if (c?.owned) await c.f.fh.close().catch(() => undefined);
  };
  /** A file ending at or before the last entry seen (times are unique: the writer sees to it). */
  const olderThanSeen = (t: bigint | undefined) => t === undefined || (seen !== undefined && t <= seen);
  /** Everything appended to the followed file since the last look. */
  async function* drain(c: Followed): AsyncGenerator<LogEntry> {
    const at = { pos: c.pos };
    for await (const recs of plainRecords(c.f, c.split, c.pos, Number.MAX_SAFE_INTEGER, at)) {
      if (recs.length) seen = recs[recs.length - 1]!.ns;
      yield* filter.entries(recs);
      if (filter.done || opts.signal?.aborted) break;
    }
    c.pos = at.pos;
  }
  try {
    let lastLook = false;
    for (;;) {
      if (opts.signal?.aborted || filter.done) return;
      if (!cur) {
        // No log yet (or caught between a rotation's rename and create): wait for it.
        const f = await openFile(path, false);
        if (f) cur = { f, split: new Splitter(format), pos: 0, owned: true };
      }
      if (cur) {
        yield* drain(cur);
        if (filter.done || opts.signal?.aborted) return;
        const now = await fsp.stat(path).catch(() => undefined);
        if (now?.ino !== cur.f.ino) {
          // Rotated. The writer closed our file before renaming it: one more drain takes
          // what came after the last look. Files rotated after ours (when we fell behind by
          // more than one rotation) hold entries newer than the last one seen; then comes
          // the new current file.
          yield* drain(cur);
          if (filter.done || opts.signal?.aborted) return;
          // Only the files newer than ours: the scan ends at ours, or at a file (ours
          // compressed, an older one) whose last entry was seen already.
          const ours = cur.f.ino;
          const snap = await snapshot(path, async (f) => (!f.gz && f.ino === ours) || olderThanSeen(await lastTime(f, format)));
          try {
            for (const f of snap.rotated) {
              const source = f.gz ? gzRecords(f, format, 0) : plainRecords(f, new Splitter(format), 0, f.size, { pos: 0 });
              for await (const recs of source) {
                if (recs.length) seen = recs[recs.length - 1]!.ns;
                yield* filter.entries(recs);
                if (filter.done || opts.signal?.aborted) return;
              }
            }
          } finally {
            await closeFiles(snap.rotated);
          }
          if (snap.current?.ino === cur.f.ino) {
            // A listing that raced the rotation still shows our file as the current one:
            // keep reading it where we are, and look again.
            await closeFiles([snap.current]);
            continue;
          }
          await release(cur);
          cur = snap.current ? { f: snap.current, split: new Splitter(format), pos: 0, owned: true } : undefined;
          continue;
        }
      }
      if (lastLook) return;
      // The container stopped: its monitor wrote everything before the exit was known, so
      // one more look (a rotation included) finds the rest.
      if (!opts.running()) {
        lastLook = true;
        continue;
      }
      await waitForChange(path, FOLLOW_POLL_MS, opts.signal);
    }
  } finally {
    await release(cur);
  }
}

function waitForChange(path: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(path, finish);
      watcher.on('error', finish);
    } catch {
      // polling by timeout alone is fine
    }
    signal?.addEventListener('abort', finish);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What `logs --details` puts before an entry (Docker's API adds it, then a space): the
 * attributes sorted by key, query-escaped, as k=v joined by commas.
 */
export function formatDetails(attrs: Record<string, string> | undefined): string {
  if (!attrs) return '';
  return Object.keys(attrs)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(attrs[k]!)}`)
    .join(',');
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
