// How Go's fmt prints the values a template produces (%v of strings, numbers, slices, maps),
// its Printf verbs, and encoding/json's output, for the values the CLI formats: plain JSON
// data (Go's map[string]interface{}), and formatter contexts (Go structs with methods).
import { formatFloat } from './go-float.ts';

/** A Go nil pointer: prints "<nil>" (a missing map entry prints "<no value>" instead). */
export const GO_NIL = Symbol('go-nil');

/** A value that templates see as a Go struct: fields and methods by name, nothing else. */
export interface GoStruct {
  readonly goType: string; // "*formatter.ContainerContext", for error messages
  /** Field or method by name; undefined when the type has no such member. */
  member(name: string): { call: (...args: unknown[]) => unknown } | { value: unknown } | undefined;
  /** The JSON object `{{json .}}` prints. */
  toJSON(): unknown;
  /** toJSON's keys are a Go struct's fields, printed in their order (not sorted as a formatter context's map). */
  readonly jsonFieldOrder?: boolean;
  /** %v of the struct. */
  goString?(): string;
}

export function isGoStruct(v: unknown): v is GoStruct {
  return typeof v === 'object' && v !== null && typeof (v as GoStruct).member === 'function' && typeof (v as GoStruct).goType === 'string';
}

/** Integers keep their integer form whatever their size; other numbers print as Go's %v. */
export function formatNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : BigInt(n).toString();
  return formatFloat(n, 'g', -1);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isGoStruct(v) && !Buffer.isBuffer(v);
}

/** fmt's %v. */
export function formatValue(v: unknown, nested = false): string {
  if (v === undefined) return nested ? '<nil>' : '<no value>';
  if (v === null || v === GO_NIL) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => formatValue(x, true)).join(' ') + ']';
  if (isGoStruct(v)) return v.goString ? v.goString() : formatValue(v.toJSON(), nested);
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return 'map[' + keys.map((k) => `${k}:${formatValue(v[k], true)}`).join(' ') + ']';
  }
  return String(v);
}

/**
 * The top-level print of a template action: a JSON null from a map prints "<no value>";
 * `nullIsNil` prints it "<nil>" instead, as a nil pointer of docker's typed inspect structs.
 */
export function printValue(v: unknown, nullIsNil = false): string {
  if (v === undefined) return '<no value>';
  if (v === null) return nullIsNil ? '<nil>' : '<no value>';
  return formatValue(v);
}

/** Names of the fields the API defines as maps (their keys print sorted, as Go's maps do). */
export const MAP_FIELDS = new Set([
  'Labels', 'Volumes', 'ExposedPorts', 'PortBindings', 'Ports', 'Networks', 'DriverOpts', 'Tmpfs', 'Sysctls', 'StorageOpt',
  'Annotations', 'Data', 'Options', 'Runtimes', 'IndexConfigs', 'Details', 'Secrets', 'Configs',
]);

/** The field name a map value was read from (set by the template engine). */
export const FIELD_NAME = new WeakMap<object, string>();

function escapeJsonString(s: string, escapeHTML: boolean): string {
  let out = JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
  if (escapeHTML) out = out.replace(/[<>&]/g, (c) => '\\u00' + c.charCodeAt(0).toString(16));
  return out;
}

/**
 * encoding/json's output. Plain objects keep their key order (the order the daemon sent,
 * which is its struct order); `sortKeys` orders them as Go orders the keys of a map.
 */
export function goJson(v: unknown, escapeHTML = false, sortKeys = false, fieldName?: string): string {
  if (v === undefined || v === null || v === GO_NIL) return 'null';
  if (typeof v === 'string') return escapeJsonString(v, escapeHTML);
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) && Math.abs(v) >= 1e21 ? formatFloat(v, 'e', -1).replace(/e([+-])0?(\d)/, 'e$1$2') : JSON.stringify(v)) : 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map((x) => goJson(x, escapeHTML, sortKeys)).join(',') + ']';
  if (isGoStruct(v)) return goJson(v.toJSON(), true, !v.jsonFieldOrder);
  if (isMap(v)) {
    const name = fieldName ?? FIELD_NAME.get(v);
    const isGoMap = sortKeys || (name !== undefined && MAP_FIELDS.has(name));
    const keys = isGoMap ? Object.keys(v).sort() : Object.keys(v);
    return '{' + keys.filter((k) => v[k] !== undefined).map((k) => escapeJsonString(k, escapeHTML) + ':' + goJson(v[k], escapeHTML, sortKeys, isGoMap ? '' : k)).join(',') + '}';
  }
  return 'null';
}

/** Go's json.MarshalIndent(v, "", indent) of already-decoded JSON data. */
export function goJsonIndent(v: unknown, indent: string, level = 0): string {
  const pad = indent.repeat(level + 1);
  const end = indent.repeat(level);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => pad + goJsonIndent(x, indent, level + 1)).join(',\n') + '\n' + end + ']';
  }
  if (isMap(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    if (keys.length === 0) return '{}';
    return '{\n' + keys.map((k) => pad + escapeJsonString(k, true) + ': ' + goJsonIndent(v[k], indent, level + 1)).join(',\n') + '\n' + end + '}';
  }
  return goJson(v, true);
}

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\n': out += '\\n'; continue;
      case '\t': out += '\\t'; continue;
      case '\r': out += '\\r'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if (/\p{C}/u.test(ch) && cp >= 0x80) out += cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function pad(s: string, width: number | undefined, minus: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (minus) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = /^[+-]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(width - s.length) + s.slice(sign.length);
  }
  return ' '.repeat(width - s.length) + s;
}

function badVerb(verb: string, arg: unknown): string {
  return `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
}

export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isGoStruct(v)) return v.goType;
  return 'map[string]interface {}';
}

/** fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %o %b %c %f %e %g %t %T %%. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    let j = i + 1;
    let minus = false, plus = false, zero = false, space = false, sharp = false;
    for (; j < format.length; j++) {
      const f = format[j];
      if (f === '-') minus = true;
      else if (f === '+') plus = true;
      else if (f === '0') zero = true;
      else if (f === ' ') space = true;
      else if (f === '#') sharp = true;
      else break;
    }
    let width: number | undefined;
    let prec: number | undefined;
    if (format[j] === '*') {
      width = Number(args[argi++]);
      j++;
    } else {
      const m = /^\d+/.exec(format.slice(j));
      if (m) {
        width = Number(m[0]);
        j += m[0].length;
      }
    }
    if (format[j] === '.') {
      j++;
      if (format[j] === '*') {
        prec = Number(args[argi++]);
        j++;
      } else {
        const m = /^\d*/.exec(format.slice(j))!;
        prec = m[0] ? Number(m[0]) : 0;
        j += m[0].length;
      }
    }
    const verb = format[j];
    i = j;
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    let s: string;
    switch (verb) {
      case 'v':
        s = sharp && typeof arg === 'string' ? goQuote(arg) : formatValue(arg);
        if (plus && typeof arg === 'number' && arg >= 0) s = '+' + s;
        break;
      case 's':
        s = typeof arg === 'string' || Array.isArray(arg) || typeof arg === 'object' ? formatValue(arg) : badVerb(verb, arg);
        if (prec !== undefined && typeof arg === 'string') s = Array.from(s).slice(0, prec).join('');
        break;
      case 'q':
        if (typeof arg === 'string') s = goQuote(arg);
        else if (typeof arg === 'number' && Number.isInteger(arg)) s = "'" + String.fromCodePoint(arg) + "'";
        else if (Array.isArray(arg)) s = '[' + arg.map((x) => (typeof x === 'string' ? goQuote(x) : formatValue(x))).join(' ') + ']';
        else s = badVerb(verb, arg);
        break;
      case 'd':
        if (typeof arg === 'number' && Number.isInteger(arg)) {
          s = formatNumber(Math.abs(arg));
          if (prec !== undefined) s = s.padStart(prec, '0');
          s = (arg < 0 ? '-' : plus ? '+' : space ? ' ' : '') + s;
        } else if (Array.isArray(arg)) s = '[' + arg.map((x) => sprintf('%d', [x])).join(' ') + ']';
        else s = badVerb(verb, arg);
        break;
      case 'x':
      case 'X':
      case 'o':
      case 'b':
        if (typeof arg === 'number' && Number.isInteger(arg)) {
          const base = verb === 'o' ? 8 : verb === 'b' ? 2 : 16;
          s = Math.abs(arg).toString(base);
          if (verb === 'X') s = s.toUpperCase();
          if (sharp) s = (verb === 'o' ? '0' : verb === 'b' ? '0b' : verb === 'x' ? '0x' : '0X') + s;
          if (arg < 0) s = '-' + s;
        } else if (typeof arg === 'string' && (verb === 'x' || verb === 'X')) {
          s = Buffer.from(arg).toString('hex');
          if (verb === 'X') s = s.toUpperCase();
        } else s = badVerb(verb, arg);
        break;
      case 'c':
        s = typeof arg === 'number' ? String.fromCodePoint(arg) : badVerb(verb, arg);
        break;
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
        if (typeof arg === 'number') {
          const fv = verb === 'F' ? 'f' : verb;
          s = formatFloat(arg, fv as 'f' | 'e' | 'E' | 'g' | 'G', prec ?? (fv === 'g' || fv === 'G' ? -1 : 6));
          if (plus && arg >= 0) s = '+' + s;
          else if (space && arg >= 0) s = ' ' + s;
        } else s = badVerb(verb, arg);
        break;
      case 't':
        s = typeof arg === 'boolean' ? String(arg) : badVerb(verb, arg);
        break;
      case 'T':
        s = goTypeName(arg);
        break;
      default:
        s = `%!${verb}(${goTypeName(arg)}=${formatValue(arg)})`;
    }
    out += pad(s, width, minus, zero && !minus && verb !== 's' && verb !== 'v' && verb !== 'q');
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${goTypeName(a)}=${formatValue(a)}`).join(', ') + ')';
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

export function sprintln(args: unknown[]): string {
  return args.map((a) => formatValue(a)).join(' ') + '\n';
}
