/**
 * SigV4 verification for `AWS_IAM` routes, as API Gateway does it before anything else runs: the
 * `Authorization: AWS4-HMAC-SHA256 ...` header is parsed, the signing key of the access key is
 * looked up among the local credentials, and the signature is computed again over the request as
 * received and compared. The computation itself is @smithy/signature-v4's (the AWS SDK's signer),
 * given exactly the headers the client says it signed; nothing of the algorithm is written here.
 *
 * Refusals carry API Gateway's messages
 * (https://repost.aws/knowledge-center/api-gateway-iam-sigv4-mismatch,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-authentication-token-errors.html):
 * unsigned → 403 Missing Authentication Token; unknown access key → 403 "The security token included
 * in the request is invalid."; wrong signature → 403 "The request signature we calculated does not
 * match ..."; a signature older or newer than 5 minutes → 403 "Signature expired" / "not yet current".
 * Unlike API Gateway, no refusal echoes the Authorization header or the canonical request (they may
 * hold credentials).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../shared/aws/sha256.ts';

/** Who signed: the IAM principal of a local credential. */
export interface IamPrincipal {
  /** `arn:aws:iam::{account}:user/{name}` or `arn:aws:sts::{account}:assumed-role/{role}/{session}`. */
  readonly arn: string;
  readonly accountId: string;
  /** The principal id (`AIDA...` for a user, `AROA...:{session}` for a role session). */
  readonly userId: string;
}

/** A local access key and what it may do. */
export interface LocalIamCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly principal: IamPrincipal;
  /** The principal's identity policy, reduced to its statements (evaluated on `execute-api:Invoke`). */
  readonly statements: readonly {
    readonly effect: 'Allow' | 'Deny';
    readonly actions: readonly string[];
    readonly resources: readonly string[];
  }[];
}

/** The request as received. */
export interface SignedRequest {
  readonly method: string;
  /** The path as sent on the wire (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** The raw query string without `?`. */
  readonly rawQuery: string;
  /** Node's `rawHeaders` pairs. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** Why a request was refused (always 403), with the gateway response type and API Gateway's message. */
export interface SigV4Refusal {
  readonly ok: false;
  readonly responseType: 'MISSING_AUTHENTICATION_TOKEN' | 'INVALID_SIGNATURE';
  /** `x-amzn-ErrorType`. */
  readonly errorType: string;
  readonly message: string;
  /** Stable reason code for the access log. */
  readonly reason:
    | 'unsigned'
    | 'presigned_url'
    | 'incomplete_signature'
    | 'unknown_access_key'
    | 'security_token'
    | 'scope_mismatch'
    | 'signature_expired'
    | 'payload_hash_mismatch'
    | 'signature_mismatch';
}

/** The outcome of verifying one request. */
export type SigV4Outcome = { readonly ok: true; readonly credential: LocalIamCredential } | SigV4Refusal;

/** Options of {@link verifySigV4}. */
export interface VerifyOptions {
  /** The region credentials must be scoped to. */
  readonly region: string;
  readonly nowMs: number;
  /** Looks a credential up by access key id. */
  readonly credential: (accessKeyId: string) => LocalIamCredential | undefined;
}

/**
 * How far a signature's date may be from the gateway's clock: "a request must reach AWS within five
 * minutes of the time stamp in the request" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html).
 */
export const SIGNATURE_SKEW_MS = 5 * 60 * 1000;

const SERVICE = 'execute-api';

function refusal(
  reason: SigV4Refusal['reason'],
  message: string,
  errorType = 'InvalidSignatureException',
  responseType: SigV4Refusal['responseType'] = 'INVALID_SIGNATURE',
): SigV4Refusal {
  return { ok: false, reason, message, errorType, responseType };
}

function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    // Repeated headers are signed as one comma-joined value.
    map.set(name, map.has(name) ? `${map.get(name)},${value}` : value);
  }
  return map;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function queryMap(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1));
    const had = query[key];
    query[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return query;
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

function parseAuthorization(value: string): ParsedAuthorization | string {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(value.trim());
  if (m?.[1] === undefined)
    return "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.";
  const params = new Map<string, string>();
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return 'Invalid key=value pair (missing equal-sign) in Authorization header.';
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !params.has(k));
  if (missing.length > 0)
    return missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' ');
  const scope = (params.get('Credential') as string).split('/');
  if (scope.length !== 5) return 'Credential should be scoped to a valid region. ';
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: (params.get('SignedHeaders') as string).split(';').map((h) => h.trim().toLowerCase()),
    signature: (params.get('Signature') as string).toLowerCase(),
  };
}

function amzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies a request's SigV4 signature; never throws. */
export async function verifySigV4(request: SignedRequest, options: VerifyOptions): Promise<SigV4Outcome> {
  const headers = headerMap(request.rawHeaders);
  const authorization = headers.get('authorization');
  if (authorization === undefined) {
    if (/(^|&)X-Amz-Signature=/i.test(request.rawQuery))
      return refusal(
        'presigned_url',
        'Query-string (presigned URL) signatures are not verified by the local gateway: sign with the Authorization header.',
        'IncompleteSignatureException',
      );
    return refusal(
      'unsigned',
      'Missing Authentication Token',
      'MissingAuthenticationTokenException',
      'MISSING_AUTHENTICATION_TOKEN',
    );
  }
  const parsed = parseAuthorization(authorization);
  if (typeof parsed === 'string')
    return refusal('incomplete_signature', parsed, 'IncompleteSignatureException');
  const dateHeader = headers.get('x-amz-date');
  if (dateHeader === undefined || !parsed.signedHeaders.includes('x-amz-date'))
    return refusal(
      'incomplete_signature',
      "Authorization header requires existence of a signed 'X-Amz-Date' header (the local gateway does not accept 'Date').",
      'IncompleteSignatureException',
    );
  const signingDate = amzDate(dateHeader);
  if (signingDate === undefined)
    return refusal(
      'incomplete_signature',
      `X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.`,
      'IncompleteSignatureException',
    );
  if (parsed.date !== dateHeader.slice(0, 8))
    return refusal(
      'scope_mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`,
    );
  if (parsed.service !== SERVICE)
    return refusal('scope_mismatch', `Credential should be scoped to correct service: '${SERVICE}'. `);
  if (parsed.region !== options.region || parsed.terminator !== 'aws4_request')
    return refusal('scope_mismatch', 'Credential should be scoped to a valid region. ');
  const credential = options.credential(parsed.accessKeyId);
  if (credential === undefined)
    return refusal(
      'unknown_access_key',
      'The security token included in the request is invalid.',
      'UnrecognizedClientException',
    );
  // Local credentials are long-term keys: a session token can only belong to something else.
  if (headers.has('x-amz-security-token'))
    return refusal(
      'security_token',
      'The security token included in the request is invalid.',
      'UnrecognizedClientException',
    );
  const skew = signingDate.getTime() - options.nowMs;
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  if (skew < -SIGNATURE_SKEW_MS)
    return refusal(
      'signature_expired',
      `Signature expired: ${dateHeader} is now earlier than ${stamp(options.nowMs - SIGNATURE_SKEW_MS)} (${stamp(options.nowMs)} - 5 min.)`,
    );
  if (skew > SIGNATURE_SKEW_MS)
    return refusal(
      'signature_expired',
      `Signature not yet current: ${dateHeader} is still later than ${stamp(options.nowMs + SIGNATURE_SKEW_MS)} (${stamp(options.nowMs)} + 5 min.)`,
    );
  // A signed payload hash must be the body's: the signer would otherwise trust it as given.
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && parsed.signedHeaders.includes('x-amz-content-sha256')) {
    const actual = createHash('sha256').update(request.body).digest('hex');
    if (declaredHash !== actual)
      return refusal(
        'payload_hash_mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
  }

  // The request exactly as the client signed it: only its signed headers.
  const signed: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = headers.get(name);
    if (value === undefined)
      return refusal(
        'signature_mismatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    if (name !== 'x-amz-content-sha256' || declaredHash !== undefined) signed[name] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
    region: options.region,
    service: SERVICE,
    sha256: Sha256,
    // The client decides whether x-amz-content-sha256 is signed; the verifier must not add it.
    applyChecksum: false,
  });
  const host = headers.get('host') ?? 'localhost';
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: host,
      path: request.rawPath,
      query: queryMap(request.rawQuery),
      headers: signed,
      body: request.body.length === 0 ? undefined : request.body,
    },
    { signingDate, signableHeaders: new Set(parsed.signedHeaders) },
  );
  const computed = /Signature=([0-9a-f]+)/.exec(String(expected.headers.authorization ?? ''))?.[1] ?? '';
  if (!sameHex(computed, parsed.signature))
    return refusal(
      'signature_mismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  return { ok: true, credential };
}
