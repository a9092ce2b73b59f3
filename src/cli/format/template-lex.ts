// The lexer of Go's text/template: text outside {{ }}, and inside actions the words,
// literals and punctuation of the template language, with "{{- " and " -}}" trimming the
// white space of the neighbouring text.

export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'identifier' | 'field' | 'variable' | 'dot'
  | 'string' | 'rawString' | 'char' | 'number' | 'bool' | 'nil' | 'pipe' | 'leftParen'
  | 'rightParen' | 'declare' | 'assign' | 'comma' | 'keyword' | 'eof';

export interface Token {
  type: TokenType;
  val: string;
  pos: number; // offset in the template source
  line: number;
}

export class TemplateSyntaxError extends Error {}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const SPACE = new Set([' ', '\t', '\r', '\n']);
/** The one-character tokens that need nothing but their own token. */
const PUNCTUATION = new Map<string, TokenType>([['|', 'pipe'], [',', 'comma'], ['=', 'assign']]);

function isAlnum(ch: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(ch);
}

export function lex(name: string, src: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  const lineAt = (p: number) => {
    let n = 1;
    for (let i = 0; i < p && i < src.length; i++) if (src[i] === '\n') n++;
    return n;
  };
  const fail = (msg: string, p: number): never => {
    throw new TemplateSyntaxError(`template: ${name}:${lineAt(p)}: ${msg}`);
  };
  let trimNextText = false;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let textEnd = open < 0 ? src.length : open;
    let trimLeft = false;
    if (open >= 0 && src[open + 2] === '-' && SPACE.has(src[open + 3] ?? '')) trimLeft = true;
    let text = src.slice(pos, textEnd);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    trimNextText = false;
    if (text.length) tokens.push({ type: 'text', val: text, pos, line });
    line += (src.slice(pos, textEnd).match(/\n/g) ?? []).length;
    if (open < 0) {
      pos = src.length;
      break;
    }
    pos = open + 2 + (trimLeft ? 2 : 0);
    // Comments: {{/* ... */}}
    if (src.startsWith('/*', pos)) {
      const end = src.indexOf('*/', pos + 2);
      if (end < 0) fail('unclosed comment', pos);
      let after = end + 2;
      let trimRight = false;
      if (src.startsWith(' -}}', after) || src.startsWith('\t-}}', after) || src.startsWith('\n-}}', after) || src.startsWith('\r-}}', after)) {
        trimRight = true;
        after += 4;
      } else if (src.startsWith('}}', after)) after += 2;
      else fail('comment ends before closing delimiter', end);
      line += (src.slice(pos, after).match(/\n/g) ?? []).length;
      pos = after;
      trimNextText = trimRight;
      continue;
    }
    tokens.push({ type: 'leftDelim', val: '{{', pos: open, line });
    // Inside an action.
    let parenDepth = 0;
    for (;;) {
      if (pos >= src.length) fail('unclosed action', pos);
      // Right delimiter, optionally with trim marker.
      if (SPACE.has(src[pos]) && src.startsWith('-}}', pos + 1)) {
        // " -}}" only counts as a trim marker when preceded by space.
        tokens.push({ type: 'rightDelim', val: '}}', pos: pos + 2, line });
        line += src[pos] === '\n' ? 1 : 0;
        pos += 4;
        trimNextText = true;
        break;
      }
      if (src.startsWith('}}', pos)) {
        if (parenDepth > 0) fail('unclosed left paren', pos);
        tokens.push({ type: 'rightDelim', val: '}}', pos, line });
        pos += 2;
        break;
      }
      const ch = src[pos];
      if (SPACE.has(ch)) {
        const start = pos;
        while (pos < src.length && SPACE.has(src[pos])) pos++;
        // Leave the space of a " -}}" for the right-delimiter check.
        if (src.startsWith('-}}', pos)) pos--;
        line += (src.slice(start, pos).match(/\n/g) ?? []).length;
        if (pos > start) tokens.push({ type: 'space', val: src.slice(start, pos), pos: start, line });
        continue;
      }
      const punctuation = PUNCTUATION.get(ch);
      if (punctuation) {
        tokens.push({ type: punctuation, val: ch, pos, line });
        pos++;
        continue;
      }
      if (ch === '(') {
        parenDepth++;
        tokens.push({ type: 'leftParen', val: '(', pos, line });
        pos++;
        continue;
      }
      if (ch === ')') {
        parenDepth--;
        if (parenDepth < 0) fail(`unexpected right paren`, pos);
        tokens.push({ type: 'rightParen', val: ')', pos, line });
        pos++;
        continue;
      }
      if (ch === ':') {
        if (src[pos + 1] !== '=') fail('expected :=', pos);
        tokens.push({ type: 'declare', val: ':=', pos, line });
        pos += 2;
        continue;
      }
      if (ch === '"') {
        let i = pos + 1;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === '\\') i++;
          if (src[i] === '\n') fail('unterminated quoted string', pos);
          i++;
        }
        if (i >= src.length) fail('unterminated quoted string', pos);
        tokens.push({ type: 'string', val: src.slice(pos, i + 1), pos, line });
        pos = i + 1;
        continue;
      }
      if (ch === '`') {
        const end = src.indexOf('`', pos + 1);
        if (end < 0) fail('unterminated raw quoted string', pos);
        tokens.push({ type: 'rawString', val: src.slice(pos, end + 1), pos, line });
        line += (src.slice(pos, end).match(/\n/g) ?? []).length;
        pos = end + 1;
        continue;
      }
      if (ch === "'") {
        let i = pos + 1;
        while (i < src.length && src[i] !== "'") {
          if (src[i] === '\\') i++;
          i++;
        }
        if (i >= src.length) fail('unterminated character constant', pos);
        tokens.push({ type: 'char', val: src.slice(pos, i + 1), pos, line });
        pos = i + 1;
        continue;
      }
      if (ch === '$') {
        let i = pos + 1;
        while (i < src.length && isAlnum(src[i])) i++;
        tokens.push({ type: 'variable', val: src.slice(pos, i), pos, line });
        pos = i;
        continue;
      }
      if (ch === '.') {
        if (/[0-9]/.test(src[pos + 1] ?? '')) {
          const m = /^\.[0-9_]+([eE][+-]?[0-9_]+)?/.exec(src.slice(pos))!;
          tokens.push({ type: 'number', val: m[0], pos, line });
          pos += m[0].length;
          continue;
        }
        if (!isAlnum(src[pos + 1] ?? '')) {
          tokens.push({ type: 'dot', val: '.', pos, line });
          pos++;
          continue;
        }
        let i = pos + 1;
        while (i < src.length && isAlnum(src[i])) i++;
        tokens.push({ type: 'field', val: src.slice(pos, i), pos, line });
        pos = i;
        continue;
      }
      if (/[0-9+-]/.test(ch)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)(i?)/.exec(src.slice(pos));
        if (!m || m[0] === '' || m[0] === '+' || m[0] === '-') fail(`bad number syntax: "${src.slice(pos, pos + 1)}"`, pos);
        const after = src[pos + m![0].length] ?? '';
        if (isAlnum(after)) fail(`bad number syntax: "${src.slice(pos, pos + m![0].length + 1)}"`, pos);
        tokens.push({ type: 'number', val: m![0], pos, line });
        pos += m![0].length;
        continue;
      }
      if (isAlnum(ch)) {
        let i = pos;
        while (i < src.length && isAlnum(src[i])) i++;
        const word = src.slice(pos, i);
        let type: TokenType = 'identifier';
        if (KEYWORDS.has(word)) type = 'keyword';
        else if (word === 'true' || word === 'false') type = 'bool';
        else if (word === 'nil') type = 'nil';
        tokens.push({ type, val: word, pos, line });
        pos = i;
        continue;
      }
      fail(`unrecognized character in action: ${JSON.stringify(ch)}`, pos);
    }
  }
  tokens.push({ type: 'eof', val: '', pos, line });
  return tokens;
}

/** The value of a Go interpreted string literal ("a\tb"). */
export function unquoteGo(lit: string): string {
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (/[0-7]/.test(n)) {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else throw new TemplateSyntaxError(`invalid syntax: ${lit}`);
    }
  }
  return out;
}
