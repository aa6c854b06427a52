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
const BEARER = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72];

/**
 * What {@link readBearerToken} would read, without scanning the token's characters: one
 * `Authorization` header `Bearer <token>` (scheme in any case), no credential in the query. For a
 * caller that checks every character of the token anyway — the JWT verifier refuses anything that is
 * not a compact JWS, and answers a repeated token by comparing it whole — so that the common case
 * reads the token once. When the verification fails, {@link readBearerToken} names the reason.
 */
export function bearerCandidate(request: AuthorizerRequest): string | undefined {
  if (request.query.size > 0 && credentialInQuery(request)) return undefined;
  const values = request.headers.get('authorization');
  if (values === undefined || values.length !== 1) return undefined;
  const value = (values[0] as string).trim();
  if (value.length < 8 || value.length > MAX_CREDENTIAL_LENGTH || value.charCodeAt(6) !== 0x20)
    return undefined;
  // ASCII case-insensitive: setting the 0x20 bit turns only `B` into `b`, `E` into `e`, and so on.
  for (let i = 0; i < 6; i++) if ((value.charCodeAt(i) | 0x20) !== BEARER[i]) return undefined;
  let start = 7;
  while (value.charCodeAt(start) === 0x20) start++;
  return value.slice(start);
}

/** How an access token was presented: `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1). */
export type AccessTokenScheme = 'Bearer' | 'DPoP';

/** An access token and the scheme it came with. */
export interface PresentedAccessToken {
  readonly scheme: AccessTokenScheme;
  readonly token: string;
}

/**
 * The access token: exactly one `Authorization` header, scheme `Bearer` or `DPoP` (any case, RFC
 * 9110 §11.1), one space-separated JWT in compact form, and no credential in the query string.
 * Whether the DPoP scheme may be used is decided later, per issuer (docs/sender-constrained-tokens.md).
 */
export function readAccessToken(request: AuthorizerRequest): CredentialResult<PresentedAccessToken> {
  if (credentialInQuery(request)) return { ok: false, reason: 'credential_in_query' };
  const header = singleHeader(request, 'authorization');
  if (!header.ok) return header;
  const match = /^([A-Za-z]+) +(\S+)$/.exec(header.value.trim());
  if (match === null) return { ok: false, reason: 'credential_malformed' };
  const scheme = (match[1] as string).toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') return { ok: false, reason: 'credential_scheme' };
  const token = match[2] as string;
  if (!JWT_SHAPE.test(token)) return { ok: false, reason: 'credential_malformed' };
  return { ok: true, value: { scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token } };
}

/**
 * The bearer token (RFC 6750): exactly one `Authorization` header, scheme `Bearer` in any case,
 * one space-separated JWT in compact form, and no credential in the query string.
 */
export function readBearerToken(request: AuthorizerRequest): CredentialResult<string> {
  const read = readAccessToken(request);
  if (!read.ok) return read;
  if (read.value.scheme !== 'Bearer') return { ok: false, reason: 'credential_scheme' };
  return { ok: true, value: read.value.token };
}
