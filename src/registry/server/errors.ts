// The OCI Distribution error codes and the HTTP status each one is sent with. Handlers
// throw RegistryError; the router turns it into {"errors":[{code,message,detail}]}.
// Anything else thrown is a bug or an I/O failure and becomes a 500 UNKNOWN.

export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Not in the spec's table, but distribution's own code for a bad ?n=.
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers (a 416's Range, a 401's challenge). */
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, detail?: unknown, opts: { message?: string; status?: number; headers?: Record<string, string> } = {}) {
    super(opts.message ?? ERROR_CODES[code].message);
    this.code = code;
    this.status = opts.status ?? ERROR_CODES[code].status;
    this.detail = detail;
    this.headers = opts.headers ?? {};
  }
}

export const regError = (code: ErrorCode, detail?: unknown, opts?: { message?: string; status?: number; headers?: Record<string, string> }) => new RegistryError(code, detail, opts);

/** The status and JSON body for any thrown value. */
export function errorResponse(err: unknown): { status: number; headers: Record<string, string>; body: string } {
  const e = err instanceof RegistryError ? err : new RegistryError('UNKNOWN', undefined, { message: err instanceof Error ? err.message : String(err) });
  const entry: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.detail !== undefined) entry.detail = e.detail;
  return { status: e.status, headers: e.headers, body: JSON.stringify({ errors: [entry] }) };
}
