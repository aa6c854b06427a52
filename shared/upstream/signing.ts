/**
 * HMAC-SHA-256 request signatures, so the backend can refuse requests that did not come through the
 * gateway. The string to sign binds the time, the exact target, the caller identity headers and the
 * body; docs/request-validator.md describes verification step by step.
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
} as const;

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
  /** The body bytes as sent (empty when none). */
  readonly body: Uint8Array | string;
}

/** Hex SHA-256 of the body. */
export function contentSha256(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The canonical string to sign: fields joined by `\n` (none can contain a newline). */
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
    bodyHash,
  ].join('\n');
}

/** The headers that carry the signature (`x-gatehouse-signature: v1=<hex>`). */
export function signatureHeaders(secret: string, parts: SignedParts): Record<string, string> {
  const bodyHash = contentSha256(parts.body);
  const mac = createHmac('sha256', secret).update(stringToSign(parts, bodyHash)).digest('hex');
  return {
    [SIGNATURE_HEADERS.timestamp]: String(parts.timestamp),
    [SIGNATURE_HEADERS.contentSha256]: bodyHash,
    [SIGNATURE_HEADERS.signature]: `v1=${mac}`,
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
    `v1=${createHmac('sha256', secret)
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

/**
 * Verifies a received request the way docs/request-validator.md tells a backend to: the signed
 * parts are taken from the wire (target split at the first `?`, identity headers as sent).
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
