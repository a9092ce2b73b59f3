// Parsers for the cgroup file formats (single values, "key value" lists, blkio tables,
// io.stat) and readers that treat a missing file as absent, as containerd's do.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../util/native.ts';
import type { BlkioEntry, IoStatEntry } from './types.ts';

export const MAX_UINT64 = (1n << 64n) - 1n;

function toU64(s: string): bigint | undefined {
  return /^\d+$/.test(s) ? BigInt(s) : undefined;
}

/** A single-value file: a number, or "max" (v1 readers report it as 0, v2 as 2^64-1). */
export function parseU64(text: string, max: bigint): bigint {
  const s = text.trim();
  if (s === 'max') return max;
  return toU64(s) ?? 0n;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
export function parseKeyValues(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) continue;
    const v = toU64(parts[1]!);
    if (v !== undefined) out.set(parts[0]!, v);
  }
  return out;
}

/** Space-separated numbers (cpuacct.usage_percpu). */
export function parseU64List(text: string): bigint[] {
  return text.trim().split(/\s+/).filter((s) => s !== '').map((s) => toU64(s) ?? 0n);
}

/** A v1 blkio table: "MAJ:MIN Op value" (or "MAJ:MIN value"); the "Total n" line is skipped. */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(/[ :]+/).filter((s) => s !== '');
    if (f.length < 3) continue;
    const major = toU64(f[0]!);
    const minor = toU64(f[1]!);
    const op = f.length === 4 ? f[2]! : '';
    const value = toU64(f[f.length === 4 ? 3 : 2]!);
    if (major === undefined || minor === undefined || value === undefined) continue;
    out.push({ major, minor, op, value });
  }
  return out;
}

/** v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..". */
export function parseIoStat(text: string): IoStatEntry[] {
  const out: IoStatEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const e: IoStatEntry = { major: BigInt(m[1]!), minor: BigInt(m[2]!), rbytes: 0n, wbytes: 0n, rios: 0n, wios: 0n };
    for (const p of pairs) {
      const [k, v] = p.split('=');
      const n = toU64(v ?? '');
      if (n === undefined) continue;
      if (k === 'rbytes' || k === 'wbytes' || k === 'rios' || k === 'wios') e[k] = n;
    }
    out.push(e);
  }
  return out;
}

/** A file's text, or undefined when it (or its directory) does not exist. */
export async function readOptional(dir: string, name: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(join(dir, name), 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT', 'ENOTDIR', 'ENODEV')) return undefined;
    throw err;
  }
}

export async function dirExists(dir: string): Promise<boolean> {
  try {
    return (await fsp.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
