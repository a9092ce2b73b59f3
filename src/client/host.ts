// Where the daemon listens: -H/--host, else DOCKER_HOST, else berth's default socket.
// Accepts unix:///path, tcp://host:port (port 2375 by default), or a bare socket path.

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type DaemonAddress =
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

export function parseHost(raw: string): DaemonAddress {
  const s = raw.trim();
  if (s.startsWith('unix://')) {
    const path = s.slice('unix://'.length);
    if (!path) throw new Error(`invalid bind address (${raw}): empty unix socket path`);
    return { kind: 'unix', path, url: `unix://${path}` };
  }
  if (s.startsWith('/')) return { kind: 'unix', path: s, url: `unix://${s}` };
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(s);
  if (m) {
    const host = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
    const port = m[2] ? Number(m[2]) : 2375;
    return { kind: 'tcp', host, port, url: `tcp://${m[1] || '127.0.0.1'}:${port}` };
  }
  throw new Error(`Invalid bind address format: ${raw}`);
}

/** The host to use: the last -H given, else DOCKER_HOST, else the default. */
export function resolveHost(flags: string[], env: NodeJS.ProcessEnv = process.env): DaemonAddress {
  if (flags.length > 1) throw new Error('Specify only one -H');
  const raw = flags[0] ?? (env.DOCKER_HOST || DEFAULT_HOST);
  return parseHost(raw);
}
