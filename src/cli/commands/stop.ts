// berth stop: POST /containers/{id}/stop for each name in parallel; prints the names stopped.
import type { Cli } from '../cli.ts';
import { inParallel, minArgs, reportByName, type CommandDef } from '../command.ts';
import { IntFlag, type FlagSet, type StringFlag } from '../flags.ts';

export interface StopFlags {
  signal: StringFlag;
  timeout: IntFlag;
  time: IntFlag;
}

export function stopFlags(fs: FlagSet): StopFlags {
  const signal = fs.string('signal', 's', '', 'Signal to send to the container');
  const timeout = fs.int('timeout', 't', 0, 'Seconds to wait before killing the container');
  const time = fs.add(new IntFlag('time', undefined, 0, 'Seconds to wait before killing the container (deprecated: use --timeout)'));
  time.deprecated = 'use --timeout instead';
  time.hidden = true;
  return { signal, timeout, time };
}

/**
 * The stop/restart query: t only when a timeout flag was given; signal from API 1.42, so with
 * --signal the version is negotiated first.
 */
export async function stopQuery(cli: Cli, f: StopFlags): Promise<Record<string, string | undefined>> {
  if (f.time.changed && f.timeout.changed) throw new Error('conflicting options: cannot specify both --timeout and --time');
  if (f.signal.value) await cli.client.negotiate();
  const t = f.timeout.changed ? f.timeout.value : f.time.changed ? f.time.value : undefined;
  return {
    t: t === undefined ? undefined : String(t),
    signal: f.signal.value && cli.client.versionAtLeast('1.42') ? f.signal.value : undefined,
  };
}

export const command: CommandDef<StopFlags> = {
  args: minArgs(1),
  flags: stopFlags,
  async run(cli: Cli, f: StopFlags, names: string[]) {
    const query = await stopQuery(cli, f);
    const results = await inParallel(names, (n) => cli.client.call('POST', `/containers/${n}/stop`, { query }));
    reportByName(cli, results);
  },
};
