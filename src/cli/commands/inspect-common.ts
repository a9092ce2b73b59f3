// docker's inspect machinery: the daemon's raw JSON printed as an indented array, compact
// with --format json, or each element through a Go template (missing keys are errors).
import { StatusError, type Cli } from '../cli.ts';
import { Template, TemplateExecError, TemplateSyntaxError } from '../format/template.ts';
import { jsonCompact, jsonIndent } from '../format/json-text.ts';
import { joinErrors } from '../command.ts';

/** raw: the JSON printed; data: what templates see when it is not that JSON parsed (docker's
 * Go struct, for the commands whose inspect marshals one). */
export type GetRef = (ref: string) => Promise<{ raw: Buffer; data?: unknown }>;

export async function inspectAll(cli: Cli, refs: string[], format: string, getRef: GetRef): Promise<void> {
  let tmpl: Template | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tmpl = Template.parse(format).forInspect();
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw new StatusError(64, `template parsing error: ${e.message}`);
      throw e;
    }
  }
  const errors: unknown[] = [];
  const raws: string[] = [];
  let buffer = '';
  for (const ref of refs) {
    let raw: Buffer;
    let data: unknown;
    try {
      ({ raw, data } = await getRef(ref));
    } catch (e) {
      errors.push(e);
      continue;
    }
    if (!tmpl) {
      raws.push(raw.toString().trim());
      continue;
    }
    try {
      buffer += tmpl.execute(data ?? JSON.parse(raw.toString())) + '\n';
    } catch (e) {
      if (e instanceof TemplateExecError) errors.push(new Error(`template parsing error: ${e.message}`));
      else errors.push(new Error(`unable to read inspect data: ${(e as Error).message}`));
    }
  }
  if (tmpl) cli.out.write(buffer === '' ? '\n' : buffer);
  else if (raws.length === 0) cli.out.write('[]\n');
  else {
    const all = '[' + raws.join(',') + ']';
    cli.out.write((format === 'json' ? jsonCompact(all) : jsonIndent(all, '    ')) + '\n');
  }
  const err = joinErrors(errors);
  if (err) throw new StatusError(1, err.message);
}
