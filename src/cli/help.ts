// Help screens laid out as docker's (cobra usage template, pflag's wrapped flag list).
import { BIN } from './cli.ts';
import { commandPath, useLine, type Invocation } from './command.ts';
import type { Flag, FlagSet } from './flags.ts';
import { GROUPS, TOP, type Group } from './registry.ts';
import type { Cli } from './cli.ts';

/** pflag's wrapN: splits s at white space within i columns (going `slop` over to avoid orphans). */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

function wrap(indent: number, width: number, s: string): string {
  if (width === 0) return s.replace(/\n/g, '\n' + ' '.repeat(indent));
  let w = width - indent;
  let r = '';
  if (w < 24) {
    indent = 16;
    w = width - indent;
    r += '\n' + ' '.repeat(indent);
  }
  if (w < 24) return s.replace(/\n/g, r);
  const slop = 5;
  w -= slop;
  let [l, rest] = wrapN(w, slop, s);
  r += l.replace(/\n/g, '\n' + ' '.repeat(indent));
  while (rest !== '') {
    [l, rest] = wrapN(w, slop, rest);
    r += '\n' + ' '.repeat(indent) + l.replace(/\n/g, '\n' + ' '.repeat(indent));
  }
  return r;
}

/** pflag shows "(default …)" unless the default is its type's zero value. */
function isZeroDefault(f: Flag): boolean {
  const d = f.defValue;
  if (d === '' || d === 'false' || d === '0' || d === '<nil>') return true;
  return (f.typeName === 'duration' && d === '0s') || (f.typeName === 'strings' && d === '[]');
}

/** pflag's FlagUsagesWrapped: flags sorted by name, descriptions aligned and wrapped. */
export function flagUsages(flags: Flag[], cols: number): string {
  const lines: string[] = [];
  let maxlen = 0;
  const visible = flags.filter((f) => !f.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const f of visible) {
    let line = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    if (f.typeName) line += ' ' + f.typeName;
    line += '\x00';
    if (line.length > maxlen) maxlen = line.length;
    line += f.usage;
    if (!isZeroDefault(f)) line += f.typeName === 'string' ? ` (default ${JSON.stringify(f.defValue)})` : ` (default ${f.defValue})`;
    if (f.deprecated) line += ` (DEPRECATED: ${f.deprecated})`;
    lines.push(line);
  }
  let out = '';
  for (const line of lines) {
    const sidx = line.indexOf('\x00');
    const spacing = ' '.repeat(maxlen - sidx);
    // fmt.Fprintln puts a space between its operands.
    out += line.slice(0, sidx) + ' ' + spacing + ' ' + wrap(maxlen + 2, cols, line.slice(sidx + 1)) + '\n';
  }
  return out;
}

function termWidth(): number {
  const cols = process.stdin.isTTY ? process.stdout.columns : undefined;
  return cols && cols > 0 ? cols : 80;
}

/**
 * Hides flags the daemon cannot use (Windows-only ones on Linux, experimental ones on a
 * non-experimental daemon), as docker does when it can reach the daemon.
 */
export async function hideUnsupported(cliFactory: () => Cli, fs: FlagSet): Promise<void> {
  const needed = fs.flags.some((f) => f.osType || f.experimental);
  if (!needed) return;
  const cli = cliFactory();
  try {
    const p = await cli.client.ping();
    for (const f of fs.flags) {
      if (f.osType && p.osType && f.osType !== p.osType) f.hidden = true;
      if (f.experimental && !p.experimental) f.hidden = true;
    }
  } catch {
    // Daemon unreachable: show every flag.
  } finally {
    cli.close();
  }
}

export function commandHelp(inv: Invocation, fs: FlagSet): string {
  let s = `Usage:  ${useLine(inv)}\n\n${inv.long ?? inv.short}\n`;
  if (inv.aliases) s += `\nAliases:\n  ${inv.aliases}\n`;
  const usages = flagUsages(fs.flags, termWidth() - 1).replace(/\s+$/, '');
  if (usages) s += `\nOptions:\n${usages}\n`;
  return s;
}

function rpad(s: string, n: number): string {
  return s.padEnd(n);
}

export function groupHelp(g: Group): string {
  const pad = Math.max(11, ...g.commands.map((c) => c.names[0].length + 1));
  let s = `Usage:  ${BIN} ${g.name} COMMAND\n\n${g.short}\n\nCommands:\n`;
  for (const c of g.commands) s += `  ${rpad(c.names[0], pad)} ${c.short}\n`;
  s += `\nRun '${BIN} ${g.name} COMMAND --help' for more information on a command.\n`;
  return s;
}

export function rootHelp(globalFlags: FlagSet): string {
  const pad = 11;
  let s = `Usage:  ${BIN} [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n`;
  s += 'Common Commands:\n';
  for (const n of ['run', 'exec', 'ps', 'images', 'version', 'info']) {
    const e = TOP.find((t) => t.names[0] === n)!;
    s += `  ${rpad(n, pad)} ${e.short}\n`;
  }
  s += '\nManagement Commands:\n';
  for (const g of GROUPS) s += `  ${rpad(g.name, pad)} ${g.short}\n`;
  s += '\nCommands:\n';
  for (const e of TOP) {
    if (['run', 'exec', 'ps', 'images', 'version', 'info'].includes(e.names[0])) continue;
    s += `  ${rpad(e.names[0], pad)} ${e.short}\n`;
  }
  s += `\nGlobal Options:\n${flagUsages(globalFlags.flags, termWidth() - 1).replace(/\s+$/, '')}\n`;
  s += `\nRun '${BIN} COMMAND --help' for more information on a command.\n`;
  return s;
}

export { commandPath };
