// berth volume inspect: GET /volumes/{name} for each name, printed as docker marshals
// its volume.Volume struct.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { inspectAll } from './inspect-common.ts';
import { VolumeStruct, volumeJson } from './volume-format.ts';

export const command: CommandDef<{ format: StringFlag }> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP),
  }),
  async run(cli: Cli, f, names: string[]) {
    await inspectAll(cli, names, f.format.value, async (name) => {
      if (name === '') throw new Error('Error: No such volume: ');
      const { value } = await cli.client.jsonWithRaw<Record<string, unknown>>('GET', `/volumes/${encodeURIComponent(name)}`);
      return { raw: Buffer.from(JSON.stringify(volumeJson(value))), data: new VolumeStruct(value) };
    });
  },
};
