// A small DNS wire-format codec (RFC 1035): header, questions and resource records,
// with name compression on both read and write. Record data is decoded only for the
// types the embedded server itself produces (A, AAAA, PTR, CNAME, NS); everything else,
// including EDNS OPT records, stays a raw Buffer so it can be passed through untouched.

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsFlags {
  qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean; rcode: number;
}
export interface DnsQuestion { name: string; type: number; class: number }
/** data: dotted address for A/AAAA, a domain name for PTR/CNAME/NS, raw bytes otherwise. */
export interface DnsRecord { name: string; type: number; class: number; ttl: number; data: string | Buffer }
export interface DnsMessage {
  id: number; flags: DnsFlags;
  questions: DnsQuestion[]; answers: DnsRecord[]; authority: DnsRecord[]; additional: DnsRecord[];
}

export class DnsFormatError extends Error {}

const NAME_TYPES: ReadonlySet<number> = new Set([TYPE.PTR, TYPE.CNAME, TYPE.NS]);
const MAX_POINTER_JUMPS = 64;

/** Lower-case, no trailing dot: the form names are compared in. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

export function emptyFlags(): DnsFlags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode: 0 };
}

// ---------- decoding ----------

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = start;
  let next = -1; // where reading continues after the first compression pointer
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past end of message');
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > MAX_POINTER_JUMPS) throw new DnsFormatError('compression pointer loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unsupported label type');
    if (len === 0) { pos += 1; break; }
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past end of message');
    length += len + 1;
    if (length > 255) throw new DnsFormatError('name longer than 255 octets');
    // latin1 keeps every byte distinct so odd labels survive a round trip
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next: next < 0 ? pos : next };
}

function need(buf: Buffer, pos: number, n: number): void {
  if (pos + n > buf.length) throw new DnsFormatError('message truncated');
}

function formatIPv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function readRecord(buf: Buffer, start: number): { rr: DnsRecord; next: number } {
  const { name, next: p } = readName(buf, start);
  need(buf, p, 10);
  const type = buf.readUInt16BE(p);
  const cls = buf.readUInt16BE(p + 2);
  const ttl = buf.readUInt32BE(p + 4);
  const rdlen = buf.readUInt16BE(p + 8);
  const rdStart = p + 10;
  need(buf, rdStart, rdlen);
  const raw = buf.subarray(rdStart, rdStart + rdlen);
  let data: string | Buffer;
  if (type === TYPE.A && rdlen === 4) data = Array.from(raw).join('.');
  else if (type === TYPE.AAAA && rdlen === 16) data = formatIPv6(raw);
  else if (NAME_TYPES.has(type)) {
    const target = readName(buf, rdStart);
    if (target.next !== rdStart + rdlen) throw new DnsFormatError('name does not fill record data');
    data = target.name;
  } else data = Buffer.from(raw);
  return { rr: { name, type, class: cls, ttl, data }, next: rdStart + rdlen };
}

export function decodeFlags(v: number): DnsFlags {
  return {
    qr: (v & 0x8000) !== 0, opcode: (v >> 11) & 0xf, aa: (v & 0x0400) !== 0,
    tc: (v & 0x0200) !== 0, rd: (v & 0x0100) !== 0, ra: (v & 0x0080) !== 0, rcode: v & 0xf,
  };
}

function encodeFlags(f: DnsFlags): number {
  return (f.qr ? 0x8000 : 0) | ((f.opcode & 0xf) << 11) | (f.aa ? 0x0400 : 0) | (f.tc ? 0x0200 : 0) |
    (f.rd ? 0x0100 : 0) | (f.ra ? 0x0080 : 0) | (f.rcode & 0xf);
}

/** Parses a whole message; throws DnsFormatError on anything malformed (never another error). */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length < 12) throw new DnsFormatError('message shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = decodeFlags(buf.readUInt16BE(2));
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let pos = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const { name, next } = readName(buf, pos);
    need(buf, next, 4);
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const sections: DnsRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const { rr, next } = readRecord(buf, pos);
      sections[s]!.push(rr);
      pos = next;
    }
  }
  return { id, flags, questions, answers: sections[0]!, authority: sections[1]!, additional: sections[2]! };
}

/** Reads only the id and flags: enough to answer FORMERR to a query we cannot parse. */
export function peekHeader(buf: Buffer): { id: number; flags: DnsFlags } | undefined {
  if (buf.length < 12) return undefined;
  return { id: buf.readUInt16BE(0), flags: decodeFlags(buf.readUInt16BE(2)) };
}

// ---------- encoding ----------

class Writer {
  private buf = Buffer.alloc(512);
  length = 0;
  // name suffix -> offset; matched case-sensitively so names keep their exact spelling
  private readonly offsets = new Map<string, number>();

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
  u8(v: number): void { this.ensure(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16BE(v & 0xffff, this.length); this.length += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.length); this.length += 4; }
  bytes(b: Buffer): void { this.ensure(b.length); b.copy(this.buf, this.length); this.length += b.length; }
  setU16(at: number, v: number): void { this.buf.writeUInt16BE(v, at); }

  name(name: string): void {
    const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
    let total = 1;
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const known = this.offsets.get(suffix);
      if (known !== undefined) { this.u16(0xc000 | known); return; }
      // pointers can only address the first 16 KiB
      if (this.length < 0x4000) this.offsets.set(suffix, this.length);
      const label = Buffer.from(labels[i]!, 'latin1');
      if (label.length > 63) throw new DnsFormatError(`label longer than 63 octets: ${labels[i]}`);
      total += label.length + 1;
      if (total > 255) throw new DnsFormatError('name longer than 255 octets');
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }
  result(): Buffer { return Buffer.from(this.buf.subarray(0, this.length)); }
}

function parseIPv4(s: string): Buffer {
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new DnsFormatError(`not an IPv4 address: ${s}`);
  }
  return Buffer.from(parts.map(Number));
}

function parseIPv6(s: string): Buffer {
  const halves = s.split('::');
  if (halves.length > 2) throw new DnsFormatError(`not an IPv6 address: ${s}`);
  const toGroups = (h: string | undefined) => (h ? h.split(':') : []);
  const head = toGroups(halves[0]);
  const tail = toGroups(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) {
    throw new DnsFormatError(`not an IPv6 address: ${s}`);
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function writeRecord(w: Writer, rr: DnsRecord): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const lenAt = w.length;
  w.u16(0);
  const start = w.length;
  if (Buffer.isBuffer(rr.data)) w.bytes(rr.data);
  else if (rr.type === TYPE.A) w.bytes(parseIPv4(rr.data));
  else if (rr.type === TYPE.AAAA) w.bytes(parseIPv6(rr.data));
  else if (NAME_TYPES.has(rr.type)) w.name(rr.data);
  else throw new DnsFormatError(`record type ${rr.type} needs raw data`);
  w.setU16(lenAt, w.length - start);
}

export function encodeMessage(m: DnsMessage): Buffer {
  const w = new Writer();
  w.u16(m.id);
  w.u16(encodeFlags(m.flags));
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length);
  for (const q of m.questions) { w.name(q.name); w.u16(q.type); w.u16(q.class); }
  for (const rr of [...m.answers, ...m.authority, ...m.additional]) writeRecord(w, rr);
  return w.result();
}

/** The UDP payload size a query advertises through EDNS (RFC 6891), or 512 without it. */
export function maxUdpSize(query: DnsMessage): number {
  const opt = query.additional.find((rr) => rr.type === TYPE.OPT);
  return opt ? Math.max(512, opt.class) : 512;
}
