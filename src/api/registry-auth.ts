// The X-Registry-Auth header: base64url (or standard base64) JSON of an AuthConfig, sent
// by clients with pull and push. As dockerd, an unreadable header counts as no credentials.
import type { AuthConfig } from '../registry/client/types.ts';

export const REGISTRY_AUTH_HEADER = 'x-registry-auth';

export function decodeRegistryAuth(header: string | string[] | undefined): AuthConfig | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  try {
    const json = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const out: AuthConfig = {};
    for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
      const v = (json as Record<string, unknown>)[k];
      if (typeof v === 'string' && v !== '') out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  } catch {
    return undefined;
  }
}
