// berth inspect: finds each name among containers, images, networks, volumes (and plugins),
// in docker's order, unless --type narrows it.
import type { Cli } from '../cli.ts';
import { minArgs, type CommandDef } from '../command.ts';
import type { BoolFlag, FlagSet, StringFlag } from '../flags.ts';
import { INSPECT_FORMAT_HELP } from '../format/help-texts.ts';
import { inspectAll } from './inspect-common.ts';
import { isNotFound } from '../../client/errors.ts';

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

interface Flags {
  format: StringFlag;
  type: StringFlag;
  size: BoolFlag;
}

function skippable(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return isNotFound(e) || msg.includes('not supported') || msg.includes('invalid reference format');
}

export const command: CommandDef<Flags> = {
  args: minArgs(1),
  flags: (fs: FlagSet) => ({
    format: fs.string('format', 'f', '', INSPECT_FORMAT_HELP),
    type: fs.string('type', undefined, '', 'Only inspect objects of the given type'),
    size: fs.bool('size', 's', false, 'Display total file sizes if the type is container'),
  }),
  async run(cli: Cli, f: Flags, refs: string[]) {
    const type = f.type.value;
    if (f.type.changed && type === '') throw new Error(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`);
    if (type !== '' && !ALL_TYPES.includes(type)) throw new Error(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`);
    const c = cli.client;
    const kinds: Array<{ type: string; swarm?: boolean; size?: boolean; get: (ref: string) => Promise<{ raw: Buffer }> }> = [
      { type: 'container', size: true, get: (r) => c.jsonWithRaw('GET', `/containers/${r}/json`, { query: { size: f.size.value ? '1' : undefined } }) },
      { type: 'image', get: (r) => (r === '' ? Promise.reject(new Error('Error: No such image: ')) : c.jsonWithRaw('GET', `/images/${r}/json`)) },
      { type: 'network', get: (r) => c.jsonWithRaw('GET', `/networks/${r}`) },
      { type: 'volume', get: (r) => c.jsonWithRaw('GET', `/volumes/${r}`) },
      { type: 'service', swarm: true, get: (r) => c.jsonWithRaw('GET', `/services/${r}`, { query: { insertDefaults: 'true' } }) },
      { type: 'task', swarm: true, get: (r) => c.jsonWithRaw('GET', `/tasks/${r}`) },
      { type: 'node', swarm: true, get: (r) => c.jsonWithRaw('GET', `/nodes/${r}`) },
      { type: 'plugin', get: (r) => c.jsonWithRaw('GET', `/plugins/${r}/json`) },
      { type: 'secret', swarm: true, get: (r) => c.jsonWithRaw('GET', `/secrets/${r}`) },
      { type: 'config', swarm: true, get: (r) => c.jsonWithRaw('GET', `/configs/${r}`) },
    ];
    const isSwarmManager = async () => {
      try {
        const info = await c.json<{ Swarm?: { ControlAvailable?: boolean } }>('GET', '/info');
        return Boolean(info.Swarm?.ControlAvailable);
      } catch (e) {
        cli.err.write((e as Error).message + '\n');
        return false;
      }
    };
    await inspectAll(cli, refs, f.format.value, async (ref) => {
      let swarm: boolean | undefined;
      for (const k of kinds) {
        if (type !== '' && k.type !== type) continue;
        if (type === '' && k.swarm) {
          swarm ??= await isSwarmManager();
          if (!swarm) continue;
        }
        try {
          const v = await k.get(ref);
          if (f.size.value && !k.size) cli.err.write(`WARNING: --size ignored for ${k.type}\n`);
          return v;
        } catch (e) {
          if (type === '' && skippable(e)) continue;
          throw e;
        }
      }
      throw new Error(`Error: No such object: ${ref}`);
    });
  },
};
