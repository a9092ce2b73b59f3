// GET /containers/{id}/top: as dockerd, the host's `ps` with the client's arguments, cut
// down to the rows of processes in the container's cgroup.
import { execFile } from 'node:child_process';
import type { ContainerEventSink, ContainerRecord } from './record.ts';
import { conflict, systemError } from '../util/errors.ts';

export interface TopResponse {
  Titles: string[];
  Processes: string[][];
}

export interface TopDeps {
  store: { get(ref: string): ContainerRecord };
  /** Pids in the container's cgroup (and its sub-groups). */
  pids(rec: ContainerRecord): Promise<number[]>;
  /** dockerd logs a `top` container event for each answered request. */
  events?: ContainerEventSink;
  /** The ps binary (default: "ps" on PATH). */
  ps?: string;
}

/** ps may be told to print another column under the title PID ("user=PID"): refused. */
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw systemError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Go's strings.Fields over ASCII white space only (ps pads with spaces; a command line may hold other runes). */
function fieldsAscii(s: string): string[] {
  return s.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

/** Keeps the rows whose PID is in `pids`; the last column takes the rest of the line
 * (a command with spaces), and "-" rows (threads) follow the process row before them. */
export function parsePsOutput(output: string, pids: readonly number[]): TopResponse {
  const lines = output.split('\n');
  const titles = fieldsAscii(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw systemError("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  const add = (fields: string[]) => {
    const head = fields.slice(0, titles.length - 1);
    processes.push([...head, fields.slice(titles.length - 1).join(' ')]);
  };
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const fields = fieldsAscii(line);
    const field = fields[pidIndex] ?? '';
    if (field === '-') {
      if (previousKept) add(fields);
      continue;
    }
    if (!/^[+-]?\d+$/.test(field)) throw systemError(`Unexpected pid '${field}': strconv.Atoi: parsing ${JSON.stringify(field)}: invalid syntax`);
    previousKept = wanted.has(Number(field));
    if (previousKept) add(fields);
  }
  return { Titles: titles, Processes: processes };
}

function runPs(ps: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    execFile(ps, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const first = stderr.split('\n')[0];
      const code = (err as { code?: unknown }).code;
      resolve({ ok: false, error: first || (typeof code === 'number' ? `exit status ${code}` : err.message) });
    });
  });
}

export async function containerTop(d: TopDeps, ref: string, psArgs = ''): Promise<TopResponse> {
  const argString = psArgs || '-ef';
  validatePsArgs(argString);
  const rec = d.store.get(ref);
  const status = rec.State.Status;
  if (status === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
  if (status !== 'running' && status !== 'paused') throw conflict(`container ${rec.Id} is not running`);
  const pids = await d.pids(rec);
  // dockerd's argument split: on single spaces, as given.
  const args = argString.split(' ');
  const ps = d.ps ?? 'ps';
  // procps's -q lists only these pids (fast on busy hosts); other ps get the full list.
  let out = await runPs(ps, [...args, `-q${pids.join(',')}`]);
  if (!out.ok) out = await runPs(ps, args);
  if (!out.ok) throw systemError(`ps: ${out.error}`);
  const result = parsePsOutput(out.stdout, pids);
  d.events?.('top', rec);
  return result;
}
