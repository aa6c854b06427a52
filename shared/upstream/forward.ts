/**
 * Forwarding a validated request to the backend: the target is rebuilt from the route template and
 * the validated parameter values (never from the raw path), headers are filtered, the body is the
 * validated value re-serialized, and the request is signed.
 */
import type { SecretValue } from '../secrets/secret-value.ts';
import type { CallerIdentity } from '../validation/proxy-event.ts';
import type { ParameterSpec } from '../validation/table.ts';
import { headerSafe, SIGNATURE_HEADERS, signatureHeaders } from './signing.ts';

/** Forwarding settings. */
export interface ForwarderOptions {
  /** Base URL of the backend (already checked: https, or http to loopback). */
  readonly baseUrl: string;
  /** The HMAC key, or the secret it is read from at run time (cached). */
  readonly signingSecret: string | SecretValue;
  readonly timeoutMs: number;
  /** Largest backend answer passed back, in bytes. */
  readonly maxResponseBytes: number;
  /** Injected for tests; the global fetch in production. */
  readonly fetch?: typeof fetch;
  /** Unix seconds. */
  readonly clock?: () => number;
}

/** A validated request, ready to go. */
export interface UpstreamRequest {
  readonly method: string;
  /** Route template, e.g. `/orders/{id}`. */
  readonly template: string;
  readonly pathParams: Readonly<Record<string, unknown>>;
  readonly querySpecs: readonly ParameterSpec[];
  readonly query: Readonly<Record<string, unknown>>;
  /** Client headers (lower-case names), filtered here. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /**
   * The body as validated and written again (shared/validation/upstream-body.ts): its full
   * Content-Type (with a multipart boundary) and its text or bytes.
   */
  readonly body: { readonly mediaType: string; readonly text: string | Uint8Array } | undefined;
  readonly identity: CallerIdentity;
}

/** The backend's answer, or why there is none. */
export type UpstreamResult =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: readonly (readonly [string, string])[];
      readonly body: Buffer;
    }
  | {
      readonly ok: false;
      readonly reason:
        | 'upstream_timeout'
        | 'upstream_unreachable'
        | 'upstream_response_too_large'
        | 'signing_secret_unavailable';
    };

// RFC 9110 §7.6.1 hop-by-hop headers: they describe one connection, never the message.
const HOP_BY_HOP = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
// Request headers: hop-by-hop, plus what we set ourselves or must not pass on.
const DROPPED_REQUEST = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'accept-encoding',
  'expect',
  // The credentials the authorizers consumed; the backend gets the identity as X-Gatehouse-*.
  'authorization',
  'x-api-key',
  // Let no client choose the host the backend builds absolute URLs with.
  'forwarded',
  'x-forwarded-host',
]);
const DROPPED_RESPONSE = new Set([
  ...HOP_BY_HOP,
  'content-length',
  // fetch has already decoded the body.
  'content-encoding',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function dropped(name: string, set: ReadonlySet<string>, connectionTokens: ReadonlySet<string>): boolean {
  return (
    set.has(name) ||
    name.startsWith('proxy-') ||
    name.startsWith('x-gatehouse-') ||
    connectionTokens.has(name) ||
    !TOKEN.test(name)
  );
}

function connectionTokens(value: string | null | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Headers sent to the backend: client headers minus the dropped ones. */
export function forwardedHeaders(headers: ReadonlyMap<string, readonly string[]>): [string, string][] {
  const conn = connectionTokens(headers.get('connection')?.join(','));
  const out: [string, string][] = [];
  for (const [name, values] of headers) {
    if (dropped(name, DROPPED_REQUEST, conn)) continue;
    const value = values.join(', ');
    if (FIELD_VALUE.test(value)) out.push([name, value]);
  }
  return out;
}

/** Headers passed back to the client: the backend's minus the dropped ones. */
export function returnedHeaders(headers: Headers): [string, string][] {
  const conn = connectionTokens(headers.get('connection'));
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (name !== 'set-cookie' && !dropped(name, DROPPED_RESPONSE, conn)) out.push([name, value]);
  });
  for (const cookie of headers.getSetCookie()) out.push(['set-cookie', cookie]);
  return out;
}

function queryValue(kind: ParameterSpec, value: unknown): string[] {
  if (Array.isArray(value)) {
    const items = value.map((v) => encodeURIComponent(String(v)));
    return kind.array === 'explode' ? items : [items.join(',')];
  }
  return [encodeURIComponent(String(value))];
}

/**
 * Path and query from the template and validated values, every value percent-encoded, so `/`, `?`,
 * `#`, `%`, CR/LF or `@` inside a value stay data. (`.`/`..` values are refused by validation.)
 */
export function targetOf(request: UpstreamRequest): { path: string; query: string } {
  const path = request.template.replace(/\{([^{}]+)\}/g, (_all, name: string) =>
    encodeURIComponent(String(request.pathParams[name])),
  );
  const query: string[] = [];
  for (const spec of request.querySpecs) {
    if (!Object.hasOwn(request.query, spec.name)) continue;
    for (const v of queryValue(spec, request.query[spec.name]))
      query.push(`${encodeURIComponent(spec.name)}=${v}`);
  }
  return { path, query: query.join('&') };
}

/** Reads a body up to a limit; undefined when it is larger. */
async function readLimited(response: Response, limit: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Creates the forwarder. */
export function createForwarder(
  options: ForwarderOptions,
): (request: UpstreamRequest) => Promise<UpstreamResult> {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  return async (request) => {
    const target = targetOf(request);
    const path = `${basePath}${target.path}`;
    const url = new URL(`${base.origin}${path}${target.query === '' ? '' : `?${target.query}`}`);
    // Defence in depth: the rebuilt URL must still point at the backend, under its base path.
    if (url.origin !== base.origin || url.pathname !== path)
      return { ok: false, reason: 'upstream_unreachable' };
    const identity = {
      client: headerSafe(request.identity.client),
      principal: headerSafe(request.identity.principal),
      scopes: headerSafe(request.identity.scopes),
    };
    const body = request.body?.text ?? '';
    const headers = new Headers(forwardedHeaders(request.headers));
    if (request.body !== undefined) headers.set('content-type', request.body.mediaType);
    headers.set('accept-encoding', 'identity');
    headers.set(SIGNATURE_HEADERS.client, identity.client);
    headers.set(SIGNATURE_HEADERS.principal, identity.principal);
    headers.set(SIGNATURE_HEADERS.scopes, identity.scopes);
    let secret: string;
    try {
      secret =
        typeof options.signingSecret === 'string' ? options.signingSecret : await options.signingSecret.get();
    } catch {
      // Nothing unsigned ever leaves: no key, no request.
      return { ok: false, reason: 'signing_secret_unavailable' };
    }
    const signed = signatureHeaders(secret, {
      timestamp: clock(),
      method: request.method,
      path,
      query: target.query,
      ...identity,
      body,
    });
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    const signal = AbortSignal.timeout(options.timeoutMs);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? null : body,
        // A redirect is the backend's answer to the client, never a second request from us.
        redirect: 'manual',
        signal,
      });
    } catch {
      return { ok: false, reason: signal.aborted ? 'upstream_timeout' : 'upstream_unreachable' };
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await readLimited(response, options.maxResponseBytes);
    } catch {
      return { ok: false, reason: signal.aborted ? 'upstream_timeout' : 'upstream_unreachable' };
    }
    if (bytes === undefined) return { ok: false, reason: 'upstream_response_too_large' };
    return { ok: true, status: response.status, headers: returnedHeaders(response.headers), body: bytes };
  };
}
