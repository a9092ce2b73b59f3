// The container process's command line and environment, as Docker derives them from
// the (image-merged) ContainerConfig.
import { posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import type { ContainerConfig } from './types.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function asList(v: string[] | string | null | undefined): string[] {
  if (v == null) return [];
  return typeof v === 'string' ? [v] : v;
}

/** Entrypoint ++ Cmd; Docker's `no command specified` when both are empty. */
export function processArgs(config: ContainerConfig): string[] {
  let entrypoint = asList(config.Entrypoint);
  // [""] is the API's way of saying "no entrypoint".
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const args = [...entrypoint, ...asList(config.Cmd)];
  if (args.length === 0) throw badParameter('no command specified');
  return args;
}

/**
 * Overrides replace same-named defaults in place or are appended; a later duplicate
 * wins; an entry without "=" removes the variable (Docker's ReplaceOrAppendEnvValues).
 */
export function mergeEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: Array<string | undefined> = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e!.split('=', 1)[0]!, i));
  for (const value of overrides) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    const at = index.get(key);
    if (eq < 0) {
      if (at !== undefined) out[at] = undefined;
      continue;
    }
    if (at !== undefined) {
      out[at] = value;
    } else {
      index.set(key, out.length);
      out.push(value);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

export function processEnv(config: ContainerConfig, hostname: string): string[] {
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (config.Tty) defaults.push('TERM=xterm');
  return mergeEnv(defaults, config.Env ?? []);
}

export function processCwd(config: ContainerConfig): string {
  const dir = config.WorkingDir ?? '';
  if (dir === '') return '/';
  if (!posix.isAbsolute(dir)) throw badParameter(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  return posix.normalize(dir);
}
