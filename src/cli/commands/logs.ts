// berth logs: inspects the container (for its id and whether it has a TTY), then streams
// GET /containers/{id}/logs, demultiplexed unless the container has a TTY.
import type { Cli } from '../cli.ts';
import { exactArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { getTimestamp } from '../opts/timestamp.ts';
import { copyRaw, demux } from '../../client/streams.ts';

interface LogsFlags {
  follow: BoolFlag;
  since: StringFlag;
  until: StringFlag;
  timestamps: BoolFlag;
  details: BoolFlag;
  tail: StringFlag;
}

export const command: CommandDef<LogsFlags> = {
  args: exactArgs(1),
  flags: (fs: FlagSet) => ({
    follow: fs.bool('follow', 'f', false, 'Follow log output'),
    since: fs.string('since', undefined, '', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    until: fs.string('until', undefined, '', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    timestamps: fs.bool('timestamps', 't', false, 'Show timestamps'),
    details: fs.bool('details', undefined, false, 'Show extra details provided to logs'),
    tail: fs.string('tail', 'n', 'all', 'Number of lines to show from the end of the logs'),
  }),
  async run(cli: Cli, f: LogsFlags, args: string[]) {
    const c = await cli.client.json<{ Id: string; Config?: { Tty?: boolean } }>('GET', `/containers/${args[0]}/json`);
    const stamp = (name: string, v: string) => {
      if (v === '') return undefined;
      try {
        return getTimestamp(v);
      } catch (e) {
        throw new Error(`invalid value for "${name}": ${(e as Error).message}`);
      }
    };
    const res = await cli.client.request('GET', `/containers/${c.Id}/logs`, {
      query: {
        stdout: '1',
        stderr: '1',
        since: stamp('since', f.since.value),
        until: stamp('until', f.until.value),
        timestamps: f.timestamps.value ? '1' : undefined,
        details: f.details.value ? '1' : undefined,
        follow: f.follow.value ? '1' : undefined,
        tail: f.tail.value,
      },
    });
    if (c.Config?.Tty) await copyRaw(res, cli.out);
    else await demux(res, cli.out, cli.err);
  },
};
