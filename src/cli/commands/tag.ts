// berth tag: POST /images/{source}/tag?repo=…&tag=… after docker's client-side checks.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import { parseAnyReference, parseNormalizedNamed, tagNameOnly } from '../reference.ts';

export const command: CommandDef<Record<string, never>> = {
  noInterspersed: true,
  args: exactArgs(2),
  flags: () => ({}),
  async run(cli: Cli, _f, [source, target]: string[]) {
    try {
      parseAnyReference(source);
    } catch (e) {
      throw new Error(`Error parsing reference: ${JSON.stringify(source)} is not a valid repository/tag: ${(e as Error).message}`);
    }
    let ref;
    try {
      ref = parseNormalizedNamed(target);
    } catch (e) {
      throw new Error(`Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${(e as Error).message}`);
    }
    if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
    ref = tagNameOnly(ref);
    await cli.client.call('POST', `/images/${source}/tag`, { query: { repo: ref.name, tag: ref.tag } });
  },
};
