// berth top: GET /containers/{id}/top (ps_args = the remaining arguments joined by spaces),
// printed as docker's table (tabwriter: minimum width 20, padding 3).
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import { TabWriter } from '../format/tabwriter.ts';

interface TopResponse {
  Titles?: string[] | null;
  Processes?: string[][] | null;
}

export const command: CommandDef<object> = {
  // "top CONTAINER -ef": everything after the container goes to ps.
  noInterspersed: true,
  args: minArgs(1),
  flags: () => ({}),
  async run(cli: Cli, _f, args: string[]) {
    const psArgs = args.slice(1);
    const top = await cli.client.json<TopResponse>('GET', `/containers/${args[0]}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
    const tw = new TabWriter(20, 1, 3, ' ');
    tw.write((top?.Titles ?? []).join('\t') + '\n');
    for (const proc of top?.Processes ?? []) tw.write(proc.join('\t') + '\n');
    cli.out.write(tw.flush());
  },
};
