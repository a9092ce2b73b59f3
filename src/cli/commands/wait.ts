// berth wait: POST /containers/{id}/wait for each container in turn; prints the exit codes.
import type { Cli } from '../cli.ts';
import { joinErrors, minArgs, type CommandDef } from '../command.ts';

export const command: CommandDef<Record<string, never>> = {
  args: minArgs(1),
  flags: () => ({}),
  async run(cli: Cli, _f, names: string[]) {
    const errors: unknown[] = [];
    for (const n of names) {
      try {
        const res = await cli.client.request('POST', `/containers/${n}/wait`);
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString();
        let body: { StatusCode?: number };
        try {
          body = JSON.parse(text);
        } catch {
          throw new Error(text);
        }
        cli.out.write(`${body.StatusCode ?? 0}\n`);
      } catch (e) {
        errors.push(e);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
