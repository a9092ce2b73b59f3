// berth diff: GET /containers/{id}/changes, one "KIND PATH" line a change (A added,
// C changed, D deleted), as docker's diff formatter prints them.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';

const KINDS = ['C', 'A', 'D'];

export const command: CommandDef<Record<string, never>> = {
  args: exactArgs(1),
  flags: () => ({}),
  async run(cli: Cli, _f, [container]: string[]) {
    if (container === '') throw new Error('Container name cannot be empty');
    const changes = (await cli.client.json<Array<{ Kind: number; Path: string }> | null>('GET', `/containers/${encodeURIComponent(container)}/changes`)) ?? [];
    cli.out.write(changes.map((c) => `${KINDS[c.Kind] ?? ''} ${c.Path}\n`).join(''));
  },
};
