/**
 * Certificate-bound access tokens (RFC 8705 §3): a token whose `cnf["x5t#S256"]` is set is accepted
 * only with the client certificate it names, i.e. when that value equals base64url(SHA-256(DER)) of
 * the certificate presented in the mutual-TLS handshake.
 *
 * API Gateway terminates mutual TLS on a custom domain, checks the certificate against the
 * truststore, and hands the leaf certificate to a Lambda authorizer as PEM:
 * REST APIs and HTTP API payload 1.0 at `requestContext.identity.clientCert.clientCertPem`,
 * HTTP API payload 2.0 at `requestContext.authentication.clientCert.clientCertPem`
 * (docs/sender-constrained-tokens.md, "Where the certificate comes from").
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';

/** Longest PEM read at all; a client certificate is one to three kilobytes. */
export const MAX_CERTIFICATE_PEM_LENGTH = 16 * 1024;

/** The outcome of checking a certificate-bound token against the presented certificate. */
export type CertificateBinding =
  | { readonly outcome: 'match'; readonly thumbprint: string }
  | { readonly outcome: 'mismatch' }
  | { readonly outcome: 'certificate_missing' }
  | { readonly outcome: 'certificate_malformed' };

const PEM = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----$/;
const X5T_S256 = /^[A-Za-z0-9_-]{43}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The client certificate PEM of an authorizer event, wherever its payload version puts it;
 * undefined when the event carries none (no mutual TLS on the domain, or a TOKEN authorizer).
 */
export function clientCertificatePem(event: unknown): string | undefined {
  if (!isObject(event) || !isObject(event.requestContext)) return undefined;
  const context = event.requestContext;
  const holder = event.version === '2.0' ? context.authentication : context.identity;
  if (!isObject(holder) || !isObject(holder.clientCert)) return undefined;
  const pem = holder.clientCert.clientCertPem;
  return typeof pem === 'string' ? pem : undefined;
}

/**
 * The DER bytes of exactly one PEM certificate that node:crypto can read; undefined for anything
 * else (a chain, trailing data, bad base64, a certificate that does not parse).
 */
export function certificateDer(pem: string): Buffer | undefined {
  if (pem.length > MAX_CERTIFICATE_PEM_LENGTH) return undefined;
  const match = PEM.exec(pem.trim());
  if (match === null) return undefined;
  const body = (match[1] as string).replace(/\r?\n/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  const der = Buffer.from(body, 'base64');
  // Buffer's base64 decoder skips junk; the round trip proves the body was canonical base64.
  if (der.toString('base64') !== body) return undefined;
  try {
    new X509Certificate(der);
  } catch {
    return undefined;
  }
  return der;
}

/** Distinct certificates whose thumbprint is remembered (a warm container sees a few clients). */
const THUMBPRINT_CACHE_SIZE = 256;
const thumbprints = new Map<string, string>();

/** The RFC 8705 `x5t#S256` of a PEM certificate, or undefined when it is not one readable certificate. */
export function certificateThumbprint(pem: string): string | undefined {
  // Parsing the certificate is most of the check's cost and a client presents the same one on
  // every request: the result is remembered per exact PEM text (the same text can only give the
  // same thumbprint), for readable certificates only. Bounded.
  const known = thumbprints.get(pem);
  if (known !== undefined) return known;
  const der = certificateDer(pem);
  if (der === undefined) return undefined;
  const thumbprint = createHash('sha256').update(der).digest('base64url');
  if (thumbprints.size >= THUMBPRINT_CACHE_SIZE)
    thumbprints.delete(thumbprints.keys().next().value as string);
  thumbprints.set(pem, thumbprint);
  return thumbprint;
}

/** Whether a `cnf["x5t#S256"]` value has the shape of a SHA-256 thumbprint (43 base64url characters). */
export function isCertificateThumbprint(value: unknown): value is string {
  return typeof value === 'string' && X5T_S256.test(value);
}

/**
 * Checks the presented certificate against the token's `cnf["x5t#S256"]` (which the caller has
 * checked with {@link isCertificateThumbprint}). The comparison is constant-time.
 */
export function checkCertificateBinding(
  clientCertPem: string | undefined,
  expected: string,
): CertificateBinding {
  if (clientCertPem === undefined || clientCertPem.trim() === '') return { outcome: 'certificate_missing' };
  const thumbprint = certificateThumbprint(clientCertPem);
  if (thumbprint === undefined) return { outcome: 'certificate_malformed' };
  const a = Buffer.from(thumbprint);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b)
    ? { outcome: 'match', thumbprint }
    : { outcome: 'mismatch' };
}
