// Dockerfile instructions applied to an image config, as `docker import --change` and
// `docker commit --change` accept them (Docker's BuildFromConfig): CMD, ENTRYPOINT, ENV,
// EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR. Arguments are
// read as the Dockerfile parser reads them: JSON or shell form, quotes, backslash escapes
// and $VAR / ${VAR} / ${VAR:-default} / ${VAR:+alt} from the config's own Env.
import { posix } from 'node:path';
import { badParameter } from '../util/errors.ts';
import type { HealthConfig, ImageRuntimeConfig } from './types.ts';
import { parseGoDuration } from './filters.ts';

const VALID = new Set(['cmd', 'entrypoint', 'env', 'expose', 'healthcheck', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

type Env = Map<string, string>;

function envMap(list: readonly string[] | null | undefined): Env {
  const m: Env = new Map();
  for (const e of list ?? []) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** Expands one variable reference starting after '$' at s[i]; returns the text and the next index. */
function expandVar(s: string, i: number, env: Env): { text: string; next: number } {
  if (s[i] === '{') {
    const close = s.indexOf('}', i);
    if (close < 0) throw badParameter(`missing '}' in ${JSON.stringify(s)}`);
    const body = s.slice(i + 1, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])(.*))?$/s.exec(body);
    if (!m) throw badParameter(`bad substitution: \${${body}}`);
    const [, name, op, word = ''] = m;
    const set = env.has(name);
    const val = env.get(name) ?? '';
    const word2 = () => processWord(word, env);
    let text = val;
    if (op === ':-') text = val !== '' ? val : word2();
    else if (op === '-') text = set ? val : word2();
    else if (op === ':+') text = val !== '' ? word2() : '';
    else if (op === '+') text = set ? word2() : '';
    else if (op === ':?' || op === '?') {
      if (op === ':?' ? val === '' : !set) throw badParameter(`${name}: ${word || 'is not allowed to be unset'}`);
    }
    return { text, next: close + 1 };
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
  if (!m) return { text: '$', next: i };
  return { text: env.get(m[0]) ?? '', next: i + m[0].length };
}

/** Shell-like word processing: quotes removed, escapes and variables resolved; split on unquoted blanks when split is set. */
function lex(s: string, env: Env, split: boolean): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (split && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw badParameter(`unexpected end of statement while looking for matching single-quote`);
      cur += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw badParameter(`unexpected end of statement while looking for matching double-quote`);
        const d = s[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '"\\$'.includes(s[i + 1])) {
          cur += s[i + 1];
          i += 2;
        } else if (d === '$') {
          const r = expandVar(s, i + 1, env);
          cur += r.text;
          i = r.next;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\') {
      if (i + 1 < s.length) cur += s[i + 1];
      i += 2;
    } else if (c === '$') {
      const r = expandVar(s, i + 1, env);
      cur += r.text;
      i = r.next;
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function processWord(s: string, env: Env): string {
  return lex(s, env, false).join('');
}

/** Splits on unquoted blanks keeping quotes and escapes as written (the parser's first pass). */
function rawWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = '';
    } else if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = '';
    } else {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i];
      else if (c === '"' || c === "'") quote = c;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** JSON array of strings, or undefined for the shell form. */
function jsonForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: the shell form
  }
  return undefined;
}

function commandForm(rest: string): string[] {
  return jsonForm(rest) ?? ['/bin/sh', '-c', rest];
}

/** KEY=VALUE pairs (or the legacy "KEY VALUE" form) of ENV and LABEL. */
function nameValues(cmd: string, rest: string, env: Env): [string, string][] {
  const words = rawWords(rest);
  if (words.length === 0) throw badParameter(`${cmd.toUpperCase()} requires at least one argument`);
  if (!words[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw badParameter(`${cmd.toUpperCase()} must have two arguments`);
    return [[processWord(m[1], env), processWord(m[2], env)]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) throw badParameter(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    const key = processWord(w.slice(0, i), env);
    if (!key) throw badParameter(`${cmd.toUpperCase()} names can not be blank`);
    return [key, processWord(w.slice(i + 1), env)];
  });
}

function exposedPorts(specs: string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
    if (!m) throw badParameter(`Invalid containerPort: ${spec}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < 0 || hi > 65535 || hi < lo) throw badParameter(`Invalid containerPort: ${spec}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${(m[3] ?? 'tcp').toLowerCase()}`);
  }
  return out;
}

function healthcheck(rest: string): HealthConfig {
  let s = rest.trim();
  const hc: HealthConfig = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(s);
    if (!m) break;
    s = s.slice(m[0].length);
    const [, flag, value] = m;
    if (flag === 'retries') {
      if (!/^\d+$/.test(value)) throw badParameter(`invalid value for --retries: ${value}`);
      hc.Retries = Number(value);
      continue;
    }
    const keys: Record<string, keyof HealthConfig> = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval' };
    const key = keys[flag];
    if (!key) throw badParameter(`Unknown flag: ${flag}`);
    const ns = parseGoDuration(value);
    if (ns === undefined || ns < 0) throw badParameter(`invalid duration ${JSON.stringify(value)} for --${flag}`);
    (hc as Record<string, number>)[key] = ns;
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(s);
  const kind = m?.[1].toUpperCase();
  if (kind === 'NONE') {
    if (m![2].trim()) throw badParameter('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw badParameter(`Unknown type "${m?.[1] ?? ''}" in HEALTHCHECK (try CMD)`);
  const json = jsonForm(m![2]);
  hc.Test = json ? ['CMD', ...json] : ['CMD-SHELL', m![2]];
  return hc;
}

/** Joins continuation lines (a trailing backslash) and drops blank and comment lines. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let acc = '';
  for (const line of text.split('\n')) {
    if (acc === '' && /^\s*(#.*)?$/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      acc += line.replace(/\\\s*$/, '');
      continue;
    }
    out.push(acc + line);
    acc = '';
  }
  if (acc.trim()) out.push(acc);
  return out;
}

/** Applies change instructions to a copy of config (import starts from an empty one). */
export function applyChanges(changes: readonly string[], base: ImageRuntimeConfig = {}): ImageRuntimeConfig {
  const c: ImageRuntimeConfig = structuredClone(base);
  let cmdSet = false;
  for (const line of logicalLines(changes.join('\n'))) {
    const m = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(line)!;
    const cmd = m[1].toLowerCase();
    const rest = m[2];
    if (!VALID.has(cmd)) throw badParameter(`${cmd} is not a valid change command`);
    const env = envMap(c.Env);
    switch (cmd) {
      case 'cmd':
        c.Cmd = commandForm(rest);
        cmdSet = true;
        break;
      case 'entrypoint':
        c.Entrypoint = commandForm(rest);
        // As in a Dockerfile, a new ENTRYPOINT drops an inherited CMD.
        if (!cmdSet) c.Cmd = null;
        break;
      case 'env': {
        const list = [...(c.Env ?? [])];
        for (const [k, v] of nameValues(cmd, rest, env)) {
          const i = list.findIndex((e) => e === k || e.startsWith(`${k}=`));
          if (i >= 0) list[i] = `${k}=${v}`;
          else list.push(`${k}=${v}`);
          env.set(k, v);
        }
        c.Env = list;
        break;
      }
      case 'label': {
        const labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of nameValues(cmd, rest, env)) labels[k] = v;
        c.Labels = labels;
        break;
      }
      case 'expose': {
        const words = lex(rest, env, true);
        if (words.length === 0) throw badParameter('EXPOSE requires at least one argument');
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of exposedPorts(words)) ports[p] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'user':
        c.User = processWord(rest, env);
        break;
      case 'workdir': {
        const dir = processWord(rest, env);
        if (!dir) throw badParameter('WORKDIR requires exactly one argument');
        c.WorkingDir = posix.isAbsolute(dir) ? posix.normalize(dir) : posix.join('/', c.WorkingDir ?? '', dir);
        break;
      }
      case 'volume': {
        const list = jsonForm(rest) ?? lex(rest, env, true);
        if (list.length === 0) throw badParameter('VOLUME requires at least one argument');
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of list) {
          const t = v.trim();
          if (!t) throw badParameter('VOLUME specified can not be an empty string');
          vols[t] = {};
        }
        c.Volumes = vols;
        break;
      }
      case 'stopsignal': {
        const sig = processWord(rest, env);
        if (!/^(?:\d+|(?:SIG)?[A-Z][A-Z0-9+-]*)$/i.test(sig)) throw badParameter(`Invalid signal: ${sig}`);
        c.StopSignal = sig;
        break;
      }
      case 'onbuild': {
        const trigger = /^(\S+)/.exec(rest)?.[1].toUpperCase();
        if (!trigger) throw badParameter('ONBUILD requires at least one argument');
        if (trigger === 'ONBUILD') throw badParameter("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw badParameter(`${trigger} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), rest];
        break;
      }
      case 'healthcheck':
        c.Healthcheck = healthcheck(rest);
        break;
    }
  }
  return c;
}
