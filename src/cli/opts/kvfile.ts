// Docker's env-file and label-file format: one KEY=value a line, "#" comments and blank
// lines skipped, leading white space trimmed, a bare KEY taken from the environment (env
// files only) or dropped when unset.
import { readFileSync } from 'node:fs';

export function parseKeyValueFile(filename: string, lookup?: (key: string) => string | undefined): string[] {
  let data: Buffer;
  try {
    data = readFileSync(filename);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`open ${filename}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
  const lines: string[] = [];
  const rawLines = data.toString('latin1').split('\n');
  if (rawLines[rawLines.length - 1] === '') rawLines.pop();
  for (let n = 0; n < rawLines.length; n++) {
    let bytes = Buffer.from(rawLines[n].replace(/\r$/, ''), 'latin1');
    if (n === 0 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.includes('\ufffd') && !bytes.toString('latin1').includes('\xef\xbf\xbd')) {
      throw new Error(`invalid env file (${filename}): invalid utf8 bytes at line ${n + 1}: [${[...Buffer.from(rawLines[n], 'latin1')].join(' ')}]`);
    }
    const line = text.replace(/^\s+/u, '');
    if (line.length === 0 || line[0] === '#') continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key.length === 0) throw new Error(`invalid env file (${filename}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${filename}): variable '${key}' contains whitespaces`);
    if (eq >= 0) {
      lines.push(line);
      continue;
    }
    if (lookup) {
      const v = lookup(line);
      if (v !== undefined) lines.push(`${key}=${v}`);
    }
  }
  return lines;
}
