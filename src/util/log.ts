// The daemon's log: one line per event on stderr, filtered by --log-level.
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LEVELS)[number];

let threshold = LEVELS.indexOf('info');

export function setLogLevel(level: string): void {
  const i = LEVELS.indexOf(level as LogLevel);
  if (i < 0) throw new Error(`invalid log level: ${level}`);
  threshold = i;
}

function emit(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (LEVELS.indexOf(level) < threshold) return;
  let line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
  if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${JSON.stringify(v instanceof Error ? v.message : v)}`;
  process.stderr.write(line + '\n');
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => emit('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => emit('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => emit('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => emit('error', msg, fields),
};
