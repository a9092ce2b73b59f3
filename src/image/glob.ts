// Go's path.Match, which Docker's reference=PATTERN filters use: '*' and '?' never match
// '/', '[...]' classes with ranges and '^' negation, '\' escapes. A malformed pattern is
// an error (Go's ErrBadPattern), even when the name would not match anyway.
import { badParameter } from '../util/errors.ts';

const BAD_PATTERN = 'syntax error in pattern';
const cache = new Map<string, RegExp>();

const reEscape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const classEscape = (c: string) => c.replace(/[\\\]\[^-]/g, '\\$&');

function compile(pattern: string): RegExp {
  let re = '^';
  const chars = [...pattern];
  let i = 0;
  const bad = () => badParameter(BAD_PATTERN);
  /** One possibly escaped class character; '-' and ']' must be escaped there. */
  const classChar = (): string => {
    if (i >= chars.length) throw bad();
    let c = chars[i];
    if (c === '-' || c === ']') throw bad();
    if (c === '\\') {
      i++;
      if (i >= chars.length) throw bad();
      c = chars[i];
    }
    i++;
    return c;
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) throw bad();
      re += reEscape(chars[i + 1]);
      i += 2;
    } else if (c === '[') {
      i++;
      let cls = '';
      if (chars[i] === '^') {
        cls = '^';
        i++;
      }
      let ranges = 0;
      for (;;) {
        if (i < chars.length && chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar();
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          hi = classChar();
        }
        if (lo > hi) throw bad();
        cls += lo === hi ? classEscape(lo) : `${classEscape(lo)}-${classEscape(hi)}`;
        ranges++;
      }
      re += `[${cls}]`;
    } else {
      re += reEscape(c);
      i++;
    }
  }
  return new RegExp(re + '$', 'u');
}

/** path.Match(pattern, name). Throws a 400 "syntax error in pattern" for a malformed pattern. */
export function globMatch(pattern: string, name: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = compile(pattern);
    if (cache.size > 256) cache.clear();
    cache.set(pattern, re);
  }
  return re.test(name);
}
