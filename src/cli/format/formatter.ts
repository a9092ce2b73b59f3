// docker's formatter.Context: --format values "table", "table TEMPLATE", "json" and plain
// templates; rows rendered through the template, tables aligned by the tabwriter with a
// header row rendered from the same template over the column titles.
import { HEADER_FUNCTIONS, Template, TemplateExecError, TemplateSyntaxError } from './template.ts';
import { TabWriter } from './tabwriter.ts';
import type { GoStruct } from './gofmt.ts';

export function isTableFormat(format: string): boolean {
  return format.startsWith('table');
}

/** The template text docker executes for a --format value. */
export function finalFormat(format: string): string {
  let f = format;
  if (isTableFormat(f)) f = f.slice('table'.length);
  else if (f === 'json') f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '');
  return f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** A header row: column titles by field name; `.Label "x"` gives "x" (docker's SubHeaderContext). */
export class HeaderContext implements GoStruct {
  readonly goType = 'formatter.SubHeaderContext';
  private readonly titles: Record<string, string>;
  constructor(titles: Record<string, string>) {
    this.titles = titles;
  }
  member(name: string) {
    if (name === 'Label') {
      return { call: (...a: unknown[]) => String(a[0] ?? '').split('.').pop()!.replace(/[-_]/g, ' ') };
    }
    // A map: unknown keys are simply missing ("<no value>").
    return { value: Object.prototype.hasOwnProperty.call(this.titles, name) ? this.titles[name] : undefined };
  }
  toJSON() {
    return this.titles;
  }
}

export class FormatError extends Error {}

function parse(text: string): Template {
  try {
    return Template.parse(text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new FormatError(`template parsing error: ${e.message}`);
    throw e;
  }
}

/** Renders rows with a docker --format value; the text to print. */
export function renderFormatted(format: string, rows: Iterable<GoStruct>, header: HeaderContext): string {
  const tmpl = parse(finalFormat(format));
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(row);
    } catch (e) {
      if (e instanceof TemplateExecError) throw new FormatError(`template parsing error: ${e.message}`);
      throw e;
    }
    body += '\n';
  }
  if (!isTableFormat(format)) return body;
  let head: string;
  try {
    head = tmpl.withFuncs(HEADER_FUNCTIONS).execute(header);
  } catch (e) {
    // docker ignores header errors and prints what was rendered before them.
    if (!(e instanceof TemplateExecError)) throw e;
    head = e.partial;
  }
  const tw = new TabWriter(10, 1, 3, ' ');
  tw.write(head);
  tw.write('\n');
  tw.write(body);
  return tw.flush();
}
