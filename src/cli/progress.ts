// What berth pull and push share: their flags and reference rules, the request with the
// registry's credentials, and docker's jsonmessage.DisplayJSONMessagesStream: on a terminal, every
// layer ("id") keeps its own line, rewritten in place (cursor up, clear line, status and
// progress bar, cursor down) as its messages come; elsewhere, progress messages with numbers
// are skipped and the rest printed one per line. The first error ends it (its message is
// what the CLI prints).
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Cli } from './cli.ts';
import { registryAuthHeader } from './docker-config.ts';
import type { BoolFlag, FlagSet, StringFlag } from './flags.ts';
import { parseNormalizedNamed, tagNameOnly, type Reference } from './reference.ts';
import { JsonStreamError, jsonValues, writeTo, type JsonMessage } from '../client/streams.ts';
import { humanSize } from './format/units.ts';

interface Progress {
  current?: number;
  total?: number;
  units?: string;
  hidecounts?: boolean;
}

/** JSONProgress.String(): "[====>     ] 1.2MB/2.4MB"; the bar only when the terminal is wider than 110. */
export function progressBar(p: Progress | undefined, width: number): string {
  const current = p?.current ?? 0;
  const total = p?.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p?.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.trunc((current / total) * 100) >> 1;
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p?.hidecounts) numbers = '';
  else if (!p?.units) numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  else numbers = current > total ? `${current} ${p.units}`.padStart(8) : `${String(current).padStart(8)}/${total} ${p.units}`;
  return bar + numbers;
}

export interface DisplayOptions {
  isTerminal: boolean;
  /** The terminal's width (the bar needs more than 110 columns). */
  width?: number;
  onAux?: (aux: unknown) => void;
}

export async function displayProgressStream(input: Readable, out: Writable, opts: DisplayOptions): Promise<void> {
  const tty = opts.isTerminal;
  const width = opts.width || 200;
  let ids = new Map<string, number>();
  for await (const v of jsonValues(input)) {
    const m = v as JsonMessage & { progressDetail?: Progress };
    if (m.aux !== undefined) {
      opts.onAux?.(m.aux);
      continue;
    }
    const hasProgress = m.progressDetail !== undefined;
    let diff = 0;
    let text = '';
    if (m.id && (hasProgress || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (tty) text += '\n';
      }
      diff = ids.size - line;
      if (tty && diff > 0) text += `\x1b[${diff}A`;
    } else {
      // Anything else ends the current block of layer lines.
      ids = new Map();
    }
    if (m.errorDetail?.message !== undefined || m.error) {
      await writeTo(out, text);
      throw new JsonStreamError(m.errorDetail?.message ?? m.error ?? '');
    }
    const bar = progressBar(m.progressDetail, width);
    let endl = '';
    if (tty && m.stream === undefined && hasProgress) {
      text += '\x1b[2K\r';
      endl = '\r';
    } else if (hasProgress && bar !== '') {
      await writeTo(out, text);
      continue; // no progress bars off a terminal
    }
    if (m.id) text += `${m.id}: `;
    if (m.from) text += `(from ${m.from}) `;
    if (hasProgress && tty) text += `${m.status ?? ''} ${bar}${endl}`;
    else if (m.progress) text += `${m.status ?? ''} ${m.progress}${endl}`;
    else if (m.stream) text += `${m.stream}${endl}`;
    else text += `${m.status ?? ''}${endl}\n`;
    if (m.id && tty && diff > 0) text += `\x1b[${diff}B`;
    await writeTo(out, text);
  }
}

/**
 * Sends a pull or push request with the stored credentials of the registry in
 * X-Registry-Auth and renders its progress stream as docker does (nothing with quiet).
 */
export async function progressRequest(cli: Cli, path: string, query: Record<string, string | undefined>, registry: string, quiet: boolean): Promise<void> {
  const res = await cli.client.request('POST', path, { query, headers: { 'X-Registry-Auth': await registryAuthHeader(registry) } });
  const out = quiet ? new PassThrough().resume() : cli.out;
  await displayProgressStream(res, out, { isTerminal: !quiet && cli.outIsTerminal, width: cli.ttySize()[1] });
}

/** The flags push and pull share (their help texts differ). */
export interface TransferFlags {
  all: BoolFlag;
  quiet: BoolFlag;
  platform: StringFlag;
  untrusted: BoolFlag;
}

export function transferFlags(fs: FlagSet, usage: { all: string; untrusted: string; platform: string }): TransferFlags {
  return {
    all: fs.bool('all-tags', 'a', false, usage.all),
    untrusted: fs.bool('disable-content-trust', undefined, true, usage.untrusted),
    platform: fs.string('platform', undefined, process.env.DOCKER_DEFAULT_PLATFORM ?? '', usage.platform),
    quiet: fs.bool('quiet', 'q', false, 'Suppress verbose output'),
  };
}

/** The reference push and pull work on, as docker's CLI makes it: "latest" when none (said unless quiet); no tag with -a. */
export function transferReference(cli: Cli, name: string, f: TransferFlags): Reference {
  let ref = parseNormalizedNamed(name);
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  if (f.all.value && !nameOnly) throw new Error("tag can't be used with --all-tags/-a");
  if (!f.all.value && nameOnly) {
    ref = tagNameOnly(ref);
    if (!f.quiet.value) cli.println(`Using default tag: ${ref.tag}`);
  }
  return ref;
}
