// Matches a request to its handler, checks the credentials and the repository name, and
// turns any error into the spec's JSON error body. Names may hold slashes ("a/b/c"), so
// each route is matched from its fixed tail and the name is whatever precedes it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../../util/log.ts';
import type { BasicAuth } from './auth.ts';
import { deleteBlob, getBlob, headBlob } from './blob-routes.ts';
import type { Ctx, Handler } from './context.ts';
import { RegistryError, errorResponse, regError } from './errors.ts';
import { send } from './http.ts';
import { getBase, getCatalog, getReferrers, getTags } from './listing-routes.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifest-routes.ts';
import { assertRepositoryName } from './names.ts';
import type { Storage } from './storage.ts';
import { deleteUpload, getUpload, patchUpload, postUpload, putUpload } from './upload-routes.ts';
import type { Uploads } from './uploads.ts';

interface Route {
  re: RegExp;
  /** Whether the first group is a repository name. */
  named: boolean;
  methods: Record<string, Handler>;
}

const ROUTES: Route[] = [
  { re: /^\/v2\/?$/, named: false, methods: { GET: getBase, HEAD: getBase } },
  { re: /^\/v2\/_catalog$/, named: false, methods: { GET: getCatalog } },
  { re: /^\/v2\/(.+)\/tags\/list$/, named: true, methods: { GET: getTags } },
  { re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, named: true, methods: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deleteManifest } },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, named: true, methods: { POST: postUpload } },
  { re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, named: true, methods: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload } },
  { re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, named: true, methods: { GET: getBlob, HEAD: headBlob, DELETE: deleteBlob } },
  { re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, named: true, methods: { GET: getReferrers } },
];

export interface RegistryState {
  storage: Storage;
  uploads: Uploads;
  auth?: BasicAuth;
}

/** The route and path parts for a request; errors are the spec's (404 or 405 UNSUPPORTED). */
export function matchRoute(method: string, pathname: string): { handler: Handler; name: string; ref: string } {
  for (const route of ROUTES) {
    const m = route.re.exec(pathname);
    if (!m) continue;
    const handler = route.methods[method];
    if (!handler) throw regError('UNSUPPORTED', { method }, { message: `method ${method} not allowed`, headers: { Allow: Object.keys(route.methods).join(', ') } });
    const parts = m.slice(1).map((p) => decodeURIComponent(p));
    const name = route.named ? assertRepositoryName(parts[0]) : '';
    return { handler, name, ref: (route.named ? parts[1] : parts[0]) ?? '' };
  }
  throw regError('UNSUPPORTED', { path: pathname }, { status: 404, message: 'no such endpoint' });
}

export function createHandler(state: RegistryState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(state, req, res);
  };
}

async function handle(state: RegistryState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  const method = req.method ?? 'GET';
  try {
    const url = new URL(req.url ?? '/', 'http://registry');
    state.auth?.check(req.headers.authorization, req.socket.remoteAddress);
    let route;
    try {
      route = matchRoute(method, url.pathname);
    } catch (err) {
      if (err instanceof URIError) throw regError('NAME_INVALID', { path: url.pathname });
      throw err;
    }
    const ctx: Ctx = { req, res, url, name: route.name, ref: route.ref, storage: state.storage, uploads: state.uploads };
    await route.handler(ctx);
    log.debug('request', { method, path: url.pathname, status: res.statusCode });
  } catch (err) {
    // A client that hung up mid-body (an interrupted push) is routine, not a server error.
    const clientGone = req.destroyed && !req.complete;
    if (!(err instanceof RegistryError)) (clientGone ? log.debug : log.error)('request failed', { method, url: req.url, error: err });
    if (res.headersSent) {
      // Mid-body: the client can only learn of it by the connection ending early.
      res.destroy();
      return;
    }
    const e = errorResponse(err);
    send(res, e.status, { ...e.headers, 'Content-Type': 'application/json' }, e.body);
  }
}
