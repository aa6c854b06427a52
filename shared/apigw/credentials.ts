import { type AuthorizerRequest, headerValues } from './authorizer-request.ts';

/** Why no usable credential was found in the request (401). */
export type CredentialProblem =
  | 'credential_missing'
  | 'credential_multiple'
  | 'credential_scheme'
  | 'credential_malformed'
  | 'credential_in_query';

export type CredentialResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: CredentialProblem };

/** The longest credential header value read at all: anything longer is refused unparsed. */
export const MAX_CREDENTIAL_LENGTH = 8192;

/** Query parameters under which clients (wrongly) send credentials; their presence alone is a 401. */
export const CREDENTIAL_QUERY_NAMES: ReadonlySet<string> = new Set([
  'access_token',
  'id_token',
  'token',
  'jwt',
  'authorization',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'key',
]);

/** Refuses credentials in the query string: they end up in logs, browser history and referrers. */
export function credentialInQuery(request: AuthorizerRequest): boolean {
  for (const name of request.query.keys()) if (CREDENTIAL_QUERY_NAMES.has(name)) return true;
  return false;
}

/** The single value of a header, or why there is not exactly one. */
export function singleHeader(request: AuthorizerRequest, name: string): CredentialResult<string> {
  const values = headerValues(request, name);
  if (values.length === 0 || (values.length === 1 && values[0]?.trim() === ''))
    return { ok: false, reason: 'credential_missing' };
  if (values.length > 1) return { ok: false, reason: 'credential_multiple' };
  const value = values[0] as string;
  if (value.length > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'credential_malformed' };
  return { ok: true, value };
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// The usual header in one regex (scheme `Bearer` in any case, one compact JWS); anything else takes
// the step-by-step path below, which names the reason.
const BEARER_JWT = /^\s*[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/;

/**
 * The bearer token (RFC 6750): exactly one `Authorization` header, scheme `Bearer` in any case,
 * one space-separated JWT in compact form, and no credential in the query string.
 */
export function readBearerToken(request: AuthorizerRequest): CredentialResult<string> {
  if (credentialInQuery(request)) return { ok: false, reason: 'credential_in_query' };
  const header = singleHeader(request, 'authorization');
  if (!header.ok) return header;
  const usual = BEARER_JWT.exec(header.value);
  if (usual !== null) return { ok: true, value: usual[1] as string };
  const match = /^([A-Za-z]+) +(\S+)$/.exec(header.value.trim());
  if (match === null) return { ok: false, reason: 'credential_malformed' };
  if ((match[1] as string).toLowerCase() !== 'bearer') return { ok: false, reason: 'credential_scheme' };
  const token = match[2] as string;
  if (!JWT_SHAPE.test(token)) return { ok: false, reason: 'credential_malformed' };
  return { ok: true, value: token };
}
