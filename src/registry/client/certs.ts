// A registry's own certificates, as dockerd reads them from certs.d: under
// <dir>/<host[:port]>/, every *.crt is a CA trusted besides the system's, and each *.cert
// with the *.key of the same name is a client certificate. berth reads /etc/berth/certs.d,
// then /etc/docker/certs.d (where Docker users already keep them).
import { readdirSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';

export const CERTS_DIRS = ['/etc/berth/certs.d', '/etc/docker/certs.d'];

export interface TlsSettings {
  /** Trusted CAs: the system's and the registry's own. */
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
  /** Insecure registries: no verification at all (dockerd's behaviour). */
  rejectUnauthorized?: boolean;
}

/** The TLS settings certs.d gives host ("registry.example:5000"), or undefined when none. */
export function certsFor(host: string, dirs: readonly string[] = CERTS_DIRS): TlsSettings | undefined {
  for (const base of dirs) {
    const dir = join(base, host);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    const out: TlsSettings = {};
    const cas = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
    if (cas.length) out.ca = [...rootCertificates, ...cas];
    for (const n of names.filter((x) => x.endsWith('.cert'))) {
      const key = n.slice(0, -'.cert'.length) + '.key';
      // dockerd's error for a certificate without its key.
      if (!names.includes(key)) throw new Error(`missing key ${key} for client certificate ${n}. CA certificates must use the extension .crt`);
      out.cert = readFileSync(join(dir, n));
      out.key = readFileSync(join(dir, key));
      break;
    }
    if (out.ca || out.cert) return out;
  }
  return undefined;
}
