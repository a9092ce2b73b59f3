// A CLI command: its usage line, flags, argument rule and action, plus the cobra-style
// argument-count errors docker prints.
import { BIN, StatusError, type Cli } from './cli.ts';
import type { FlagSet } from './flags.ts';

/** Where a command sits and how it is shown: `path` is e.g. ["container", "ls"]. */
export interface Invocation {
  path: string[];
  /** The usage text after the command path, e.g. "[OPTIONS] IMAGE [COMMAND] [ARG...]". */
  use: string;
  short: string;
  /** The help's description, when not `short`. */
  long?: string;
  /** "Aliases:" line of the help. */
  aliases?: string;
}

export type ArgsRule = (inv: Invocation, args: string[]) => void;

export interface CommandDef<O = unknown> {
  /** Defines the flags; returns what run() receives. */
  flags(fs: FlagSet, inv: Invocation): O;
  args: ArgsRule;
  run(cli: Cli, opts: O, args: string[], fs: FlagSet, inv: Invocation): Promise<void>;
  /** Flags are not parsed after the first argument (run, create, exec, tag). */
  noInterspersed?: boolean;
  /** -h is a real flag (run/create --hostname), not help. */
  noHelpShorthand?: boolean;
}

export function commandPath(inv: Invocation): string {
  return [BIN, ...inv.path].join(' ');
}

export function useLine(inv: Invocation): string {
  return `${commandPath(inv)} ${inv.use}`.trimEnd();
}

function plural(word: string, n: number): string {
  return n === 1 ? word : word + 's';
}

export const noArgs: ArgsRule = (inv, args) => {
  if (args.length === 0) return;
  throw new StatusError(1, `${BIN}: '${commandPath(inv)}' accepts no arguments\n\nUsage:  ${useLine(inv)}\n\nRun '${commandPath(inv)} --help' for more information`);
};

export function minArgs(n: number): ArgsRule {
  return (inv, args) => {
    if (args.length >= n) return;
    throw new StatusError(1, `${BIN}: '${commandPath(inv)}' requires at least ${n} ${plural('argument', n)}\n\nUsage:  ${useLine(inv)}\n\nSee '${commandPath(inv)} --help' for more information`);
  };
}

export function maxArgs(n: number): ArgsRule {
  return (inv, args) => {
    if (args.length <= n) return;
    // "SRun" is docker's typo, kept for byte-identical output.
    throw new StatusError(1, `${BIN}: '${commandPath(inv)}' requires at most ${n} ${plural('argument', n)}\n\nUsage:  ${useLine(inv)}\n\nSRun '${commandPath(inv)} --help' for more information`);
  };
}

export function exactArgs(n: number): ArgsRule {
  return (inv, args) => {
    if (args.length === n) return;
    throw new StatusError(1, `${BIN}: '${commandPath(inv)}' requires ${n} ${plural('argument', n)}\n\nUsage:  ${useLine(inv)}\n\nRun '${commandPath(inv)} --help' for more information`);
  };
}

export function rangeArgs(min: number, max: number): ArgsRule {
  return (inv, args) => {
    if (args.length >= min && args.length <= max) return;
    throw new StatusError(1, `${BIN}: '${commandPath(inv)}' requires at least ${min} and at most ${max} ${plural('argument', max)}\n\nUsage:  ${useLine(inv)}\n\nRun '${commandPath(inv)} --help' for more information`);
  };
}

/** Runs operations on several names at once, reporting in argument order (docker's parallelOperation). */
export async function inParallel<T>(names: string[], op: (name: string) => Promise<T>): Promise<Array<{ name: string; ok: boolean; value?: T; error?: unknown }>> {
  return Promise.all(
    names.map(async (name) => {
      try {
        return { name, ok: true, value: await op(name) };
      } catch (error) {
        return { name, ok: false, error };
      }
    }),
  );
}

/**
 * Prints the name of each operation that succeeded, one a line, and throws the others' errors
 * joined; an error that `reportOnly` accepts goes to stderr and does not fail the command.
 */
export function reportByName(cli: Cli, results: Array<{ name: string; ok: boolean; error?: unknown }>, reportOnly: (error: unknown) => boolean = () => false): void {
  const errors: unknown[] = [];
  for (const r of results) {
    if (r.ok) cli.out.write(r.name + '\n');
    else if (reportOnly(r.error)) cli.err.write((r.error as Error).message + '\n');
    else errors.push(r.error);
  }
  const err = joinErrors(errors);
  if (err) throw err;
}

/** errors.Join: the messages, one a line; nothing when there are none. */
export function joinErrors(errors: unknown[]): Error | undefined {
  if (errors.length === 0) return undefined;
  return new Error(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'));
}
