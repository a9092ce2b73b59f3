// Command-line flags parsed the way docker's (spf13/pflag) parser does it: --name=value,
// --name value, -n value, -nvalue, -n=value, combined booleans (-it), "--" ending the flags,
// and (for run/create/exec) no flags after the first argument. Error texts are pflag's.
import { parseGoDuration } from './opts/duration.ts';

export class FlagError extends Error {}
/** --help (or -h where it is not another flag) was given. */
export class HelpRequested extends Error {}

export interface Flag {
  readonly name: string;
  readonly short?: string;
  readonly usage: string;
  /** The type name shown in help ("string", "int", "list"...); "" for booleans. */
  readonly typeName: string;
  /** Default as pflag shows it in help; "" (or a zero value) shows none. */
  readonly defValue: string;
  readonly isBool: boolean;
  hidden?: boolean;
  deprecated?: string;
  /** Only for daemons on this OS (help hides it for others, as docker does). */
  osType?: string;
  /** Only for daemons with experimental features. */
  experimental?: boolean;
  changed: boolean;
  set(value: string): void;
}

/** strconv.ParseBool */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/** strconv.ParseInt(s, 0, bits) */
export function parseGoInt(s: string, bits = 64, fn = 'ParseInt'): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[1-9][0-9_]*|0)$/.exec(s);
  if (!m || /__|_$|^[+-]?_/.test(s)) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  const body = m[2].replace(/_/g, '');
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt('0o' + body.slice(2));
  else if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (m[1] === '-') v = -v;
  const max = fn === 'ParseUint' ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = fn === 'ParseUint' ? 0n : -(1n << BigInt(bits - 1));
  if (fn === 'ParseUint' && m[1] === '-') throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  if (v > max || v < min) throw new Error(`strconv.${fn}: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(v);
}

abstract class BaseFlag implements Flag {
  readonly name: string;
  readonly short?: string;
  readonly usage: string;
  abstract readonly typeName: string;
  abstract readonly isBool: boolean;
  hidden?: boolean;
  deprecated?: string;
  osType?: string;
  experimental?: boolean;
  changed = false;
  constructor(name: string, short: string | undefined, usage: string) {
    this.name = name;
    this.short = short;
    this.usage = usage;
  }
  abstract get defValue(): string;
  abstract set(value: string): void;
}

export class BoolFlag extends BaseFlag {
  value: boolean;
  readonly typeName = '';
  readonly isBool = true;
  private readonly def: boolean;
  constructor(name: string, short: string | undefined, def: boolean, usage: string) {
    super(name, short, usage);
    this.value = def;
    this.def = def;
  }
  get defValue() {
    return String(this.def);
  }
  set(v: string) {
    this.value = parseGoBool(v);
  }
}

export class StringFlag extends BaseFlag {
  value: string;
  readonly typeName: string;
  readonly isBool = false;
  private readonly def: string;
  constructor(name: string, short: string | undefined, def: string, usage: string, typeName = 'string') {
    super(name, short, usage);
    this.value = def;
    this.def = def;
    this.typeName = typeName;
  }
  get defValue() {
    return this.def;
  }
  set(v: string) {
    this.value = v;
  }
}

export class IntFlag extends BaseFlag {
  value: number;
  readonly typeName: string;
  readonly isBool = false;
  private readonly def: number;
  private readonly bits: number;
  private readonly unsigned: boolean;
  constructor(name: string, short: string | undefined, def: number, usage: string, typeName = 'int', bits = 64, unsigned = false) {
    super(name, short, usage);
    this.value = def;
    this.def = def;
    this.typeName = typeName;
    this.bits = bits;
    this.unsigned = unsigned;
  }
  get defValue() {
    return String(this.def);
  }
  set(v: string) {
    this.value = parseGoInt(v, this.bits, this.unsigned ? 'ParseUint' : 'ParseInt');
  }
}

export class DurationFlag extends BaseFlag {
  /** Nanoseconds. */
  value = 0;
  readonly typeName = 'duration';
  readonly isBool = false;
  get defValue() {
    return '0s';
  }
  set(v: string) {
    this.value = parseGoDuration(v);
  }
}

/** A repeatable flag; `validate` may rewrite each value or throw. */
export class ListFlag extends BaseFlag {
  values: string[] = [];
  readonly typeName: string;
  readonly isBool = false;
  private readonly validate?: (v: string) => string;
  private readonly shownDefault: string;
  constructor(name: string, short: string | undefined, usage: string, validate?: (v: string) => string, typeName = 'list', shownDefault = '') {
    super(name, short, usage);
    this.validate = validate;
    this.typeName = typeName;
    this.shownDefault = shownDefault;
  }
  get defValue() {
    return this.shownDefault;
  }
  set(v: string) {
    this.values.push(this.validate ? this.validate(v) : v);
  }
}

/** pflag's StringSlice: comma-separated values, CSV-quoted, accumulated. */
export class StringSliceFlag extends BaseFlag {
  values: string[] = [];
  readonly typeName = 'strings';
  readonly isBool = false;
  get defValue() {
    return '[]';
  }
  set(v: string) {
    if (v === '') return;
    this.values.push(...v.split(','));
  }
}

/** A flag with its own parser (filters, sizes, ulimits, mounts...). */
export class CustomFlag<T> extends BaseFlag {
  value: T;
  readonly typeName: string;
  readonly isBool = false;
  private readonly parse: (v: string, current: T) => T;
  private readonly shownDefault: string;
  constructor(name: string, short: string | undefined, usage: string, typeName: string, initial: T, parse: (v: string, current: T) => T, shownDefault = '') {
    super(name, short, usage);
    this.value = initial;
    this.typeName = typeName;
    this.parse = parse;
    this.shownDefault = shownDefault;
  }
  get defValue() {
    return this.shownDefault;
  }
  set(v: string) {
    this.value = this.parse(v, this.value);
  }
}

export class FlagSet {
  readonly flags: Flag[] = [];
  interspersed = true;
  /** Whether -h may mean --help (false where -h is --hostname). */
  helpShorthand = true;

  add<F extends Flag>(f: F): F {
    this.flags.push(f);
    return f;
  }

  bool(name: string, short: string | undefined, def: boolean, usage: string): BoolFlag {
    return this.add(new BoolFlag(name, short, def, usage));
  }

  string(name: string, short: string | undefined, def: string, usage: string): StringFlag {
    return this.add(new StringFlag(name, short, def, usage));
  }

  int(name: string, short: string | undefined, def: number, usage: string, typeName = 'int'): IntFlag {
    return this.add(new IntFlag(name, short, def, usage, typeName));
  }

  list(name: string, short: string | undefined, usage: string, validate?: (v: string) => string): ListFlag {
    return this.add(new ListFlag(name, short, usage, validate));
  }

  /** A second name for an existing flag's value (--net for --network). */
  alias(name: string, target: Flag, hidden = true): void {
    const a = Object.create(target) as Flag & { name: string };
    Object.defineProperty(a, 'name', { value: name });
    Object.defineProperty(a, 'short', { value: undefined });
    Object.defineProperty(a, 'hidden', { value: hidden, writable: true });
    Object.defineProperty(a, 'changed', {
      get: () => target.changed,
      set: (v: boolean) => (target.changed = v),
    });
    a.set = (v: string) => target.set(v);
    this.flags.push(a);
  }

  lookup(name: string): Flag | undefined {
    return this.flags.find((f) => f.name === name);
  }

  changed(name: string): boolean {
    return this.lookup(name)?.changed ?? false;
  }

  private setFlag(f: Flag, value: string, warn: (msg: string) => void): void {
    try {
      f.set(value);
    } catch (e) {
      const fname = f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
      throw new FlagError(`invalid argument ${goQuoteStr(value)} for ${goQuoteStr(fname)} flag: ${(e as Error).message}`);
    }
    f.changed = true;
    if (f.deprecated) warn(`Flag --${f.name} has been deprecated, ${f.deprecated}\n`);
  }

  /** Parses args; returns the positional arguments. Throws FlagError or HelpRequested. */
  /** Deprecation notices go to stdout, as cobra routes pflag's output there. */
  parse(args: string[], warn: (msg: string) => void = (m) => process.stdout.write(m)): string[] {
    const positional: string[] = [];
    let helpRequested = false;
    let i = 0;
    while (i < args.length) {
      const s = args[i++];
      if (s.length < 2 || s[0] !== '-') {
        positional.push(s);
        if (!this.interspersed) {
          positional.push(...args.slice(i));
          break;
        }
        continue;
      }
      if (s === '--') {
        positional.push(...args.slice(i));
        break;
      }
      if (s[1] === '-') {
        const body = s.slice(2);
        if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${s}`);
        const eq = body.indexOf('=');
        const name = eq >= 0 ? body.slice(0, eq) : body;
        const f = this.lookup(name);
        if (!f) {
          if (name === 'help') {
            helpRequested = true;
            continue;
          }
          throw new FlagError(`unknown flag: --${name}`);
        }
        let value: string;
        if (eq >= 0) value = body.slice(eq + 1);
        else if (f.isBool) value = 'true';
        else if (i < args.length) value = args[i++];
        else throw new FlagError(`flag needs an argument: ${s}`);
        if (f.name === 'help' && f.isBool) {
          if (parseGoBool(value)) helpRequested = true;
          f.changed = true;
          continue;
        }
        this.setFlag(f, value, warn);
        continue;
      }
      // Shorthands: "-abc", "-nvalue", "-n=value", "-n value".
      let shorts = s.slice(1);
      while (shorts.length > 0) {
        const c = shorts[0];
        const f = this.flags.find((x) => x.short === c);
        if (!f) {
          if (c === 'h' && this.helpShorthand) {
            warn('Flag shorthand -h has been deprecated, use --help\n');
            helpRequested = true;
            shorts = shorts.slice(1);
            continue;
          }
          throw new FlagError(`unknown shorthand flag: '${c}' in -${shorts}`);
        }
        let value: string;
        if (shorts.length > 2 && shorts[1] === '=') {
          value = shorts.slice(2);
          shorts = '';
        } else if (f.isBool) {
          value = 'true';
          shorts = shorts.slice(1);
        } else if (shorts.length > 1) {
          value = shorts.slice(1);
          shorts = '';
        } else if (i < args.length) {
          value = args[i++];
          shorts = '';
        } else throw new FlagError(`flag needs an argument: '${c}' in -${shorts}`);
        this.setFlag(f, value, warn);
      }
    }
    if (helpRequested) throw new HelpRequested();
    return positional;
  }
}

/** Go's %q of a string (the forms flag errors need). */
export function goQuoteStr(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}
