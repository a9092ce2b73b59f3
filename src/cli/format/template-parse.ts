// The parser of Go's text/template: turns lexer tokens into a tree of text, actions and
// control structures (if, range, with, define/template/block), checking function names and
// variables as Go does at parse time.
import { lex, TemplateSyntaxError, unquoteGo, type Token } from './template-lex.ts';

export type Arg =
  | { kind: 'field'; pos: number; idents: string[] }
  | { kind: 'variable'; pos: number; name: string; idents: string[] }
  | { kind: 'chain'; pos: number; node: Arg; idents: string[] }
  | { kind: 'dot'; pos: number }
  | { kind: 'nil'; pos: number }
  | { kind: 'identifier'; pos: number; name: string }
  | { kind: 'string'; pos: number; value: string; text: string }
  | { kind: 'number'; pos: number; value: number; text: string; isInt: boolean }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'pipe'; pos: number; pipe: Pipe };

export interface Command {
  pos: number;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipe }
  | { kind: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { kind: 'template'; pos: number; name: string; pipe?: Pipe }
  | { kind: 'break' | 'continue'; pos: number };

export interface ParsedTemplate {
  name: string;
  source: string;
  root: Node[];
  defines: Map<string, Node[]>;
}

export function argText(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return '.' + a.idents.join('.');
    case 'variable':
      return [a.name, ...a.idents].join('.');
    case 'chain':
      return `${a.node.kind === 'pipe' ? '(' + argText(a.node) + ')' : argText(a.node)}.${a.idents.join('.')}`;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'identifier':
      return a.name;
    case 'string':
      return a.text;
    case 'number':
      return a.text;
    case 'bool':
      return String(a.value);
    case 'pipe':
      return pipeText(a.pipe);
  }
}

export function pipeText(p: Pipe): string {
  let s = p.decl.length ? p.decl.join(', ') + (p.isAssign ? ' = ' : ' := ') : '';
  s += p.cmds.map((c) => c.args.map((a) => (a.kind === 'pipe' ? `(${argText(a)})` : argText(a))).join(' ')).join(' | ');
  return s;
}

class Parser {
  private i = 0;
  private readonly tokens: Token[];
  private readonly name: string;
  private readonly funcs: ReadonlySet<string>;
  private vars: string[] = ['$'];
  readonly defines = new Map<string, Node[]>();

  constructor(name: string, tokens: Token[], funcs: ReadonlySet<string>) {
    this.name = name;
    this.tokens = tokens;
    this.funcs = funcs;
  }

  private fail(msg: string, tok?: Token): never {
    const t = tok ?? this.tokens[Math.min(this.i, this.tokens.length - 1)];
    throw new TemplateSyntaxError(`template: ${this.name}:${t.line}: ${msg}`);
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private expect(type: Token['type'], context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === 'eof') this.fail(`unexpected EOF`, t);
    const shown = t.type === 'rightDelim' ? '"}}"' : t.type === 'space' ? 'space' : JSON.stringify(t.val);
    this.fail(`unexpected ${shown} in ${context}`, t);
  }

  parse(): Node[] {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'eof') return list;
      const { node, end } = this.textOrAction();
      if (end) this.fail(`unexpected {{${end}}}`, t);
      if (node) list.push(node);
    }
  }

  /** Parses a list up to {{end}} or {{else}}; returns which one ended it. */
  private itemList(): { list: Node[]; end: 'end' | 'else' } {
    const list: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'eof') this.fail(`unexpected EOF`, t);
      const { node, end } = this.textOrAction();
      if (end) return { list, end };
      if (node) list.push(node);
    }
  }

  private textOrAction(): { node?: Node; end?: 'end' | 'else' } {
    const t = this.next();
    if (t.type === 'text') return { node: { kind: 'text', text: t.val } };
    if (t.type !== 'leftDelim') this.unexpected(t, 'input');
    return this.action();
  }

  private action(): { node?: Node; end?: 'end' | 'else' } {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.val) {
        case 'end':
          this.expect('rightDelim', 'end');
          return { end: 'end' };
        case 'else':
          // "else if" / "else with" chain: leave the keyword for the caller.
          return { end: 'else' };
        case 'if':
        case 'with':
        case 'range':
          return { node: this.control(t.val, t) };
        case 'break':
        case 'continue':
          this.expect('rightDelim', t.val);
          return { node: { kind: t.val, pos: t.pos } };
        case 'template':
          return { node: this.templateCall(t) };
        case 'define':
          this.defineOrBlock(t, false);
          return {};
        case 'block':
          return { node: this.defineOrBlock(t, true) };
      }
    }
    this.i--;
    return { node: { kind: 'action', pos: t.pos, pipe: this.pipeline('command', true) } };
  }

  private control(kind: 'if' | 'with' | 'range', tok: Token): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, true);
    if (pipe.cmds.length === 0) this.fail(`missing value for ${kind}`, tok);
    const { list, end } = this.itemList();
    let elseList: Node[] | undefined;
    if (end === 'else') {
      const nt = this.peekNonSpace();
      if ((kind === 'if' && nt.type === 'keyword' && nt.val === 'if') || (kind === 'with' && nt.type === 'keyword' && nt.val === 'with')) {
        // {{else if x}} is {{else}}{{if x}}...{{end}} sharing this if's {{end}}.
        const kw = this.nextNonSpace();
        elseList = [this.control(kind, kw)];
      } else {
        this.expect('rightDelim', 'else');
        const r = this.itemList();
        if (r.end !== 'end') this.fail(`expected end; found {{else}}`);
        elseList = r.list;
      }
    }
    this.vars.length = mark;
    return { kind, pos: tok.pos, pipe, list, elseList };
  }

  private templateCall(tok: Token): Node {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'template clause');
    const name = nameTok.type === 'string' ? unquoteGo(nameTok.val) : nameTok.val.slice(1, -1);
    let pipe: Pipe | undefined;
    if (this.peekNonSpace().type !== 'rightDelim') pipe = this.pipeline('template clause', false);
    else this.nextNonSpace();
    return { kind: 'template', pos: tok.pos, name, pipe };
  }

  private defineOrBlock(tok: Token, isBlock: boolean): Node | undefined {
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, `${tok.val} clause`);
    const name = nameTok.type === 'string' ? unquoteGo(nameTok.val) : nameTok.val.slice(1, -1);
    let pipe: Pipe | undefined;
    if (isBlock) pipe = this.pipeline('block clause', true);
    else this.expect('rightDelim', 'define clause');
    const saved = this.vars;
    this.vars = ['$'];
    const { list, end } = this.itemList();
    if (end !== 'end') this.fail(`unexpected {{else}} in ${tok.val}`);
    this.vars = saved;
    this.defines.set(name, list);
    return isBlock ? { kind: 'template', pos: tok.pos, name, pipe } : undefined;
  }

  /** Parses a pipeline up to the right delimiter (consumed) or, inside parens, the right paren. */
  private pipeline(context: string, endsAtDelim: boolean): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    // Declarations: $x := / $x = / $i, $e :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.type === 'variable') {
      const after = this.nextNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        pipe.decl.push(v.val);
        pipe.isAssign = after.type === 'assign';
        if (!pipe.isAssign) this.vars.push(v.val);
        else if (!this.vars.includes(v.val)) this.fail(`undefined variable "${v.val}"`, v);
      } else if (after.type === 'comma' && (context === 'range')) {
        const v2 = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (v2.type !== 'variable' || (op.type !== 'declare' && op.type !== 'assign')) this.fail(`range can only initialize variables`, v2);
        pipe.decl.push(v.val, v2.val);
        pipe.isAssign = op.type === 'assign';
        if (!pipe.isAssign) this.vars.push(v.val, v2.val);
      } else this.i = save;
    } else this.i = save;

    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === 'rightDelim' && endsAtDelim) {
        this.nextNonSpace();
        break;
      }
      if (t.type === 'rightParen' && !endsAtDelim) break;
      if (t.type === 'rightDelim' || t.type === 'rightParen' || t.type === 'eof') this.unexpected(t, context);
      pipe.cmds.push(this.command());
      const sep = this.peekNonSpace();
      if (sep.type === 'pipe') {
        this.nextNonSpace();
        const after = this.peekNonSpace();
        if (after.type === 'rightDelim' || after.type === 'rightParen') this.fail(`missing command`, after);
      }
    }
    if (pipe.cmds.length === 0 && pipe.decl.length) this.fail(`missing value for ${context}`, start);
    if (pipe.cmds.length === 0 && context === 'command') this.fail(`missing value for command`, start);
    // Only the first stage may be a literal: later ones receive the piped value.
    pipe.cmds.forEach((c, i) => {
      if (i === 0) return;
      const k = c.args[0].kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.fail(`non executable command in pipeline stage ${i + 1}`);
      }
    });
    return pipe;
  }

  private command(): Command {
    const cmd: Command = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === 'rightDelim' || t.type === 'rightParen' || t.type === 'pipe' || t.type === 'eof') break;
      this.skipSpace();
      cmd.args.push(this.operand());
      const nt = this.peek();
      if (nt.type === 'space') continue;
      if (nt.type === 'rightDelim' || nt.type === 'rightParen' || nt.type === 'pipe') break;
      this.unexpected(nt, 'operand');
    }
    if (cmd.args.length === 0) this.fail('empty command');
    return cmd;
  }

  private skipSpace(): void {
    while (this.peek().type === 'space') this.i++;
  }

  private operand(): Arg {
    const node = this.term();
    if (this.peek().type !== 'field') return node;
    const idents: string[] = [];
    // Go gives a chained node the position of its second element.
    const chainPos = this.peek().pos;
    while (this.peek().type === 'field') idents.push(this.next().val.slice(1));
    if (node.kind === 'field') return { kind: 'field', pos: chainPos, idents: [...node.idents, ...idents] };
    if (node.kind === 'variable') return { kind: 'variable', pos: chainPos, name: node.name, idents: [...node.idents, ...idents] };
    if (node.kind === 'bool' || node.kind === 'string' || node.kind === 'number' || node.kind === 'nil' || node.kind === 'dot') {
      this.fail(`unexpected . after term ${JSON.stringify(argText(node))}`);
    }
    return { kind: 'chain', pos: chainPos, node, idents };
  }

  private term(): Arg {
    const t = this.next();
    switch (t.type) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.fail(`function ${JSON.stringify(t.val)} not defined`, t);
        return { kind: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { kind: 'dot', pos: t.pos };
      case 'nil':
        return { kind: 'nil', pos: t.pos };
      case 'variable':
        if (!this.vars.includes(t.val)) this.fail(`undefined variable "${t.val}"`, t);
        return { kind: 'variable', pos: t.pos, name: t.val, idents: [] };
      case 'field':
        return { kind: 'field', pos: t.pos, idents: [t.val.slice(1)] };
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'char': {
        const ch = t.val === "'\\''" ? "'" : unquoteGo('"' + t.val.slice(1, -1).replace(/"/g, '\\"') + '"');
        const cp = ch.codePointAt(0) ?? 0;
        return { kind: 'number', pos: t.pos, value: cp, text: t.val, isInt: true };
      }
      case 'number':
        return this.number(t);
      case 'string':
        return { kind: 'string', pos: t.pos, value: unquoteGo(t.val), text: t.val };
      case 'rawString':
        return { kind: 'string', pos: t.pos, value: t.val.slice(1, -1), text: t.val };
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline', false);
        const close = this.nextNonSpace();
        if (close.type !== 'rightParen') this.unexpected(close, 'parenthesized pipeline');
        return { kind: 'pipe', pos: t.pos, pipe };
      }
      case 'keyword':
        this.fail(`unexpected <${t.val}> in command`, t);
        break;
    }
    this.unexpected(t, 'operand');
  }

  private number(t: Token): Arg {
    const text = t.val.replace(/_/g, '');
    let value: number;
    let isInt = false;
    if (/^[+-]?0[xX]/.test(text) || /^[+-]?0[bB]/.test(text) || /^[+-]?0[oO]/.test(text)) {
      const neg = text.startsWith('-');
      const body = text.replace(/^[+-]/, '');
      value = Number(body) * (neg ? -1 : 1);
      isInt = true;
    } else if (/^[+-]?0[0-7]+$/.test(text)) {
      value = parseInt(text, 8);
      isInt = true;
    } else {
      value = Number(text);
      isInt = /^[+-]?\d+$/.test(text);
    }
    if (Number.isNaN(value)) this.fail(`illegal number syntax: ${JSON.stringify(t.val)}`, t);
    return { kind: 'number', pos: t.pos, value, text: t.val, isInt };
  }
}

export function parseTemplate(name: string, source: string, funcs: ReadonlySet<string>): ParsedTemplate {
  const p = new Parser(name, lex(name, source), funcs);
  const root = p.parse();
  return { name, source, root, defines: p.defines };
}
