// Signal names as Docker accepts them (--stop-signal, kill -s): "TERM", "SIGTERM",
// "sigterm", "15", and the real-time forms "RTMIN+3" / "RTMAX-1". Linux numbering.
import { badParameter } from '../util/errors.ts';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

const BY_NAME: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9,
  USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17,
  CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
  RTMIN: SIGRTMIN, RTMAX: SIGRTMAX,
};

// Preferred name per number (aliases such as IOT, CLD, POLL lose to the common name).
const BY_NUMBER = new Map<number, string>();
for (const [name, n] of Object.entries(BY_NAME)) if (!BY_NUMBER.has(n)) BY_NUMBER.set(n, name);

function invalid(raw: string): Error {
  return badParameter(`Invalid signal: ${raw}`);
}

export function parseSignal(raw: string): number {
  const s = raw.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > SIGRTMAX) throw invalid(raw);
    return n;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  const known = BY_NAME[name];
  if (known !== undefined) return known;
  const rt = /^RT(MIN|MAX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const offset = Number(rt[3]);
    const n = rt[1] === 'MIN' ? (rt[2] === '+' ? SIGRTMIN + offset : NaN) : rt[2] === '-' ? SIGRTMAX - offset : NaN;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw invalid(raw);
}

/** "SIGTERM" for 15; real-time signals as SIGRTMIN+n; unknown numbers as their decimal. */
export function signalName(n: number): string {
  const name = BY_NUMBER.get(n);
  if (name) return 'SIG' + name;
  if (n > SIGRTMIN && n < SIGRTMAX) return `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}
