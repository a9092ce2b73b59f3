// berth events: streams GET /events (since/until as docker's client sends them, filters as
// JSON) and prints each event as docker does: one line "TIME TYPE ACTION ID (attrs)", or
// through a --format template checked first on an empty event (status 64 when it fails).
import { StatusError, type Cli } from '../cli.ts';
import { noArgs, type CommandDef } from '../command.ts';
import type { CustomFlag, FlagSet, StringFlag } from '../flags.ts';
import { filterFlag, type Filters } from '../opts/filters.ts';
import { getTimestamp } from '../opts/timestamp.ts';
import { encodeFilters } from '../../client/query.ts';
import { textLines, writeTo } from '../../client/streams.ts';
import { Template, TemplateExecError, TemplateSyntaxError } from '../format/template.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { EventMessage, eventJson, parseEvent, prettyEvent } from '../format/event-message.ts';

interface EventsFlags {
  since: StringFlag;
  until: StringFlag;
  filter: CustomFlag<Filters>;
  format: StringFlag;
}

/** docker's makeTemplate: none for "", {{json .}} for "json", validated on an empty event. */
export function eventTemplate(format: string): Template | undefined {
  if (format === '') return undefined;
  const source = format === 'json' ? '{{json .}}' : format;
  try {
    const tmpl = Template.parse(source, { funcs: { json: eventJson } });
    tmpl.execute(new EventMessage({}, '*events.Message'));
    return tmpl;
  } catch (e) {
    if (e instanceof TemplateSyntaxError || e instanceof TemplateExecError) throw new StatusError(64, `Error parsing format: ${e.message}`);
    throw e;
  }
}

export const command: CommandDef<EventsFlags> = {
  args: noArgs,
  flags: (fs: FlagSet) => ({
    since: fs.string('since', undefined, '', 'Show all events created since timestamp'),
    until: fs.string('until', undefined, '', 'Stream events until this timestamp'),
    filter: filterFlag(fs, 'f', 'Filter output based on conditions provided'),
    format: fs.string('format', undefined, '', INSPECT_FORMAT_HELP),
  }),
  async run(cli: Cli, f: EventsFlags) {
    const tmpl = eventTemplate(f.format.value);
    const now = new Date();
    const res = await cli.client.request('GET', '/events', {
      query: {
        since: f.since.value !== '' ? getTimestamp(f.since.value, now) : undefined,
        until: f.until.value !== '' ? getTimestamp(f.until.value, now) : undefined,
        filters: encodeFilters(f.filter.value),
      },
    });
    // The daemon writes one JSON object a line and ends the stream at --until.
    const print = async (line: string) => {
      if (line.trim() === '') return;
      const m = new EventMessage(parseEvent(line));
      let text: string;
      if (!tmpl) text = prettyEvent(m);
      else {
        try {
          text = tmpl.execute(m) + '\n';
        } catch (e) {
          if (e instanceof TemplateExecError) {
            // docker has written what the template produced, and the newline, before failing.
            await writeTo(cli.out, e.partial + '\n');
            throw new Error(e.message);
          }
          throw e;
        }
      }
      await writeTo(cli.out, text);
    };
    for await (const { line, complete } of textLines(res)) {
      try {
        await print(line);
      } catch (e) {
        if (!complete && e instanceof SyntaxError) throw new Error('unexpected EOF');
        throw e;
      }
    }
  },
};
