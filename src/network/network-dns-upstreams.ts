// Where the per-network DNS forwards names it does not know: the host's resolvers.
// Unlike a server inside a container's netns, ours runs in the host namespace, so
// loopback nameservers (systemd-resolved's 127.0.0.53, a local dnsmasq) are reachable
// and kept. The file is re-read when it changes (checked at most once a second).
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import type { Upstream } from './dns-upstream.ts';

export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const address = m[1]!.replace(/%.*$/, ''); // an IPv6 zone cannot be used without its interface
    if (net.isIP(address) !== 0) out.push({ address, port: 53 });
  }
  return out;
}

/** A function returning the host's nameservers, cached and refreshed when the file changes. */
export function hostUpstreams(path = '/etc/resolv.conf'): () => Upstream[] {
  let cached: Upstream[] = [];
  let stamp = '';
  let checkedAt = -Infinity;
  return () => {
    const now = performance.now();
    if (now - checkedAt < 1000) return cached;
    checkedAt = now;
    try {
      const st = statSync(path);
      const s = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (s !== stamp) {
        cached = parseResolvConf(readFileSync(path, 'utf8'));
        stamp = s;
      }
    } catch {
      cached = [];
      stamp = '';
    }
    return cached;
  };
}
