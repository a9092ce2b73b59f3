// fetch() for https endpoints of insecure registries: dockerd does not verify their
// certificates (a self-signed registry listed in insecure-registries works over https);
// and for registries with their own CA or client certificate in certs.d. Node's fetch
// cannot take TLS settings per request, so this speaks node:https and
// answers with a standard Response. Redirects are followed; one to another origin goes
// through the ordinary (verifying) fetch without the Authorization header.
import { request } from 'node:https';
import type { TlsSettings } from './certs.ts';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const MAX_REDIRECTS = 10;

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

/** Whether url is on the endpoint base (same origin), for which tlsFetch applies. */
export function sameOrigin(url: string, base: string): boolean {
  return new URL(url).origin === new URL(base).origin;
}

export function tlsFetch(url: string, init: FetchInit = {}, hops = 0, tls: TlsSettings = { rejectUnauthorized: false }): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const method = init.method ?? 'GET';
    const req = request(url, { method, headers: init.headers, ...tls, signal: init.signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (location && [301, 302, 303, 307, 308].includes(status) && hops < MAX_REDIRECTS) {
        res.resume();
        const next = new URL(location, url).toString();
        const keepBody = status === 307 || status === 308;
        const nextInit: FetchInit = { ...init, method: keepBody ? method : method === 'HEAD' ? 'HEAD' : 'GET', body: keepBody ? init.body : undefined };
        if (sameOrigin(next, url)) {
          resolve(tlsFetch(next, nextInit, hops + 1, tls));
        } else {
          const headers = { ...init.headers };
          delete headers.Authorization;
          resolve(fetch(next, { method: nextInit.method, headers, signal: init.signal, redirect: 'follow' }));
        }
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      const empty = method === 'HEAD' || status === 204 || status === 304;
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage, headers }));
    });
    req.on('error', reject);
    const body = init.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(Readable.from(body), req).catch((err) => req.destroy(err));
  });
}
