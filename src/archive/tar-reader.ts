// Streaming tar reader: yields one entry at a time with a lazily read body. Meta entries
// (PAX 'x'/'g', GNU 'L'/'K') are folded into the entry they describe.
import { ByteReader } from './byte-reader.ts';
import { BLOCK, decodeHeader, entryType, invalidHeader, isZeroBlock, parsePax } from './tar-header.ts';
import type { TarHeader } from './tar-header.ts';

export interface TarEntry {
  header: TarHeader;
  /** Must be consumed or abandoned before asking for the next entry; whatever the consumer
   * did not read is skipped. */
  body: AsyncIterable<Buffer>;
}

// Meta entries are read whole into memory; a hostile archive must not make us allocate
// gigabytes for a "name".
const MAX_META = 1 << 20;

const truncated = () => new Error('archive/tar: truncated archive (unexpected EOF)');

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Decimal PAX number; mtime may carry a fraction. */
function paxNumber(key: string, v: string, fraction = false): number {
  const re = fraction ? /^-?[0-9]+(\.[0-9]*)?$/ : /^[0-9]+$/;
  if (!re.test(v)) throw invalidHeader(`bad PAX ${key} ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw invalidHeader(`bad PAX ${key}`);
  return n;
}

export async function* readTar(input: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(input);
  try {
    let pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const block = await r.read(BLOCK, truncated);
      // A missing end-of-archive marker is tolerated, as GNU tar and Go do.
      if (!block) return;
      if (isZeroBlock(block)) return;
      const raw = decodeHeader(block);
      let size = raw.size;
      const paxSize = pax.get('size');
      if (paxSize && entryType(raw.flag)) size = paxNumber('size', paxSize.toString());
      if (size < 0) throw invalidHeader('negative size');

      if (raw.flag === 'x' || raw.flag === 'g' || raw.flag === 'L' || raw.flag === 'K') {
        if (size > MAX_META) throw invalidHeader('meta entry too large');
        const data = size ? await r.read(size, truncated) : Buffer.alloc(0);
        if (!data) throw truncated();
        if ((await r.skip(padding(size))) !== padding(size)) throw truncated();
        if (raw.flag === 'x') for (const [k, v] of parsePax(data)) pax.set(k, v);
        else if (raw.flag === 'L') longName = cstr(data);
        else if (raw.flag === 'K') longLink = cstr(data);
        // 'g' (global) records apply to all later entries; nothing we honour needs them.
        continue;
      }

      const type = entryType(raw.flag);
      if (!type) {
        if (raw.flag === 'V') {
          // GNU volume label: not an entry.
          await skipExactly(r, size + padding(size));
          pax = new Map();
          continue;
        }
        throw new Error(`archive/tar: unsupported entry type ${JSON.stringify(raw.flag)} for ${raw.name}`);
      }

      const header: TarHeader = {
        name: longName ?? raw.name,
        type,
        mode: raw.mode & 0o7777,
        uid: raw.uid,
        gid: raw.gid,
        uname: raw.uname || undefined,
        gname: raw.gname || undefined,
        size: type === 'file' ? size : 0,
        mtime: new Date(raw.mtime * 1000),
        linkname: longLink ?? raw.linkname,
        devmajor: raw.devmajor,
        devminor: raw.devminor,
        xattrs: {},
      };
      applyPax(header, pax);
      pax = new Map();
      longName = undefined;
      longLink = undefined;

      // Bodies of non-file entries (e.g. a GNU dumpdir listing) are skipped.
      let remaining = size;
      let current = true;
      const ownBody = type === 'file';
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          if (!current) throw new Error('archive/tar: entry body read after moving to the next entry');
          while (ownBody && remaining > 0) {
            const chunk = await r.readSome(remaining);
            if (!chunk) throw truncated();
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { header, body };
      current = false;
      await skipExactly(r, remaining + padding(size));
    }
  } finally {
    await r.close();
  }
}

async function skipExactly(r: ByteReader, n: number): Promise<void> {
  if ((await r.skip(n)) !== n) throw truncated();
}

function cstr(data: Buffer): string {
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul < 0 ? data.length : nul);
}

function applyPax(h: TarHeader, pax: Map<string, Buffer>): void {
  let other: Record<string, string> | undefined;
  const libarchive: Array<[string, string]> = [];
  for (const [key, value] of pax) {
    const v = value.toString('utf8');
    switch (key) {
      case 'path': h.name = v; break;
      case 'linkpath': h.linkname = v; break;
      case 'uid': h.uid = paxNumber(key, v); break;
      case 'gid': h.gid = paxNumber(key, v); break;
      case 'uname': h.uname = v; break;
      case 'gname': h.gname = v; break;
      case 'size': break; // already applied
      case 'mtime': h.mtime = new Date(paxNumber(key, v, true) * 1000); break;
      default:
        if (key.startsWith('SCHILY.xattr.')) h.xattrs[key.slice('SCHILY.xattr.'.length)] = value;
        else if (key.startsWith('LIBARCHIVE.xattr.')) libarchive.push([key, v]);
        else (other ??= {})[key] = v;
    }
  }
  // bsdtar's own xattr records (URL-encoded name, base64 value); it usually writes SCHILY
  // ones too, which win.
  for (const [key, v] of libarchive) {
    let name: string;
    try {
      name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
    } catch {
      throw invalidHeader(`bad PAX record ${key}`);
    }
    if (!(name in h.xattrs)) h.xattrs[name] = Buffer.from(v, 'base64');
  }
  if (other) h.pax = other;
}
