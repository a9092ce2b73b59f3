// bcrypt password verification, for the htpasswd files `htpasswd -B` writes ($2y$, also
// $2a$ and $2b$). Written here rather than taken from npm so the registry needs no new
// dependency. Blowfish's initial P-array and S-boxes are the hex digits of pi's fractional
// part; they are computed once (BigInt, Machin's formula, a few ms) instead of being pasted
// in as a 1042-word table that no reader could check.
import { timingSafeEqual } from 'node:crypto';

const BASE64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** P (18 words) then S0..S3 (256 words each). */
const PI_WORDS = 18 + 4 * 256;
const MAGIC = 'OrpheanBeholderScryDoubt';

/** atan(1/x) scaled by 2^bits. */
function atanInv(x: bigint, bits: bigint): bigint {
  const x2 = x * x;
  let power = (1n << bits) / x;
  let sum = power;
  for (let k = 1n; power !== 0n; k++) {
    power /= x2;
    const term = power / (2n * k + 1n);
    sum += k % 2n === 1n ? -term : term;
  }
  return sum;
}

let piWords: Uint32Array | undefined;

/** The first PI_WORDS 32-bit words of pi's fractional part (0x243f6a88, 0x85a308d3, ...). */
export function piFraction(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(PI_WORDS * 32);
  const guard = 64n;
  const pi = 16n * atanInv(5n, bits + guard) - 4n * atanInv(239n, bits + guard);
  const frac = (pi >> guard) & ((1n << bits) - 1n);
  const words = new Uint32Array(PI_WORDS);
  for (let i = 0; i < PI_WORDS; i++) words[i] = Number((frac >> BigInt((PI_WORDS - 1 - i) * 32)) & 0xffffffffn);
  piWords = words;
  return words;
}

function decode64(s: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let bitBuf = 0;
  let nbits = 0;
  let o = 0;
  for (const ch of s) {
    const v = BASE64.indexOf(ch);
    if (v < 0) throw new Error('invalid bcrypt base64');
    bitBuf = (bitBuf << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      if (o < bytes) out[o++] = (bitBuf >> nbits) & 0xff;
    }
  }
  return out;
}

function encode64(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i += 3) {
    const b0 = data[i];
    const b1 = i + 1 < data.length ? data[i + 1] : 0;
    const b2 = i + 2 < data.length ? data[i + 2] : 0;
    s += BASE64[b0 >> 2] + BASE64[((b0 & 3) << 4) | (b1 >> 4)];
    if (i + 1 < data.length) s += BASE64[((b1 & 15) << 2) | (b2 >> 6)];
    if (i + 2 < data.length) s += BASE64[b2 & 63];
  }
  return s;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  constructor() {
    const pi = piFraction();
    this.p = pi.slice(0, 18);
    this.s = pi.slice(18);
  }

  private f(x: number): number {
    const s = this.s;
    return (((s[x >>> 24] + s[256 + ((x >>> 16) & 0xff)]) ^ s[512 + ((x >>> 8) & 0xff)]) + s[768 + (x & 0xff)]) >>> 0;
  }

  /** Enciphers lr[off], lr[off+1] in place. */
  encipher(lr: Uint32Array, off: number): void {
    const p = this.p;
    let l = lr[off] ^ p[0];
    let r = lr[off + 1];
    for (let i = 1; i <= 16; i += 2) {
      r ^= this.f(l) ^ p[i];
      l ^= this.f(r) ^ p[i + 1];
    }
    lr[off] = (r ^ p[17]) >>> 0;
    lr[off + 1] = l >>> 0;
  }

  /** Blowfish's key schedule, with bcrypt's salt mixed in when given (ExpandKey). */
  expand(key: Uint8Array, salt?: Uint8Array): void {
    let kp = 0;
    const keyWord = () => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = (w << 8) | key[kp];
        kp = (kp + 1) % key.length;
      }
      return w >>> 0;
    };
    for (let i = 0; i < 18; i++) this.p[i] ^= keyWord();
    let sp = 0;
    const saltWord = () => {
      if (!salt) return 0;
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = (w << 8) | salt[sp];
        sp = (sp + 1) % salt.length;
      }
      return w >>> 0;
    };
    const lr = new Uint32Array(2);
    const fill = (target: Uint32Array) => {
      for (let i = 0; i < target.length; i += 2) {
        lr[0] ^= saltWord();
        lr[1] ^= saltWord();
        this.encipher(lr, 0);
        target[i] = lr[0];
        target[i + 1] = lr[1];
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

/** The bcrypt hash of password with the given cost and 16-byte salt, as "$2y$NN$<salt><hash>". */
export function bcryptHash(password: string, cost: number, salt: Uint8Array, prefix = '2y'): string {
  if (cost < 4 || cost > 31) throw new Error('bcrypt cost out of range');
  // The key is the password's bytes and a NUL, at most 72 bytes.
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]).subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key);
    bf.expand(salt);
  }
  const text = new Uint32Array(6);
  const magic = Buffer.from(MAGIC, 'latin1');
  for (let i = 0; i < 6; i++) text[i] = magic.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) for (let j = 0; j < 6; j += 2) bf.encipher(text, j);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(text[i], i * 4);
  return `$${prefix}$${String(cost).padStart(2, '0')}$${encode64(salt)}${encode64(out.subarray(0, 23))}`;
}

const HASH_RE = /^\$(2[aby])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;

export function isBcryptHash(s: string): boolean {
  return HASH_RE.test(s);
}

/** Whether password matches a bcrypt hash; false (never a throw) for a malformed hash. */
export function bcryptVerify(password: string, hash: string): boolean {
  const m = HASH_RE.exec(hash);
  if (!m) return false;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) return false;
  const again = Buffer.from(bcryptHash(password, cost, decode64(m[3], 16), m[1]));
  const want = Buffer.from(hash);
  return again.length === want.length && timingSafeEqual(again, want);
}
