// Elastic tabstops as Go's text/tabwriter computes them (the variant docker vendors, which
// measures cells in terminal columns): tab-terminated cells of consecutive lines form a
// column as wide as its widest cell plus padding. Only left alignment and a space (or any
// single-character) pad are needed by the CLI.
import { displayWidth } from './width.ts';

interface Cell {
  size: number; // bytes... here: UTF-16 units of the text in buf
  width: number; // display width
  htab: boolean; // terminated by a tab (rather than a line end)
}

export class TabWriter {
  private readonly minwidth: number;
  private readonly tabwidth: number;
  private readonly padding: number;
  private readonly padchar: string;
  private out = '';
  private buf = '';
  private cell: Cell = { size: 0, width: 0, htab: false };
  private lines: Cell[][] = [[]];
  private widths: number[] = [];

  constructor(minwidth: number, tabwidth: number, padding: number, padchar = ' ') {
    this.minwidth = minwidth;
    this.tabwidth = tabwidth;
    this.padding = padding;
    this.padchar = padchar;
  }

  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch !== '\t' && ch !== '\v' && ch !== '\n' && ch !== '\f') continue;
      this.append(text.slice(start, i));
      start = i + 1;
      const ncells = this.terminateCell(ch === '\t');
      if (ch === '\n' || ch === '\f') {
        this.lines.push([]);
        // A line with a single cell ends the block: columns never span it.
        if (ch === '\f' || ncells === 1) this.flushBlock();
      }
    }
    this.append(text.slice(start));
  }

  /** Formats everything written so far and returns the output accumulated since the last call. */
  flush(): string {
    if (this.cell.size > 0) this.terminateCell(false);
    this.flushBlock();
    const out = this.out;
    this.out = '';
    return out;
  }

  private append(text: string): void {
    this.buf += text;
    this.cell.size += text.length;
    this.cell.width += displayWidth(text);
  }

  private terminateCell(htab: boolean): number {
    this.cell.htab = htab;
    const line = this.lines[this.lines.length - 1];
    line.push(this.cell);
    this.cell = { size: 0, width: 0, htab: false };
    return line.length;
  }

  private flushBlock(): void {
    this.format(0, 0, this.lines.length);
    this.buf = '';
    this.cell = { size: 0, width: 0, htab: false };
    this.lines = [[]];
    this.widths = [];
  }

  private writePadding(textw: number, cellw: number): void {
    if (this.padchar === '\t') {
      if (this.tabwidth === 0) return;
      cellw = Math.ceil(cellw / this.tabwidth) * this.tabwidth;
      this.out += '\t'.repeat(Math.ceil((cellw - textw) / this.tabwidth));
      return;
    }
    this.out += this.padchar.repeat(Math.max(cellw - textw, 0));
  }

  private writeLines(pos: number, line0: number, line1: number): number {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      line.forEach((c, j) => {
        if (c.size === 0) {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]);
        } else {
          this.out += this.buf.slice(pos, pos + c.size);
          pos += c.size;
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j]);
        }
      });
      if (i + 1 === this.lines.length) {
        // The last buffered line is the incomplete cell: write it without a newline.
        this.out += this.buf.slice(pos, pos + this.cell.size);
        pos += this.cell.size;
      } else this.out += '\n';
    }
    return pos;
  }

  private format(pos: number, line0: number, line1: number): number {
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= this.lines[t].length - 1) continue;
      // Cell in this column exists: it starts a block of lines that all have the column.
      pos = this.writeLines(pos, line0, t);
      line0 = t;
      let width = this.minwidth;
      for (; t < line1; t++) {
        const line = this.lines[t];
        if (column >= line.length - 1) break;
        const w = line[column].width + this.padding;
        if (w > width) width = w;
      }
      this.widths.push(width);
      pos = this.format(pos, line0, t);
      this.widths.pop();
      line0 = t;
    }
    return this.writeLines(pos, line0, line1);
  }
}

/** Aligns a whole text at once. */
export function tabulate(text: string, minwidth: number, tabwidth: number, padding: number, padchar = ' '): string {
  const w = new TabWriter(minwidth, tabwidth, padding, padchar);
  w.write(text);
  return w.flush();
}
