// -f/--filter name=value flags, collected as docker's filters.Args (a set of values per name).
import { CustomFlag, type FlagSet } from '../flags.ts';

export type Filters = Map<string, string[]>;

export function addFilter(filters: Filters, value: string): Filters {
  if (value === '') return filters;
  const eq = value.indexOf('=');
  if (eq < 0) throw new Error('bad format of filter (expected name=value)');
  const name = value.slice(0, eq).trim().toLowerCase();
  const val = value.slice(eq + 1).trim();
  const list = filters.get(name) ?? [];
  if (!list.includes(val)) list.push(val);
  filters.set(name, list);
  return filters;
}

export function filterFlag(fs: FlagSet, short: string | undefined, usage: string): CustomFlag<Filters> {
  return fs.add(new CustomFlag<Filters>('filter', short, usage, 'filter', new Map(), (v, cur) => addFilter(cur, v)));
}
