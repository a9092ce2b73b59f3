// -v/--volume specs (docker's compose ParseVolume): [source:]target[:options]; a source that
// looks like a path (./, /, ~) makes a bind mount, a name makes a named volume.

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  readOnly: boolean;
}

function isWindowsDrive(buffer: string[], ch: string): boolean {
  return ch === ':' && buffer.length === 1 && /\p{L}/u.test(buffer[0]);
}

function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0])) return true;
  const runes = Array.from(source);
  if (runes.length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return isWindowsDrive([runes[0]], runes[1]);
}

export function parseVolume(spec: string): VolumeSpec {
  const v: VolumeSpec = { type: 'volume', source: '', target: '', readOnly: false };
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) {
    v.target = spec;
    return v;
  }
  const END = '\u0000';
  let buffer: string[] = [];
  const populate = (ch: string) => {
    const s = buffer.join('');
    if (buffer.length === 0) throw new Error('empty section between colons');
    if (v.source === '' && ch === END) {
      v.target = s;
      return;
    }
    if (v.source === '') {
      v.source = s;
      return;
    }
    if (v.target === '') {
      v.target = s;
      return;
    }
    if (ch === ':') throw new Error('too many colons');
    for (const option of s.split(',')) {
      if (option === 'ro') v.readOnly = true;
      else if (option === 'rw') v.readOnly = false;
    }
  };
  for (const ch of Array.from(spec + END)) {
    if (isWindowsDrive(buffer, ch)) buffer.push(ch);
    else if (ch === ':' || ch === END) {
      try {
        populate(ch);
      } catch (e) {
        throw new Error(`invalid spec: ${spec}: ${(e as Error).message}`);
      }
      buffer = [];
    } else buffer.push(ch);
  }
  v.type = v.source !== '' && isFilePath(v.source) ? 'bind' : 'volume';
  return v;
}
