// Go's text/template, as the docker CLI uses it for --format: fields and methods (.A.B,
// .Label "k"), variables, pipelines, if/else/range/with/define/template/block, the builtin
// functions (and or not len index slice print printf println eq ne lt le gt ge html js
// urlquery) and docker's own (json split join title lower upper pad truncate).
import { argText, parseTemplate, type Arg, type Command, type Node, type ParsedTemplate, type Pipe } from './template-parse.ts';
import { TemplateSyntaxError } from './template-lex.ts';
import { FIELD_NAME, formatValue, goJson, goTypeName, GO_NIL, isGoStruct, printValue, sprint, sprintf, sprintln } from './gofmt.ts';

export { TemplateSyntaxError } from './template-lex.ts';

export class TemplateExecError extends Error {
  /** What the template wrote before it failed (docker prints table headers up to there). */
  partial = '';
}

export type TemplateFunc = (...args: unknown[]) => unknown;

class BreakSignal {}
class ContinueSignal {}

const BUILTIN_NAMES = ['and', 'or', 'not', 'len', 'index', 'slice', 'print', 'printf', 'println', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'html', 'js', 'urlquery', 'call'];

function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === GO_NIL) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isGoStruct(v)) return true;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function basicKind(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v;
  if (v === undefined || v === null || v === GO_NIL) return 'nil';
  return 'other';
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new Error('missing argument for comparison');
  for (const b of rest) {
    const ka = basicKind(a);
    const kb = basicKind(b);
    if (ka === 'nil' || kb === 'nil') {
      if (ka === kb) return true;
      if (ka !== 'other' && kb !== 'other') throw new Error('incompatible types for comparison');
      continue;
    }
    if (ka === 'other' || kb === 'other') throw new Error('invalid type for comparison');
    if (ka !== kb) throw new Error('incompatible types for comparison');
    // eslint-disable-next-line eqeqeq
    if (a == b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'other' || ka === 'nil' || ka === 'boolean') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object' && !isGoStruct(v)) return Object.keys(v).length;
  throw new Error(`len of type ${goTypeName(v)}`);
}

function indexValue(item: unknown, ...indexes: unknown[]): unknown {
  let v = item;
  for (const ix of indexes) {
    if (v === undefined || v === null) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof ix !== 'number' || !Number.isInteger(ix)) throw new Error(`cannot index slice/array with type ${goTypeName(ix)}`);
      if (ix < 0 || ix >= v.length) throw new Error(`index out of range: ${ix}`);
      v = typeof v === 'string' ? Buffer.from(v)[ix] : v[ix];
    } else if (typeof v === 'object' && !isGoStruct(v)) {
      if (typeof ix !== 'string') throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      const m = v as Record<string, unknown>;
      v = Object.prototype.hasOwnProperty.call(m, ix) ? m[ix] : undefined;
    } else throw new Error(`can't index item of type ${goTypeName(v)}`);
  }
  return v;
}

function sliceValue(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  if (idx.length > 3) throw new Error(`too many slice indexes: ${idx.length}`);
  const n = item.length;
  const nums = idx.map((x) => {
    if (typeof x !== 'number' || !Number.isInteger(x)) throw new Error(`cannot index slice/array with type ${goTypeName(x)}`);
    return x;
  });
  const start = nums[0] ?? 0;
  const end = nums[1] ?? n;
  if (start < 0 || end > n || start > end) throw new Error(`index out of range: ${start}`);
  return item.slice(start, end);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function jsEscape(s: string): string {
  return s.replace(/[\\'"<>&=\n\r\t]|[\x00-\x1f]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case "'": return "\\'";
      case '"': return '\\"';
      case '<': return '\\u003C';
      case '>': return '\\u003E';
      case '&': return '\\u0026';
      case '=': return '\\u003D';
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    }
  });
}

function queryEscape(s: string): string {
  return Array.from(Buffer.from(s)).map((b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === ' ') return '+';
    return '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }).join('');
}

function evalArgsText(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

const BUILTINS: Record<string, TemplateFunc> = {
  not: (a) => !truth(a),
  len: (a) => length(a),
  index: (item, ...ix) => indexValue(item, ...ix),
  slice: (item, ...ix) => sliceValue(item, ...ix),
  print: (...a) => sprint(a),
  printf: (f, ...a) => {
    if (typeof f !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(f)}`);
    return sprintf(f, a);
  },
  println: (...a) => sprintln(a),
  eq: (a, ...b) => eq(a, ...b),
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => lt(a, b),
  le: (a, b) => lt(a, b) || eq(a, b),
  gt: (a, b) => !lt(a, b) && !eq(a, b),
  ge: (a, b) => !lt(a, b),
  html: (...a) => htmlEscape(evalArgsText(a)),
  js: (...a) => jsEscape(evalArgsText(a)),
  urlquery: (...a) => queryEscape(evalArgsText(a)),
  call: (fn, ...a) => {
    if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
    return (fn as TemplateFunc)(...a);
  },
};

function needString(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(v)}`);
  return v;
}

function needStrings(v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`wrong type for value; expected []string; got ${goTypeName(v)}`);
  return v as string[];
}

function needInt(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`wrong type for value; expected int; got ${goTypeName(v)}`);
  return v;
}

/** Go's deprecated strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** Docker's template functions (templates.basicFunctions). */
export const BASIC_FUNCTIONS: Record<string, TemplateFunc> = {
  json: (v) => goJson(v),
  split: (s, sep) => {
    const str = needString(s);
    const d = needString(sep);
    return d === '' ? Array.from(str) : str.split(d);
  },
  join: (a, sep) => needStrings(a).join(needString(sep)),
  title: (s) => title(needString(s)),
  lower: (s) => needString(s).toLowerCase(),
  upper: (s) => needString(s).toUpperCase(),
  pad: (s, prefix, suffix) => {
    const str = needString(s);
    return str === '' ? str : ' '.repeat(needInt(prefix)) + str + ' '.repeat(needInt(suffix));
  },
  truncate: (s, n) => {
    const str = needString(s);
    const len = needInt(n);
    const bytes = Buffer.from(str);
    return bytes.length < len ? str : bytes.subarray(0, len).toString();
  },
};

/** The functions docker swaps in when rendering table headers: they pass the header through. */
export const HEADER_FUNCTIONS: Record<string, TemplateFunc> = {
  json: (v) => needString(v),
  split: (v) => needString(v),
  join: (v) => needString(v),
  title: (v) => needString(v),
  lower: (v) => needString(v),
  upper: (v) => needString(v),
  truncate: (v) => needString(v),
};

export interface TemplateOptions {
  name?: string;
  funcs?: Record<string, TemplateFunc>;
  /** 'error' makes a missing map key an error (docker's inspect fallback); default prints "<no value>". */
  missingKey?: 'invalid' | 'error';
  /** Print JSON nulls as "<nil>" (docker's typed inspect structs), not "<no value>". */
  nullIsNil?: boolean;
}

interface Frame {
  name: string;
  value: unknown;
}

class ExecState {
  out = '';
  vars: Frame[] = [];
  private readonly tmpl: Template;
  private readonly funcs: Record<string, TemplateFunc>;
  private readonly missingKey: 'invalid' | 'error';
  private depth = 0;
  private node = '';
  private nodePos = 0;

  private readonly nullIsNil: boolean;

  constructor(tmpl: Template, funcs: Record<string, TemplateFunc>, missingKey: 'invalid' | 'error', nullIsNil: boolean) {
    this.tmpl = tmpl;
    this.funcs = funcs;
    this.missingKey = missingKey;
    this.nullIsNil = nullIsNil;
  }

  private at(text: string, pos: number): void {
    this.node = text;
    this.nodePos = pos;
  }

  fail(msg: string): never {
    const src = this.tmpl.source.slice(0, this.nodePos);
    const nl = src.lastIndexOf('\n');
    const line = (src.match(/\n/g) ?? []).length + 1;
    const col = nl < 0 ? this.nodePos : this.nodePos - nl - 1;
    const name = this.tmpl.name;
    const loc = this.node ? `template: ${name}:${line}:${col}: executing "${name}" at <${this.node}>: ` : `template: ${name}: `;
    throw new TemplateExecError(loc + msg);
  }

  walk(dot: unknown, nodes: Node[]): void {
    for (const n of nodes) this.walkNode(dot, n);
  }

  private walkNode(dot: unknown, n: Node): void {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out += this.printable(v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (truth(v)) this.walk(n.kind === 'with' ? v : dot, n.list);
        else if (n.elseList) this.walk(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, n);
        return;
      case 'template': {
        const body = this.tmpl.defines.get(n.name);
        if (!body) {
          this.at(`template ${JSON.stringify(n.name)}`, n.pos);
          this.fail(`template: no template ${JSON.stringify(n.name)} associated with template ${JSON.stringify(this.tmpl.name)}`);
        }
        if (++this.depth > 10000) this.fail('exceeded maximum template depth (100000)');
        const newDot = n.pipe ? this.evalPipeline(dot, n.pipe) : undefined;
        const saved = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        this.walk(newDot, body);
        this.vars = saved;
        this.depth--;
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkRange(dot: unknown, n: Extract<Node, { kind: 'if' | 'with' | 'range' }>): void {
    const mark = this.vars.length;
    const pipe = n.pipe;
    const v = this.evalPipeline(dot, { ...pipe, decl: [] });
    const oneIteration = (key: unknown, elem: unknown): boolean => {
      if (pipe.decl.length === 1) this.setVar(pipe.decl[0], elem, pipe.isAssign, mark);
      else if (pipe.decl.length === 2) {
        this.setVar(pipe.decl[0], key, pipe.isAssign, mark);
        this.setVar(pipe.decl[1], elem, pipe.isAssign, mark);
      }
      try {
        this.walk(elem, n.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        if (!pipe.isAssign) this.vars.length = mark + pipe.decl.length;
      }
      return true;
    };
    let iterated = false;
    if (!pipe.isAssign) for (const d of pipe.decl) this.vars.push({ name: d, value: undefined });
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        iterated = true;
        if (!oneIteration(i, v[i])) break;
      }
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      for (let i = 0; i < v; i++) {
        iterated = true;
        if (!oneIteration(i, i)) break;
      }
    } else if (v && typeof v === 'object' && !isGoStruct(v)) {
      const m = v as Record<string, unknown>;
      for (const k of Object.keys(m).sort()) {
        iterated = true;
        if (!oneIteration(k, m[k])) break;
      }
    } else if (v !== undefined && v !== null && v !== GO_NIL) {
      const last = pipe.cmds[pipe.cmds.length - 1].args[0];
      this.at(argText(last), last.pos);
      this.fail(`range can't iterate over ${formatValue(v)}`);
    }
    this.vars.length = mark;
    if (!iterated && n.elseList) this.walk(dot, n.elseList);
  }

  private setVar(name: string, value: unknown, assign: boolean, mark: number): void {
    if (!assign) {
      for (let i = this.vars.length - 1; i >= mark; i--) {
        if (this.vars[i].name === name) {
          this.vars[i].value = value;
          return;
        }
      }
      this.vars.push({ name, value });
      return;
    }
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private printable(v: unknown): string {
    if (typeof v === 'function') this.fail(`can't print value of type func`);
    return printValue(v, this.nullIsNil);
  }

  evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d, value, true, 0);
      else this.vars.push({ name: d, value });
    }
    return value === NO_FINAL ? undefined : value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0];
    const rest = cmd.args.slice(1);
    this.at(argText(first), first.pos);
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first.idents, rest, final, argText(first), first.pos);
      case 'chain': {
        const base = this.evalArg(dot, first.node);
        this.at(argText(first), first.pos);
        return this.evalFieldChain(dot, base, first.idents, rest, final, argText(first), first.pos);
      }
      case 'variable': {
        const base = this.lookupVar(first.name);
        if (first.idents.length === 0) {
          this.notAFunction(rest, final, first);
          return base;
        }
        return this.evalFieldChain(dot, base, first.idents, rest, final, argText(first), first.pos);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, rest, final, first.pos);
      case 'pipe':
        this.notAFunction(rest, final, first);
        return this.evalPipeline(dot, first.pipe);
    }
    this.notAFunction(rest, final, first);
    switch (first.kind) {
      case 'bool':
      case 'string':
      case 'number':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail('nil is not a command');
    }
  }

  private notAFunction(args: Arg[], final: unknown, first: Arg): void {
    if (args.length > 0 || final !== NO_FINAL) this.fail(`can't give argument to non-function ${argText(first)}`);
  }

  private lookupVar(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.fail(`undefined variable: ${name}`);
  }

  evalArg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
      case 'string':
      case 'number':
        return a.value;
      case 'field':
        return this.evalFieldChain(dot, dot, a.idents, [], NO_FINAL, argText(a), a.pos);
      case 'variable': {
        const base = this.lookupVar(a.name);
        return a.idents.length ? this.evalFieldChain(dot, base, a.idents, [], NO_FINAL, argText(a), a.pos) : base;
      }
      case 'chain':
        return this.evalFieldChain(dot, this.evalArg(dot, a.node), a.idents, [], NO_FINAL, argText(a), a.pos);
      case 'pipe':
        return this.evalPipeline(dot, a.pipe);
      case 'identifier':
        return this.evalFunction(dot, a.name, [], NO_FINAL, a.pos);
    }
  }

  private evalFieldChain(dot: unknown, receiver: unknown, idents: string[], args: Arg[], final: unknown, text: string, pos: number): unknown {
    let v = receiver;
    for (let i = 0; i < idents.length - 1; i++) v = this.evalField(dot, idents[i], [], NO_FINAL, v, text, pos);
    return this.evalField(dot, idents[idents.length - 1], args, final, v, text, pos);
  }

  private evalField(dot: unknown, name: string, args: Arg[], final: unknown, receiver: unknown, text: string, pos: number): unknown {
    this.at(text, pos);
    const hasArgs = args.length > 0 || final !== NO_FINAL;
    if (receiver === undefined || receiver === null) {
      if (this.missingKey === 'error') this.fail(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === GO_NIL) this.fail(`nil pointer evaluating interface {}.${name}`);
    if (isGoStruct(receiver)) {
      const m = receiver.member(name);
      if (!m) this.fail(`can't evaluate field ${name} in type ${receiver.goType}`);
      if ('call' in m) {
        const argv = args.map((a) => this.evalArg(dot, a));
        if (final !== NO_FINAL) argv.push(final);
        this.at(text, pos);
        try {
          return m.call(...argv);
        } catch (e) {
          if (e instanceof TemplateExecError) throw e;
          this.fail(`error calling ${name}: ${(e as Error).message}`);
        }
      }
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return m.value;
    }
    if (typeof receiver === 'object' && !Array.isArray(receiver)) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      const map = receiver as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(map, name)) {
        const v = map[name];
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) FIELD_NAME.set(v, name);
        return v;
      }
      if (this.missingKey === 'error') this.fail(`map has no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private evalFunction(dot: unknown, name: string, args: Arg[], final: unknown, pos: number): unknown {
    this.at(name, pos);
    if (name === 'and' || name === 'or') {
      // Short-circuit: arguments are evaluated only as far as needed.
      const all: Array<() => unknown> = args.map((a) => () => this.evalArg(dot, a));
      if (final !== NO_FINAL) all.push(() => final);
      if (all.length === 0) this.fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const get of all) {
        v = get();
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const fn = this.funcs[name];
    if (!fn) this.fail(`${JSON.stringify(name)} is not a defined function`);
    const argv = args.map((a) => this.evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    this.at(name, pos);
    try {
      return fn(...argv);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      this.fail(`error calling ${name}: ${(e as Error).message}`);
    }
  }
}

const NO_FINAL = Symbol('no-final');

export class Template {
  readonly name: string;
  readonly source: string;
  readonly defines: Map<string, Node[]>;
  private readonly root: Node[];
  private funcs: Record<string, TemplateFunc>;
  private missingKey: 'invalid' | 'error';
  private nullIsNil = false;

  private constructor(parsed: ParsedTemplate, funcs: Record<string, TemplateFunc>, missingKey: 'invalid' | 'error') {
    this.name = parsed.name;
    this.source = parsed.source;
    this.root = parsed.root;
    this.defines = parsed.defines;
    this.funcs = funcs;
    this.missingKey = missingKey;
  }

  /** Parses a template; throws TemplateSyntaxError with Go's message on bad syntax. */
  static parse(source: string, opts: TemplateOptions = {}): Template {
    const funcs = { ...BUILTINS, ...BASIC_FUNCTIONS, ...opts.funcs };
    const names = new Set([...BUILTIN_NAMES, ...Object.keys(funcs)]);
    const parsed = parseTemplate(opts.name ?? '', source, names);
    return new Template(parsed, funcs, opts.missingKey ?? 'invalid');
  }

  /** A copy that resolves some functions differently (docker's header rendering). */
  withFuncs(funcs: Record<string, TemplateFunc>): Template {
    const t = Object.create(Template.prototype) as Template;
    Object.assign(t, this);
    t.funcs = { ...this.funcs, ...funcs };
    return t;
  }

  /** docker's inspect semantics: missing keys are errors, JSON nulls print "<nil>". */
  forInspect(): Template {
    const t = Object.create(Template.prototype) as Template;
    Object.assign(t, this);
    t.missingKey = 'error';
    t.nullIsNil = true;
    return t;
  }

  execute(data: unknown): string {
    const st = new ExecState(this, this.funcs, this.missingKey, this.nullIsNil);
    st.vars.push({ name: '$', value: data });
    try {
      st.walk(data, this.root);
    } catch (e) {
      if (e instanceof TemplateExecError) {
        e.partial = st.out;
        throw e;
      }
      if (e instanceof BreakSignal || e instanceof ContinueSignal) throw new TemplateExecError('break or continue outside range');
      throw e;
    }
    return st.out;
  }
}

/** Docker's templates.Parse: Go's template with docker's functions; name "". */
export function parseFormat(format: string): Template {
  return Template.parse(format);
}

export function isTemplateError(e: unknown): e is TemplateSyntaxError | TemplateExecError {
  return e instanceof TemplateSyntaxError || e instanceof TemplateExecError;
}
