/**
 * The `htu` of a DPoP proof against the request's public URL (RFC 9449 §4.3 check 9): both sides
 * without query and fragment, compared after RFC 3986 syntax- and scheme-based normalisation
 * (§6.2.2, §6.2.3): scheme and host case, percent-encoding case, unreserved characters decoded,
 * dot segments removed, default port dropped, empty path as `/`.
 *
 * The public URL is not in the Lambda event as the client wrote it: a custom domain's base-path
 * mapping, a named stage, or a CDN in front all change what API Gateway reports. So it is derived
 * from configuration ({@link PublicUrlRule}), and a request no rule covers is refused, never guessed.
 */
// fast-uri is CommonJS: its functions are reached through the default export under native ESM.
import fastUri from 'fast-uri';

const { normalize, parse, serialize } = fastUri;

/** Longest `htu` read at all (API Gateway's own URL limits are far below). */
export const MAX_HTU_LENGTH = 2048;

// Characters RFC 3986 allows in a URI, and `%` only as the start of a percent-encoding: anything
// else (spaces, controls, non-ASCII) means the value is not a URI and is refused, not repaired.
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

/**
 * The normalised form `scheme://host[:port]/path` of an absolute http(s) URI, query and fragment
 * dropped; undefined when the value is not one (userinfo is refused: it has no place in a target URI).
 */
export function normalizeHttpUri(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_HTU_LENGTH || !URI_CHARACTERS.test(value)) return undefined;
  const parts = parse(value);
  const scheme = parts.scheme?.toLowerCase();
  if (parts.error !== undefined || (scheme !== 'https' && scheme !== 'http')) return undefined;
  if (parts.host === undefined || parts.host === '' || parts.userinfo !== undefined) return undefined;
  // fast-uri implements the RFC 3986 normalisations (and drops the scheme's default port); query
  // and fragment are cut after parsing, so a `#` or `?` inside them cannot shift the path.
  return serialize(normalize({ ...parts, query: undefined, fragment: undefined }));
}

/**
 * Percent-encodes what cannot stand in a URI path (spaces, non-ASCII, `?`, `#` ...), leaving
 * existing `%XX` encodings alone: REST events may carry a decoded path, HTTP API events the raw one.
 * Undefined for a lone surrogate (not text).
 */
export function encodePathForUri(path: string): string | undefined {
  try {
    return path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (c) => encodeURIComponent(c));
  } catch {
    return undefined;
  }
}

/** Whether a proof's `htu` names the same resource as the request's public URL. */
export function htuMatches(htu: string, publicUrl: string): boolean {
  const a = normalizeHttpUri(htu);
  return a !== undefined && a === normalizeHttpUri(publicUrl);
}

/**
 * How requests that API Gateway reports under `domainName` (and `stage`) map to the URL clients
 * call. The event path must start with `eventPathPrefix` at a segment boundary; the rest of it is
 * appended to `publicBaseUrl`.
 *
 * - REST API, custom domain `api.example.com` with base path `orders`: the event path keeps the
 *   base path, so `{ domainName: 'api.example.com', eventPathPrefix: '/orders', publicBaseUrl: 'https://api.example.com/orders' }`.
 * - REST API on its execute-api endpoint, stage `v1`: the event path has no stage segment, so
 *   `{ domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', stage: 'v1', eventPathPrefix: '', publicBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1' }`.
 * - HTTP API: `rawPath` keeps the stage segment and the mapping key as the client sent them.
 * - A CDN in front: `publicBaseUrl` is the CDN's URL.
 */
export interface PublicUrlRule {
  /** `requestContext.domainName` as API Gateway reports it (case-insensitive). */
  readonly domainName: string;
  /** `requestContext.stage`; undefined matches any stage. */
  readonly stage?: string | undefined;
  /** Leading part of the event path that the public base URL replaces (`''` for none). */
  readonly eventPathPrefix: string;
  /** The public origin and base path, e.g. `https://api.example.com/orders` (no query, no fragment). */
  readonly publicBaseUrl: string;
}

/** Where the request was received, as the authorizer event reports it. */
export interface ReceivedLocation {
  readonly domainName: string | undefined;
  readonly stage: string | undefined;
  /** REST: `path`; HTTP API payload 2.0: `rawPath`. */
  readonly path: string;
}

/** Checks rules once at init; returns the problems (empty when all are usable). */
export function publicUrlRuleProblems(rules: readonly PublicUrlRule[]): string[] {
  const problems: string[] = [];
  rules.forEach((rule, i) => {
    if (typeof rule.domainName !== 'string' || !/^[A-Za-z0-9.-]+(:\d+)?$/.test(rule.domainName))
      problems.push(`[${i}].domainName must be a host name`);
    if (rule.stage !== undefined && (typeof rule.stage !== 'string' || rule.stage === ''))
      problems.push(`[${i}].stage must be a non-empty string when given`);
    if (
      typeof rule.eventPathPrefix !== 'string' ||
      (rule.eventPathPrefix !== '' && !/^(\/[^/?#]+)+$/.test(rule.eventPathPrefix))
    )
      problems.push(`[${i}].eventPathPrefix must be '' or /segment[/segment...] without a trailing slash`);
    const base = typeof rule.publicBaseUrl === 'string' ? normalizeHttpUri(rule.publicBaseUrl) : undefined;
    if (base === undefined || /[?#]/.test(rule.publicBaseUrl))
      problems.push(`[${i}].publicBaseUrl must be an absolute http(s) URL without query or fragment`);
  });
  return problems;
}

/**
 * The public URL of a received request (without query), or undefined when no rule covers it.
 * Of several matching rules, the longest `eventPathPrefix` wins (as API Gateway picks the longest
 * base path); a stage-specific rule beats a stage-less one of the same length.
 */
export function publicRequestUrl(rules: readonly PublicUrlRule[], at: ReceivedLocation): string | undefined {
  if (at.domainName === undefined || !at.path.startsWith('/')) return undefined;
  const domain = at.domainName.toLowerCase();
  let best: PublicUrlRule | undefined;
  for (const rule of rules) {
    if (rule.domainName.toLowerCase() !== domain) continue;
    if (rule.stage !== undefined && rule.stage !== at.stage) continue;
    const prefix = rule.eventPathPrefix;
    if (prefix !== '' && at.path !== prefix && !at.path.startsWith(`${prefix}/`)) continue;
    if (
      best === undefined ||
      prefix.length > best.eventPathPrefix.length ||
      (prefix.length === best.eventPathPrefix.length && best.stage === undefined && rule.stage !== undefined)
    )
      best = rule;
  }
  if (best === undefined) return undefined;
  const rest = encodePathForUri(at.path.slice(best.eventPathPrefix.length));
  return rest === undefined ? undefined : `${best.publicBaseUrl.replace(/\/+$/, '')}${rest}`;
}
