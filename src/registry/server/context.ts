// What a route handler gets: the request, the response, the parsed URL, the repository
// name from the path (validated) and the registry's state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Storage } from './storage.ts';
import type { Uploads } from './uploads.ts';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The repository name ("" for /v2/ and /v2/_catalog). */
  name: string;
  /** The path's last part: a digest, tag or upload id, where the route has one. */
  ref: string;
  storage: Storage;
  uploads: Uploads;
}

export type Handler = (ctx: Ctx) => Promise<void>;
