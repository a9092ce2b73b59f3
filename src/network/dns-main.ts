// Process entry point for the embedded DNS server, for running it inside a container's
// network namespace: `ip netns exec <ns> node dns-main.ts --listen 127.0.0.11:0 --records FILE`.
// FILE is JSON {"names": {"web": ["10.0.0.2"]}, "upstreams": ["10.1.2.3:53"]}, re-read on SIGHUP
// (the daemon rewrites it atomically when containers join/leave). Once listening, the
// bound port is printed on stdout as `listening <address> <port>` so the caller can add
// its port-53 redirect. SIGTERM/SIGINT close the sockets and exit.
import { readFileSync } from 'node:fs';
import { DnsServer } from './dns-server.ts';
import type { DnsResolver } from './dns-server.ts';
import { upstreamsFromResolvConf } from './dns-upstream.ts';
import type { Upstream } from './dns-upstream.ts';
import { canonicalName } from './dns-codec.ts';

interface RecordsFile { names?: Record<string, string[]>; upstreams?: string[] }

function parseHostPort(s: string, defPort: number): Upstream {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s.includes('.') || s.startsWith('[') ? s : `[${s}]`);
  if (!m) throw new Error(`bad address: ${s}`);
  return { address: m[1]!, port: m[2] ? Number(m[2]) : defPort };
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (flag: string) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
  const listen = parseHostPort(arg('--listen') ?? '127.0.0.11:0', 0);
  const recordsPath = arg('--records');
  let names = new Map<string, string[]>();
  let reverse = new Map<string, string>();
  const upstreams: Upstream[] = [];
  const load = () => {
    const data: RecordsFile = recordsPath ? JSON.parse(readFileSync(recordsPath, 'utf8')) as RecordsFile : {};
    names = new Map(Object.entries(data.names ?? {}).map(([k, v]) => [canonicalName(k), v]));
    reverse = new Map();
    for (const [n, ips] of names) for (const ip of ips) if (!reverse.has(ip)) reverse.set(ip, n);
    const ups = data.upstreams ? data.upstreams.map((u) => parseHostPort(u, 53)) : upstreamsFromResolvConf();
    upstreams.splice(0, upstreams.length, ...ups);
  };
  load();
  const resolver: DnsResolver = {
    lookup: (_scope, name) => names.get(name) ?? [],
    reverse: (_scope, ip) => { const n = reverse.get(ip); return n ? [n] : []; },
  };
  const server = new DnsServer({ resolver, upstreams });
  process.on('SIGHUP', () => { try { load(); } catch (err) { process.stderr.write(`dns: reload failed: ${String(err)}\n`); } });
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.listen(listen.address, listen.port).then(({ udpPort }) => {
    process.stdout.write(`listening ${listen.address} ${udpPort}\n`);
  }, (err: unknown) => {
    process.stderr.write(`dns: ${String(err)}\n`);
    process.exit(1);
  });
}

main();
