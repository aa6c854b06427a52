/**
 * Turning an event body into a JSON value, refusing everything a strict reader should: bad base64,
 * invalid UTF-8, a byte-order mark, oversize bodies (measured after base64 decoding), and what
 * `parseStrictJson` refuses (duplicate keys, deep nesting, prototype keys, trailing garbage).
 */
import { PROTOTYPE_KEYS, parseStrictJson } from '../json/strict-json.ts';
import type { ProblemError, ProblemReason } from './problem.ts';

/** Limits for request bodies. */
export interface BodyLimits {
  /** Largest body accepted, in bytes after base64 decoding. */
  readonly maxBytes: number;
  /** Deepest JSON nesting accepted (the top-level value is depth 1). */
  readonly maxDepth: number;
}

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: ProblemReason; readonly errors?: readonly ProblemError[] };

// `fatal` refuses invalid sequences instead of replacing them; `ignoreBOM` keeps a BOM in the
// output so it can be refused rather than silently dropped.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The body text, or why it is refused. Empty bodies are `''`. */
export function bodyText(
  body: string | null | undefined,
  isBase64Encoded: boolean,
  maxBytes: number,
): { ok: true; text: string } | { ok: false; reason: ProblemReason } {
  if (body === null || body === undefined || body === '') return { ok: true, text: '' };
  let text: string;
  if (isBase64Encoded) {
    // Every 4 base64 characters are at most 3 bytes: refuse early without decoding huge inputs.
    if (Math.floor(body.length / 4) * 3 > maxBytes + 3) return { ok: false, reason: 'body_too_large' };
    if (body.length % 4 !== 0 || !BASE64.test(body)) return { ok: false, reason: 'body_invalid_base64' };
    const bytes = Buffer.from(body, 'base64');
    // Node's decoder ignores non-zero padding bits; re-encoding catches every non-canonical form.
    if (bytes.toString('base64') !== body) return { ok: false, reason: 'body_invalid_base64' };
    if (bytes.length > maxBytes) return { ok: false, reason: 'body_too_large' };
    try {
      text = UTF8.decode(bytes);
    } catch {
      return { ok: false, reason: 'body_invalid_utf8' };
    }
  } else {
    // A UTF-8 byte is at most one UTF-16 unit, and a unit at most 3 bytes: measure only when needed.
    if (body.length > maxBytes) return { ok: false, reason: 'body_too_large' };
    if (body.length * 3 > maxBytes && Buffer.byteLength(body, 'utf8') > maxBytes)
      return { ok: false, reason: 'body_too_large' };
    // A lone surrogate cannot be encoded as UTF-8: the text did not come from valid UTF-8.
    if (!(body as string & { isWellFormed(): boolean }).isWellFormed())
      return { ok: false, reason: 'body_invalid_utf8' };
    text = body;
  }
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, reason: 'body_bom' };
  return { ok: true, text };
}

/**
 * The body bytes, or why they are refused (bad base64, over the limit), for bodies that are not
 * text: multipart and media types validated by size only. Empty bodies are an empty buffer.
 */
export function bodyBytes(
  body: string | null | undefined,
  isBase64Encoded: boolean,
  maxBytes: number,
): { ok: true; bytes: Buffer } | { ok: false; reason: ProblemReason } {
  if (body === null || body === undefined || body === '') return { ok: true, bytes: Buffer.alloc(0) };
  if (isBase64Encoded) {
    if (Math.floor(body.length / 4) * 3 > maxBytes + 3) return { ok: false, reason: 'body_too_large' };
    if (body.length % 4 !== 0 || !BASE64.test(body)) return { ok: false, reason: 'body_invalid_base64' };
    const bytes = Buffer.from(body, 'base64');
    if (bytes.toString('base64') !== body) return { ok: false, reason: 'body_invalid_base64' };
    if (bytes.length > maxBytes) return { ok: false, reason: 'body_too_large' };
    return { ok: true, bytes };
  }
  if (body.length > maxBytes) return { ok: false, reason: 'body_too_large' };
  // A lone surrogate cannot be encoded as UTF-8: the text did not come from valid UTF-8.
  if (!(body as string & { isWellFormed(): boolean }).isWellFormed())
    return { ok: false, reason: 'body_invalid_utf8' };
  const bytes = Buffer.from(body, 'utf8');
  if (bytes.length > maxBytes) return { ok: false, reason: 'body_too_large' };
  return { ok: true, bytes };
}

/** The error of a JSON body holding a number outside the double range. */
export const NON_FINITE_NUMBER: ProblemError = {
  pointer: '',
  keyword: 'type',
  message: 'numbers must be finite (within ±1.7976931348623157e308)',
};

/**
 * Parses a JSON body strictly. A number `JSON.parse` makes ±Infinity (`1e400`) is valid JSON, but
 * `JSON.stringify` would forward it as `null` (the backend would read another value): it is
 * `body_invalid`, after the refusals of the text itself.
 */
export function parseJsonBody(text: string, maxDepth: number): BodyResult {
  const parsed = parseStrictJson(text, { maxDepth, forbiddenKeys: PROTOTYPE_KEYS, finite: true });
  if (parsed.ok) return parsed;
  return parsed.reason === 'json_not_finite'
    ? { ok: false, reason: 'body_invalid', errors: [NON_FINITE_NUMBER] }
    : { ok: false, reason: parsed.reason };
}
