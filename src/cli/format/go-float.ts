// Go's strconv.FormatFloat for the 'e', 'f' and 'g' formats. Rounding is done on the exact
// binary value, half to even, as Go does: JavaScript's toPrecision rounds exact ties up, which
// would print 4.125MB as "4.13MB" where docker prints "4.12MB".

interface Digits {
  d: string; // significant digits, no leading or trailing zeros ("" for zero)
  dp: number; // position of the decimal point relative to d
}

/** The exact decimal expansion of a finite, non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let s: string;
  let dp: number;
  if (exp >= 0) {
    s = (mant << BigInt(exp)).toString();
    dp = s.length;
  } else {
    // mant / 2^k = mant * 5^k / 10^k
    const k = -exp;
    s = (mant * 5n ** BigInt(k)).toString();
    dp = s.length - k;
  }
  const lead = s.match(/^0*/)![0].length;
  s = s.slice(lead);
  dp -= lead;
  return { d: s.replace(/0+$/, ''), dp };
}

/** Rounds to nd significant digits, half to even (ties are exact here). */
function roundTo(v: Digits, nd: number): Digits {
  if (nd < 0) return { d: '', dp: 0 };
  if (v.d.length <= nd) return v;
  const rest = v.d.slice(nd);
  let up: boolean;
  if (rest[0] > '5') up = true;
  else if (rest[0] < '5') up = false;
  else if (/[1-9]/.test(rest.slice(1))) up = true;
  else up = nd > 0 && (Number(v.d[nd - 1]) % 2 === 1);
  let d = v.d.slice(0, nd);
  let dp = v.dp;
  if (up) {
    const arr = d.split('').map(Number);
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === 9) {
      arr[i] = 0;
      i--;
    }
    if (i < 0) {
      arr.unshift(1);
      arr.pop();
      dp++;
    } else arr[i]++;
    d = arr.join('');
  }
  return { d: d.replace(/0+$/, ''), dp };
}

/** The shortest digits that read back as x (JavaScript's own algorithm gives them). */
function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [m, e] = x.toExponential().split('e');
  const d = m.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(e) + 1 };
}

function digitAt(v: Digits, i: number): string {
  return i >= 0 && i < v.d.length ? v.d[i] : '0';
}

function fmtE(v: Digits, prec: number, ch: 'e' | 'E'): string {
  let out = v.d.length ? v.d[0] : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(v, i);
  }
  const exp = v.d.length === 0 ? 0 : v.dp - 1;
  const abs = Math.abs(exp);
  return out + ch + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + abs;
}

function fmtF(v: Digits, prec: number): string {
  let out = '';
  if (v.dp > 0) {
    for (let i = 0; i < v.dp; i++) out += digitAt(v, i);
  } else out = '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) out += digitAt(v, v.dp + i);
  }
  return out;
}

/** strconv.FormatFloat(x, fmt, prec, 64); prec -1 means the shortest exact representation. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : '';
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let v: Digits;
  if (shortest) v = shortestDigits(ax);
  else {
    const exact = exactDigits(ax);
    if (fmt === 'e' || fmt === 'E') v = roundTo(exact, prec + 1);
    else if (fmt === 'f') v = roundTo(exact, exact.dp + prec);
    else v = roundTo(exact, prec === 0 ? 1 : prec);
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return sign + fmtE(v, shortest ? Math.max(v.d.length - 1, 0) : prec, fmt);
    case 'f':
      return sign + fmtF(v, shortest ? Math.max(v.d.length - v.dp, 0) : prec);
    default: {
      let p = shortest ? v.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > v.d.length && v.d.length >= v.dp) eprec = v.d.length;
      if (shortest) eprec = 6;
      const exp = v.dp - 1;
      if (v.d.length !== 0 && (exp < -4 || exp >= eprec)) {
        if (p > v.d.length) p = v.d.length;
        return sign + fmtE(v, Math.max(p - 1, 0), fmt === 'G' ? 'E' : 'e');
      }
      if (p > v.dp) p = v.d.length;
      return sign + fmtF(v, Math.max(p - v.dp, 0));
    }
  }
}
