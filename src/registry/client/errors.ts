// Registry errors. A registry answers failures with {"errors":[{"code","message","detail"}]}
// (OCI distribution spec); dockerd prints an error as "<code, lower case, _ as space>: <message>",
// e.g. "manifest unknown: manifest unknown", "unauthorized: authentication required", and
// wraps the ones a pull can explain.
import { EngineError } from '../../util/errors.ts';

/** The default message of each registry error code (distribution's errcode tables), for bodies that omit one. */
const CODE_MESSAGE: Record<string, string> = {
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_BLOB_UNKNOWN: 'blob unknown to registry',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_UNVERIFIED: 'manifest failed signature verification',
  NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository name not known to registry',
  SIZE_INVALID: 'provided length did not match content length',
  TAG_INVALID: 'manifest tag did not match URI',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNSUPPORTED: 'The operation is unsupported.',
  TOOMANYREQUESTS: 'too many requests',
  UNKNOWN: 'unknown error',
};

export interface RegistryErrorItem {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryError extends EngineError {
  /** The HTTP status the registry answered. */
  readonly httpStatus: number;
  readonly errors: RegistryErrorItem[];
  /** Set when a 401 carried an insufficient_scope challenge (token auth, scope not granted). */
  insufficientScope = false;
  constructor(httpStatus: number, errors: RegistryErrorItem[], message?: string) {
    super(engineStatus(httpStatus), message ?? formatErrors(errors));
    this.httpStatus = httpStatus;
    this.errors = errors;
  }
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

function engineStatus(http: number): number {
  if (http === 401) return 401;
  if (http === 403) return 403;
  if (http === 404) return 404;
  if (http === 429) return 429;
  return 500;
}

/** One error as dockerd prints it: "manifest unknown: manifest unknown", "denied: requested access to the resource is denied". */
export function formatError(e: RegistryErrorItem): string {
  const code = String(e.code ?? 'UNKNOWN').toUpperCase();
  return `${code.toLowerCase().replace(/_/g, ' ')}: ${e.message || CODE_MESSAGE[code] || 'unknown error'}`;
}

export function formatErrors(errors: RegistryErrorItem[]): string {
  if (errors.length === 0) return 'unknown error';
  if (errors.length === 1) return formatError(errors[0]);
  return 'errors:\n' + errors.map(formatError).join('\n');
}

/** Turns a failed registry response (its status and body text) into a RegistryError. */
export function parseErrorResponse(status: number, body: string): RegistryError {
  let errors: RegistryErrorItem[] | undefined;
  try {
    const j = JSON.parse(body) as { errors?: RegistryErrorItem[]; details?: string };
    if (Array.isArray(j.errors) && j.errors.length > 0) errors = j.errors.filter((e) => e && typeof e.code === 'string');
    else if (typeof j.details === 'string') errors = [{ code: status === 401 ? 'UNAUTHORIZED' : 'UNKNOWN', message: j.details }];
  } catch {
    // not JSON: handled below
  }
  if (errors && errors.length > 0) return new RegistryError(status, errors);
  const text = body.trim();
  if (status === 401) return new RegistryError(status, [{ code: 'UNAUTHORIZED', message: text || 'authentication required' }]);
  if (status === 403) return new RegistryError(status, [{ code: 'DENIED', message: text || 'requested access to the resource is denied' }]);
  if (status === 404) return new RegistryError(status, [{ code: 'NOT_FOUND' }], text ? `not found: ${text}` : 'not found');
  if (status === 429) return new RegistryError(status, [{ code: 'TOOMANYREQUESTS', message: text || 'too many requests' }]);
  return new RegistryError(status, [{ code: 'UNKNOWN' }], `received unexpected HTTP status: ${status}${text ? ` (${text.slice(0, 200)})` : ''}`);
}

/**
 * The message dockerd gives for a failed pull of ref (familiar name, "busybox:latest" or
 * "host:5000/x@sha256:…"): denied → pull access denied, unknown manifest/repository → not found.
 */
export function pullErrorMessage(err: unknown, familiarName: string, familiarRef: string): string {
  if (err instanceof RegistryError) {
    const first = err.errors[0];
    // dockerd explains the first error of a list (translatePullError).
    const cause = first && err.errors.length > 1 ? formatError(first) : err.message;
    switch (first?.code) {
      case 'DENIED':
        return `pull access denied for ${familiarName}, repository does not exist or may require 'docker login': ${cause}`;
      case 'MANIFEST_UNKNOWN':
        return `manifest for ${familiarRef} not found: ${cause}`;
      case 'NAME_UNKNOWN':
        return `repository ${familiarName} not found: ${cause}`;
    }
    return err.message;
  }
  return (err as Error)?.message ?? String(err);
}

/** OpenSSL's verdicts that Go words as "certificate signed by unknown authority". */
const UNKNOWN_AUTHORITY = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/** "Get \"url\": reason", as Go's net/http reports a failed request (dockerd prints these). */
export function networkError(method: string, url: string, err: unknown): Error {
  // fetch() puts the system error in cause; node:https throws it directly.
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause ?? e;
  let reason = cause?.message ?? String(err);
  if (cause?.code === 'ECONNREFUSED') reason = `dial tcp ${new URL(url).host}: connect: connection refused`;
  if (cause?.code && UNKNOWN_AUTHORITY.has(cause.code)) reason = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  const verb = method[0] + method.slice(1).toLowerCase();
  return new RegistryError(500, [{ code: 'UNKNOWN' }], `${verb} "${url}": ${reason}`);
}
