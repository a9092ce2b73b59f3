// Go's json.Indent and json.Compact: re-lay out JSON text without re-encoding it, so the
// daemon's own string escapes and number forms reach the output unchanged.

function scan(src: string, onToken: (tok: string, kind: 'open' | 'close' | 'comma' | 'colon' | 'value') => void): void {
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '{' || c === '[') {
      onToken(c, 'open');
      i++;
    } else if (c === '}' || c === ']') {
      onToken(c, 'close');
      i++;
    } else if (c === ',') {
      onToken(c, 'comma');
      i++;
    } else if (c === ':') {
      onToken(c, 'colon');
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      onToken(src.slice(i, j + 1), 'value');
      i = j + 1;
    } else {
      let j = i;
      while (j < src.length && !' \t\n\r,:]}'.includes(src[j])) j++;
      onToken(src.slice(i, j), 'value');
      i = j;
    }
  }
}

export function jsonCompact(src: string): string {
  let out = '';
  scan(src, (tok) => (out += tok));
  return out;
}

export function jsonIndent(src: string, indent: string, prefix = ''): string {
  let out = '';
  let depth = 0;
  let needIndent = false; // an opening bracket was just written
  const newline = () => '\n' + prefix + indent.repeat(depth);
  scan(src, (tok, kind) => {
    if (needIndent && kind !== 'close') {
      depth++;
      out += newline();
      needIndent = false;
    }
    switch (kind) {
      case 'open':
        out += tok;
        needIndent = true;
        break;
      case 'close':
        if (needIndent) {
          // Empty object or array stays "{}" / "[]".
          needIndent = false;
        } else {
          depth--;
          out += newline();
        }
        out += tok;
        break;
      case 'comma':
        out += ',' + newline();
        break;
      case 'colon':
        out += ': ';
        break;
      default:
        out += tok;
    }
  });
  return out;
}
