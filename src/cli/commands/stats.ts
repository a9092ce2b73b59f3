// berth stats: one GET /containers/{id}/stats per container (stream=1, or stream=0 with
// --no-stream), redrawn every half second as docker redraws it (cursor home, each line
// followed by erase-to-end-of-line, then erase-below). Without names it follows the
// container events (subscribed before listing, so no start is missed) to add and drop rows.
import type { IncomingMessage } from 'node:http';
import type { Cli } from '../cli.ts';
import { joinErrors, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { FORMAT_HELP } from '../format/help-texts.ts';
import { renderFormatted } from '../format/formatter.ts';
import { emptyEntry, invalidated, statsEntry, statsFormat, statsHeader, StatsContext, type StatsEntry, type StatsJson } from '../format/stats-context.ts';
import { parseEvent } from '../format/event-message.ts';
import { jsonValues, textLines } from '../../client/streams.ts';
import { encodeFilters } from '../../client/query.ts';

interface StatsFlags {
  all: BoolFlag;
  noStream: BoolFlag;
  noTrunc: BoolFlag;
  format: StringFlag;
}

/** Without a sample for this long a row shows "--" (docker's collect timeout). */
const SAMPLE_TIMEOUT_MS = 2000;
const REDRAW_MS = 500;

/** One container's row and the collection feeding it. */
class Collected {
  entry: StatsEntry;
  error: Error | undefined;
  /** The no-sample timeout (re-armed after each sample while streaming). */
  timer: NodeJS.Timeout | undefined;
  private response: IncomingMessage | undefined;
  private closed = false;
  constructor(container: string) {
    this.entry = emptyEntry(container);
  }
  get container(): string {
    return this.entry.Container;
  }
  setError(err: Error | undefined): void {
    this.error = err;
    if (err) this.entry = { ...this.entry, IsInvalid: true };
  }
  attach(res: IncomingMessage): void {
    this.response = res;
    if (this.closed) res.destroy();
  }
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.response?.destroy();
  }
}

/** The OS in the daemon's Server header ("Docker/28.0 (linux)"), as docker's getDockerOS. */
function serverOs(res: IncomingMessage): string {
  const m = /.*\((.+)\).*/.exec(String(res.headers.server ?? ''));
  return m ? m[1] : '';
}

class StatsSession {
  readonly rows: Collected[] = [];
  daemonOs = '';
  private readonly cli: Cli;
  private readonly stream: boolean;
  constructor(cli: Cli, stream: boolean) {
    this.cli = cli;
    this.stream = stream;
  }

  /** Adds a row unless one with this name exists; resolves at its first sample (or failure, or timeout). */
  add(container: string): Promise<void> | undefined {
    if (this.rows.some((r) => r.container === container)) return undefined;
    const c = new Collected(container);
    this.rows.push(c);
    return this.collect(c);
  }

  remove(container: string): void {
    const i = this.rows.findIndex((r) => r.container === container);
    if (i >= 0) this.rows.splice(i, 1)[0].close();
  }

  close(): void {
    for (const r of this.rows) r.close();
  }

  private collect(c: Collected): Promise<void> {
    return new Promise<void>((first) => {
      const arm = () => {
        clearTimeout(c.timer);
        c.timer = setTimeout(() => {
          c.entry = invalidated(c.entry);
          c.error = new Error('timeout waiting for stats');
          first();
          if (this.stream) arm();
        }, SAMPLE_TIMEOUT_MS);
        c.timer.unref();
      };
      arm();
      void (async () => {
        let res: IncomingMessage;
        try {
          res = await this.cli.client.request('GET', `/containers/${c.container}/stats`, { query: { stream: this.stream ? '1' : '0' } });
        } catch (e) {
          clearTimeout(c.timer);
          c.setError(e as Error);
          first();
          return;
        }
        c.attach(res);
        try {
          for await (const v of jsonValues(res)) {
            this.daemonOs = serverOs(res);
            c.entry = statsEntry(c.container, v as StatsJson, this.daemonOs);
            c.setError(undefined);
            first();
            if (!this.stream) break;
            arm();
          }
          if (this.stream) c.setError(new Error('EOF'));
        } catch (e) {
          c.setError(e as Error);
        }
        if (!this.stream) clearTimeout(c.timer);
        first();
      })();
    });
  }
}

export const command: CommandDef<StatsFlags> = {
  args: () => {},
  flags: (fs: FlagSet) => ({
    all: fs.bool('all', 'a', false, 'Show all containers (default shows just running)'),
    noStream: fs.bool('no-stream', undefined, false, 'Disable streaming stats and only pull the first result'),
    noTrunc: fs.bool('no-trunc', undefined, false, 'Do not truncate output'),
    format: fs.string('format', undefined, '', FORMAT_HELP),
  }),
  async run(cli: Cli, f: StatsFlags, names: string[]) {
    const session = new StatsSession(cli, !f.noStream.value);
    const showAll = names.length === 0;
    let eventsError: Error | undefined;
    let eventsResponse: IncomingMessage | undefined;
    try {
      if (showAll) {
        // Subscribe first, then list: a container started in between still gets a row.
        try {
          eventsResponse = await cli.client.request('GET', '/events', { query: { filters: encodeFilters(new Map([['type', ['container']]])) } });
          followEvents(eventsResponse, session, f.all.value, (e) => (eventsError ??= e));
        } catch (e) {
          eventsError = e as Error;
        }
        const list = await cli.client.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: f.all.value ? '1' : undefined } });
        await Promise.all((list ?? []).map((c) => session.add(c.Id.slice(0, 12))));
      } else {
        await Promise.all(names.map((n) => session.add(n)));
        const err = joinErrors(session.rows.map((r) => r.error).filter((e) => e !== undefined));
        if (err) throw err;
      }
      if (session.daemonOs === '') {
        await cli.client.negotiate();
        session.daemonOs = cli.client.serverOsType;
      }
      const format = statsFormat(f.format.value || 'table', session.daemonOs);
      for (;;) {
        await new Promise((r) => setTimeout(r, REDRAW_MS));
        const rows = session.rows.map((r) => new StatsContext(r.entry, session.daemonOs, !f.noTrunc.value));
        let text = renderFormatted(format, rows, statsHeader(session.daemonOs));
        if (!f.noStream.value) text = redraw(text);
        cli.out.write(text);
        if (session.rows.length === 0 && !showAll) break;
        if (f.noStream.value) break;
        if (eventsError) {
          // A daemon restart cuts the stream mid-event: docker ends quietly then.
          if (eventsError.message === 'unexpected EOF') return;
          throw eventsError;
        }
      }
    } finally {
      eventsResponse?.destroy();
      session.close();
    }
  },
};

/**
 * docker's redraw: cursor home, the table, then the table again line by line (the buffer
 * it reads from is the one it appends to), each line ending " \e[K", and "\e[J" last.
 */
export function redraw(table: string): string {
  let buf = '\x1b[H' + table;
  const snapshot = buf;
  for (const line of snapshot.split('\n')) buf += `${line} \x1b[K\n`;
  return buf + '\x1b[J';
}

/** Adds rows on start (and create, with -a) and drops them on die (without -a). */
function followEvents(res: IncomingMessage, session: StatsSession, all: boolean, onError: (e: Error) => void): void {
  void (async () => {
    let partial = false;
    try {
      for await (const { line, complete } of textLines(res)) {
        if (line.trim() === '') continue;
        if (!complete) {
          partial = true;
          break;
        }
        const e = parseEvent(line);
        const id = (e.Actor?.ID ?? '').slice(0, 12);
        if (e.Action === 'start' || (all && e.Action === 'create')) void session.add(id);
        else if (!all && e.Action === 'die') session.remove(id);
      }
      onError(new Error(partial ? 'unexpected EOF' : 'EOF'));
    } catch (e) {
      onError(e as Error);
    }
  })();
}
