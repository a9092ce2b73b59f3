// The tar header block: types shared by the reader and the writer, decoding of ustar/GNU
// header blocks and PAX records, and encoding of (PAX +) ustar headers.
// Formats: POSIX.1-1988 ustar, POSIX.1-2001 pax (extended 'x' records), GNU (long names
// 'L'/'K', base-256 numbers). References: the pax section of POSIX "pax" utility spec and
// GNU tar's manual ("Basic Tar Format").

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  /** as in the archive, e.g. "etc/passwd" or "./etc/" (not normalized) */
  name: string;
  type: TarEntryType;
  /** permission bits incl. setuid/setgid/sticky (no file type bits) */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** body size (0 except for files) */
  size: number;
  mtime: Date;
  /** symlink target or hardlink target name ('' otherwise) */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** from PAX SCHILY.xattr.* */
  xattrs: Record<string, Buffer>;
  /** other PAX records, if any */
  pax?: Record<string, string>;
}

export const BLOCK = 512;

/** The error for anything that is not a valid header (Go's archive/tar wording, which
 * Docker users see in its messages). */
export function invalidHeader(detail?: string): Error {
  return new Error('archive/tar: invalid tar header' + (detail ? `: ${detail}` : ''));
}

const TYPE_TO_FLAG: Record<TarEntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};

// Field offsets and lengths of the ustar header.
const F = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12],
  chksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 6], version: [263, 2],
  uname: [265, 32], gname: [297, 32], devmajor: [329, 8], devminor: [337, 8], prefix: [345, 155],
} as const;

// ---------------------------------------------------------------- decoding

/** A raw decoded header block, before PAX/GNU overrides are applied. */
export interface RawHeader {
  name: string;
  /** the typeflag character ('\0' read as '0' only for names without a trailing slash) */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function cstring(block: Uint8Array, [off, len]: readonly [number, number]): string {
  const field = block.subarray(off, off + len);
  const nul = field.indexOf(0);
  return Buffer.from(field.buffer, field.byteOffset, nul < 0 ? len : nul).toString('utf8');
}

/** A numeric field: octal text (space/NUL padded) or GNU base-256 (high bit set). */
function numeric(block: Uint8Array, [off, len]: readonly [number, number]): number {
  const field = block.subarray(off, off + len);
  if (field[0]! & 0x80) {
    // Base-256, big endian two's complement; the marker bit is not part of the value for
    // positive numbers (0x80), while 0xff starts a negative number.
    const negative = field[0] === 0xff;
    let v = 0n;
    for (let i = 0; i < len; i++) {
      let byte = field[i]!;
      if (i === 0 && !negative) byte &= 0x7f;
      v = (v << 8n) | BigInt(byte);
    }
    if (negative) v -= 1n << BigInt(8 * len);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw invalidHeader('number out of range');
    return Number(v);
  }
  let s = Buffer.from(field.buffer, field.byteOffset, len).toString('latin1');
  s = s.replace(/^[ \0]+/, '').replace(/[ \0].*$/s, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalidHeader(`bad number ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumOk(block: Uint8Array): boolean {
  let stored: number;
  try {
    stored = numeric(block, F.chksum);
  } catch {
    return false;
  }
  // Historic writers summed signed chars; accept either sum, as GNU tar and Go do.
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Decodes one header block (checksum verified). */
export function decodeHeader(block: Uint8Array): RawHeader {
  if (!checksumOk(block)) throw invalidHeader();
  const magic = Buffer.from(block.subarray(257, 265)).toString('latin1');
  let name = cstring(block, F.name);
  // POSIX ustar carries a name prefix; GNU's format ("ustar  \0") uses that space for other
  // fields, and star's ("tar\0" trailer) for a shorter prefix plus times.
  if (magic === 'ustar\x0000') {
    const star = Buffer.from(block.subarray(508, 512)).toString('latin1') === 'tar\0';
    const prefix = star ? cstring(block, [345, 131]) : cstring(block, F.prefix);
    if (prefix) name = `${prefix}/${name}`;
  }
  let flag = String.fromCharCode(block[156]!);
  if (flag === '\0') flag = name.endsWith('/') ? '5' : '0';
  return {
    name,
    flag,
    mode: numeric(block, F.mode),
    uid: numeric(block, F.uid),
    gid: numeric(block, F.gid),
    size: numeric(block, F.size),
    mtime: numeric(block, F.mtime),
    linkname: cstring(block, F.linkname),
    uname: cstring(block, F.uname),
    gname: cstring(block, F.gname),
    devmajor: numeric(block, F.devmajor),
    devminor: numeric(block, F.devminor),
  };
}

/** The body of a PAX 'x'/'g' entry: records "<len> <key>=<value>\n". Values stay bytes
 * (xattr values are binary). */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // GNU tar pads some PAX bodies with NULs; stop there.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw invalidHeader('bad PAX record');
    const lenText = data.toString('latin1', pos, space);
    if (!/^[0-9]+$/.test(lenText)) throw invalidHeader('bad PAX record length');
    const len = parseInt(lenText, 10);
    const end = pos + len;
    if (len <= space - pos + 1 || end > data.length || data[end - 1] !== 0x0a) throw invalidHeader('bad PAX record');
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw invalidHeader('bad PAX record');
    out.set(record.toString('utf8', 0, eq), record.subarray(eq + 1));
    pos = end;
  }
  return out;
}

/** Entry type of a typeflag, or undefined for non-entry/unknown flags. */
export function entryType(flag: string): TarEntryType | undefined {
  switch (flag) {
    case '0': case '7': return 'file'; // '7' (contiguous file) is a plain file everywhere
    case '1': return 'hardlink';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': case 'D': return 'dir'; // 'D': GNU dumpdir, a directory with a listing body
    case '6': return 'fifo';
    default: return undefined;
  }
}

// ---------------------------------------------------------------- encoding

const MAX_OCTAL_8 = 0o7777777; // 8-byte fields: 7 digits + NUL
const MAX_OCTAL_12 = 0o77777777777; // 12-byte fields: 11 digits + NUL

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function writeString(block: Buffer, [off, len]: readonly [number, number], s: string): void {
  block.write(s, off, len, 'utf8');
}

/** Octal when it fits, else base-256 (GNU extension, read by GNU tar, Go, bsdtar). */
function writeNumber(block: Buffer, [off, len]: readonly [number, number], v: number): void {
  const max = len === 8 ? MAX_OCTAL_8 : MAX_OCTAL_12;
  if (Number.isInteger(v) && v >= 0 && v <= max) {
    block.write(v.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
    return;
  }
  let x = BigInt(Math.trunc(v));
  if (x < 0n) x += 1n << BigInt(8 * len);
  for (let i = len - 1; i >= 0; i--) {
    block[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  block[off] = v < 0 ? 0xff : 0x80;
}

/** Splits a name into ustar (prefix, name) fields, or undefined when it cannot fit. */
function splitUstarName(name: string): [string, string] | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return ['', name];
  if (name.length > 256) return undefined;
  // The prefix is everything before some '/', at most 155 bytes; the rest at most 100.
  for (let i = Math.min(155, name.length - 1); i > 0; i--) {
    if (name[i] === '/' && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  // The length counts its own digits; grow until stable.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export function paddingFor(size: number): Buffer {
  return Buffer.alloc(pad(size));
}

/** A header with every field filled in from a partial one. */
export function completeHeader(h: Partial<TarHeader> & { name: string; type: TarEntryType }): TarHeader {
  const defaultMode = h.type === 'dir' ? 0o755 : h.type === 'symlink' ? 0o777 : 0o644;
  return {
    name: h.name,
    type: h.type,
    mode: h.mode ?? defaultMode,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    uname: h.uname,
    gname: h.gname,
    size: h.type === 'file' ? (h.size ?? 0) : 0,
    mtime: h.mtime ?? new Date(0),
    linkname: h.linkname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
    xattrs: h.xattrs ?? {},
    pax: h.pax,
  };
}

function block(): Buffer {
  return Buffer.alloc(BLOCK);
}

function finishBlock(b: Buffer, flag: string): Buffer {
  b.write(flag, 156, 1, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/**
 * The header blocks for one entry: a PAX extended header when the entry does not fit
 * ustar (long or non-ASCII names, large ids/sizes/times, xattrs, extra PAX records),
 * then the ustar header. mtime is written in whole seconds.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const pax = new Map<string, Buffer>();
  const mtime = Math.floor(h.mtime.getTime() / 1000);

  let split = splitUstarName(h.name);
  if (!split) {
    pax.set('path', Buffer.from(h.name, 'utf8'));
    split = ['', asciiTruncated(h.name, 100)];
  }
  let linkname = h.linkname;
  if (!isAscii(linkname) || Buffer.byteLength(linkname) > 100) {
    pax.set('linkpath', Buffer.from(linkname, 'utf8'));
    linkname = asciiTruncated(linkname, 100);
  }
  if (h.uid > MAX_OCTAL_8 || h.uid < 0) pax.set('uid', Buffer.from(String(h.uid)));
  if (h.gid > MAX_OCTAL_8 || h.gid < 0) pax.set('gid', Buffer.from(String(h.gid)));
  if (h.size > MAX_OCTAL_12) pax.set('size', Buffer.from(String(h.size)));
  if (mtime > MAX_OCTAL_12 || mtime < 0) pax.set('mtime', Buffer.from(String(mtime)));
  let uname = h.uname ?? '';
  let gname = h.gname ?? '';
  if (!isAscii(uname) || uname.length > 32) {
    pax.set('uname', Buffer.from(uname, 'utf8'));
    uname = asciiTruncated(uname, 32);
  }
  if (!isAscii(gname) || gname.length > 32) {
    pax.set('gname', Buffer.from(gname, 'utf8'));
    gname = asciiTruncated(gname, 32);
  }
  for (const [k, v] of Object.entries(h.xattrs)) pax.set(`SCHILY.xattr.${k}`, Buffer.from(v));
  for (const [k, v] of Object.entries(h.pax ?? {})) if (!pax.has(k)) pax.set(k, Buffer.from(v, 'utf8'));

  const b = block();
  writeString(b, F.name, split[1]);
  writeString(b, F.prefix, split[0]);
  writeNumber(b, F.mode, h.mode & 0o7777);
  writeNumber(b, F.uid, h.uid);
  writeNumber(b, F.gid, h.gid);
  writeNumber(b, F.size, h.size);
  writeNumber(b, F.mtime, mtime);
  writeString(b, F.linkname, linkname);
  writeString(b, F.uname, uname);
  writeString(b, F.gname, gname);
  writeNumber(b, F.devmajor, h.devmajor);
  writeNumber(b, F.devminor, h.devminor);
  finishBlock(b, TYPE_TO_FLAG[h.type]);
  if (pax.size === 0) return b;

  // Records sorted by key so the same entry always gives the same bytes.
  const records = Buffer.concat([...pax.keys()].sort().map((k) => paxRecord(k, pax.get(k)!)));
  const x = block();
  const base = h.name.replace(/\/+$/, '').split('/').pop() || 'root';
  writeString(x, F.name, asciiTruncated(`PaxHeaders.0/${base}`, 100));
  writeNumber(x, F.mode, 0o644);
  writeNumber(x, F.uid, 0);
  writeNumber(x, F.gid, 0);
  writeNumber(x, F.size, records.length);
  writeNumber(x, F.mtime, Math.min(Math.max(mtime, 0), MAX_OCTAL_12));
  writeNumber(x, F.devmajor, 0);
  writeNumber(x, F.devminor, 0);
  finishBlock(x, 'x');
  return Buffer.concat([x, records, paddingFor(records.length), b]);
}

function asciiTruncated(s: string, max: number): string {
  return s.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}
