/**
 * HMAC-SHA-256 request signatures, so the backend can refuse requests that did not come through the
 * gateway. The string to sign binds the time, the exact target, the caller identity headers, every
 * header parameter the operation declares and the body; docs/request-validator.md describes
 * verification step by step.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Header names (lower-case, as sent). */
export const SIGNATURE_HEADERS = {
  timestamp: 'x-gatehouse-timestamp',
  signature: 'x-gatehouse-signature',
  contentSha256: 'x-gatehouse-content-sha256',
  client: 'x-gatehouse-client',
  principal: 'x-gatehouse-principal',
  scopes: 'x-gatehouse-scopes',
  signedHeaders: 'x-gatehouse-signed-headers',
} as const;

/** The version prefix of `x-gatehouse-signature` values this module writes and verifies. */
export const SIGNATURE_VERSION = 'v2';

/** What the signature covers. Path and query exactly as sent on the wire (percent-encoded). */
export interface SignedParts {
  /** Unix time in seconds. */
  readonly timestamp: number;
  readonly method: string;
  readonly path: string;
  /** Query string without `?` (empty when none). */
  readonly query: string;
  /** Identity header values exactly as sent. */
  readonly client: string;
  readonly principal: string;
  readonly scopes: string;
  /**
   * Signed headers: lower-case names, sorted, each once, with their values exactly as sent (the
   * declared header parameters of the operation that the request carries).
   */
  readonly headers: readonly (readonly [string, string])[];
  /** The body bytes as sent (empty when none). */
  readonly body: Uint8Array | string;
}

/** Hex SHA-256 of the body. */
export function contentSha256(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The value of `x-gatehouse-signed-headers`: the signed header names joined by `;`. */
export function signedHeaderList(headers: SignedParts['headers']): string {
  return headers.map(([name]) => name).join(';');
}

/**
 * The canonical string to sign: fields joined by `\n` (none can contain a newline: header values
 * are RFC 9110 field values, names are tokens). The list of signed names comes before their
 * `name:value` lines, so the number of lines that follow is fixed by the signed text itself.
 */
export function stringToSign(parts: SignedParts, bodyHash = contentSha256(parts.body)): string {
  return [
    'GATEHOUSE-HMAC-SHA256',
    String(parts.timestamp),
    parts.method.toUpperCase(),
    parts.path,
    parts.query,
    parts.client,
    parts.principal,
    parts.scopes,
    signedHeaderList(parts.headers),
    ...parts.headers.map(([name, value]) => `${name}:${value}`),
    bodyHash,
  ].join('\n');
}

/** The headers that carry the signature (`x-gatehouse-signature: v2=<hex>`). */
export function signatureHeaders(secret: string, parts: SignedParts): Record<string, string> {
  const bodyHash = contentSha256(parts.body);
  const mac = createHmac('sha256', secret).update(stringToSign(parts, bodyHash)).digest('hex');
  return {
    [SIGNATURE_HEADERS.timestamp]: String(parts.timestamp),
    [SIGNATURE_HEADERS.contentSha256]: bodyHash,
    [SIGNATURE_HEADERS.signedHeaders]: signedHeaderList(parts.headers),
    [SIGNATURE_HEADERS.signature]: `${SIGNATURE_VERSION}=${mac}`,
  };
}

/** Why a signature is refused (the reference verifier, used by tests and mirrored in the docs). */
export type SignatureFailure = 'signature_missing' | 'signature_mismatch' | 'signature_expired';

/** Verifies a signature as a backend would: constant-time compare, bounded clock skew. */
export function verifySignature(
  secret: string,
  parts: Omit<SignedParts, 'timestamp'> & { readonly timestamp: string | undefined },
  signature: string | undefined,
  nowSeconds: number,
  maxSkewSeconds = 300,
): SignatureFailure | undefined {
  if (signature === undefined || parts.timestamp === undefined || !/^\d{1,12}$/.test(parts.timestamp))
    return 'signature_missing';
  const timestamp = Number(parts.timestamp);
  if (Math.abs(nowSeconds - timestamp) > maxSkewSeconds) return 'signature_expired';
  const expected = Buffer.from(
    `${SIGNATURE_VERSION}=${createHmac('sha256', secret)
      .update(stringToSign({ ...parts, timestamp }))
      .digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? undefined
    : 'signature_mismatch';
}

/** A request as the backend receives it. */
export interface IncomingSignedRequest {
  readonly method: string;
  /** The request target as on the wire: path, then `?query` when there is one. */
  readonly target: string;
  /** Headers with lower-case names (node:http's `req.headers`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body bytes as received. */
  readonly body: Uint8Array | string;
}

const SIGNED_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Verifies a received request the way docs/request-validator.md tells a backend to: the signed
 * parts are taken from the wire (target split at the first `?`, identity and signed headers as
 * sent). A header named in `x-gatehouse-signed-headers` that is missing fails the check.
 */
export function verifyReceivedRequest(
  secret: string,
  request: IncomingSignedRequest,
  nowSeconds: number,
  maxSkewSeconds = 300,
): SignatureFailure | undefined {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : value?.join(',');
  };
  const [path = '', query = ''] = request.target.split(/\?(.*)/s);
  const list = header(SIGNATURE_HEADERS.signedHeaders) ?? '';
  const names = list === '' ? [] : list.split(';');
  const headers: [string, string][] = [];
  for (const name of names) {
    const value = header(name);
    if (!SIGNED_NAME.test(name) || value === undefined) return 'signature_mismatch';
    headers.push([name, value]);
  }
  return verifySignature(
    secret,
    {
      timestamp: header(SIGNATURE_HEADERS.timestamp),
      method: request.method,
      path,
      query,
      client: header(SIGNATURE_HEADERS.client) ?? '',
      principal: header(SIGNATURE_HEADERS.principal) ?? '',
      scopes: header(SIGNATURE_HEADERS.scopes) ?? '',
      headers,
      body: request.body,
    },
    header(SIGNATURE_HEADERS.signature),
    nowSeconds,
    maxSkewSeconds,
  );
}

/**
 * Identity values as header text: `%` and everything outside printable ASCII percent-encoded
 * (decode with `decodeURIComponent` / `urllib.parse.unquote`), so no value can break a header.
 */
export function headerSafe(value: string): string {
  // toWellFormed: a lone surrogate becomes U+FFFD instead of making encodeURIComponent throw.
  const text = (value as string & { toWellFormed(): string }).toWellFormed();
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c: string) => encodeURIComponent(c));
}
