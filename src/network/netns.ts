// Running `ip` (and other tools) in the root or a container's network namespace.
// A namespace is named either by a path to its nsfs file (/proc/<pid>/ns/net, a
// bind mount) or by the name of an `ip netns` namespace (no slash).

import { execFile } from 'node:child_process';
import { systemError } from '../util/errors.ts';

export type NetnsRef = string;

export interface RunResult { stdout: string; stderr: string; code: number }

/** Runs a command with an argument array (never a shell); resolves with its exit code. */
export function runTool(cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') { reject(err); return; } // ENOENT etc.
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Like runTool but a non-zero exit is an error carrying the tool's stderr. */
export async function mustRun(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await runTool(cmd, args, input);
  if (r.code !== 0) throw systemError(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export function isNamedNetns(ns: NetnsRef): boolean {
  return !ns.includes('/');
}

/** argv prefix that runs a command inside `ns`. */
export function inNetns(ns: NetnsRef, cmd: string, args: readonly string[]): [string, string[]] {
  if (isNamedNetns(ns)) return ['ip', ['netns', 'exec', ns, cmd, ...args]];
  return ['nsenter', [`--net=${ns}`, cmd, ...args]];
}

/** `ip ARGS` inside `ns` (or the root namespace when ns is undefined). */
export function ip(args: readonly string[], ns?: NetnsRef): Promise<string> {
  if (ns === undefined) return mustRun('ip', args);
  if (isNamedNetns(ns)) return mustRun('ip', ['-n', ns, ...args]);
  const [cmd, argv] = inNetns(ns, 'ip', args);
  return mustRun(cmd, argv);
}

/** The value `ip link set DEV netns X` accepts for this namespace (iproute2 opens paths too). */
export function netnsTarget(ns: NetnsRef): string {
  const m = /^\/proc\/(\d+)\/ns\/net$/.exec(ns);
  return m ? m[1]! : ns;
}

export interface LinkInfo {
  ifname: string;
  ifalias?: string;
  address?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  master?: string;
}

export async function listLinks(ns?: NetnsRef): Promise<LinkInfo[]> {
  return JSON.parse((await ip(['-j', '-d', 'link', 'show'], ns)) || '[]') as LinkInfo[];
}

/** One link by name (undefined when there is none), without listing every veth on the host. */
export async function getLink(name: string, ns?: NetnsRef): Promise<LinkInfo | undefined> {
  let out: string;
  try {
    out = await ip(['-j', '-d', 'link', 'show', 'dev', name], ns);
  } catch {
    return undefined; // "Device does not exist"
  }
  return (JSON.parse(out || '[]') as LinkInfo[]).find((l) => l.ifname === name);
}

/** Creates a named netns (for tests and tools); ignores "exists". */
export async function addNamedNetns(name: string): Promise<void> {
  const r = await runTool('ip', ['netns', 'add', name]);
  if (r.code !== 0 && !/exist/i.test(r.stderr)) throw systemError(`ip netns add ${name}: ${r.stderr.trim()}`);
}

/** Deletes a named netns; a missing one is fine, so cleanup can be repeated. */
export async function deleteNamedNetns(name: string): Promise<void> {
  await runTool('ip', ['netns', 'delete', name]);
}
