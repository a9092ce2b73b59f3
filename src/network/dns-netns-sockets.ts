// Sockets for the embedded DNS server bound inside another network namespace, handed
// back to the calling (daemon) process. Node cannot setns() itself, so a short-lived
// child is run under `ip netns exec`; it binds UDP+TCP on address:port in that netns and
// sends the handles over the Node IPC channel (the kernel keeps a socket in the netns
// it was created in, whoever holds it). The child then exits; the daemon serves with
//   new DnsServer({ resolver, scope, upstreams, udp, tcp })
// This file is both the library function and the child's entry point.
import dgram from 'node:dgram';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NetnsDnsSockets { udp: dgram.Socket; tcp: net.Server; port: number }

const CHILD_FLAG = '--berth-dns-bind-child';
const TIMEOUT_MS = 10_000;

/** netns: a name under /run/netns (as `ip netns` knows it). port 0 picks a free port. */
export function bindDnsSocketsInNetns(netns: string, address: string, port = 0): Promise<NetnsDnsSockets> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, self, CHILD_FLAG, address, String(port)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let udp: dgram.Socket | undefined;
    let tcp: net.Server | undefined;
    let boundPort = 0;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (err || !udp || !tcp) {
        udp?.close();
        tcp?.close();
        reject(err ?? new Error('dns socket helper sent no sockets'));
      } else resolve({ udp, tcp, port: boundPort });
    };
    const timer = setTimeout(() => finish(new Error('dns socket helper timed out')), TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => finish(err));
    child.on('message', (msg: unknown, handle: unknown) => {
      const m = msg as { kind?: string; port?: number };
      if (m.kind === 'udp' && handle instanceof dgram.Socket) udp = handle;
      else if (m.kind === 'tcp' && handle instanceof net.Server) tcp = handle;
      if (typeof m.port === 'number') boundPort = m.port;
      if (udp && tcp) finish();
    });
    child.on('exit', (code) => finish(new Error(`dns socket helper exited ${code}: ${stderr.trim()}`)));
  });
}

async function childMain(address: string, port: number): Promise<void> {
  const tcp = net.createServer();
  await new Promise<void>((r, j) => { tcp.once('error', j); tcp.listen({ host: address, port, exclusive: true }, () => r()); });
  const bound = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  await new Promise<void>((r, j) => { udp.once('error', j); udp.bind({ address, port: bound, exclusive: true }, () => r()); });
  const send = (kind: string, handle: dgram.Socket | net.Server) => new Promise<void>((r, j) => {
    process.send!({ kind, port: bound }, handle as net.Server, {}, (err) => (err ? j(err) : r()));
  });
  await send('udp', udp);
  await send('tcp', tcp);
  // stay until the parent has taken both handles (it kills us, or the channel closes)
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[2] === CHILD_FLAG && process.send) {
  childMain(process.argv[3]!, Number(process.argv[4])).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
