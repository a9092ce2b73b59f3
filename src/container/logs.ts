// Reads a container's json-file log (written by its monitor): one JSON object per line,
// {"log": "...", "stream": "stdout"|"stderr", "time": RFC3339Nano}.
import { promises as fsp, watch } from 'node:fs';
import { parseRfc3339 } from '../util/time.ts';

export interface LogEntry {
  stream: 1 | 2;
  data: Buffer;
  /** The timestamp as the log has it (RFC3339 with nanoseconds). */
  time: string;
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  /** Nanoseconds since the epoch; 0 for no bound. */
  since: bigint;
  until: bigint;
  /** Number of last lines, or -1 for all. */
  tail: number;
  follow: boolean;
  /** For follow: whether the container may still write. */
  running: () => boolean;
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;

function parseLine(line: string): LogEntry | undefined {
  if (!line) return undefined;
  try {
    const o = JSON.parse(line) as { log?: string; stream?: string; time?: string };
    return { stream: o.stream === 'stderr' ? 2 : 1, data: Buffer.from(o.log ?? '', 'utf8'), time: o.time ?? '' };
  } catch {
    return undefined; // a line cut by a crash mid-write
  }
}

/** Byte offset where the last `n` lines of the file begin. */
async function tailOffset(fh: fsp.FileHandle, size: number, n: number): Promise<number> {
  if (n < 0) return 0;
  let pos = size;
  let newlines = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  // The file ends with a newline; the (n+1)-th newline from the end precedes the tail.
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] === 0x0a && ++newlines === n + 1) return pos + i + 1;
    }
  }
  return 0;
}

export async function* readLogs(path: string, opts: LogOptions): AsyncGenerator<LogEntry> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    let offset = opts.tail === 0 ? size : await tailOffset(fh, size, opts.tail);
    let rest = '';
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        const text = rest + buf.toString('utf8', 0, bytesRead);
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const e = parseLine(line);
          if (!e) continue;
          if (e.stream === 1 ? !opts.stdout : !opts.stderr) continue;
          const t = parseRfc3339(e.time);
          if (opts.since && t < opts.since) continue;
          if (opts.until && t > opts.until) return;
          yield e;
        }
        continue;
      }
      if (!opts.follow || opts.signal?.aborted) return;
      if (!opts.running()) {
        // one last read after the writer stopped, then done
        const { size: now } = await fh.stat();
        if (now <= offset) return;
        continue;
      }
      await waitForChange(path, 250, opts.signal);
    }
  } finally {
    await fh.close();
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
