/**
 * Forwarding a validated request to the backend: the target is rebuilt from the route template and
 * the path parameter values as read and validated (never from the raw path), the query names and
 * values as read and validated, the declared header parameters exactly as validated, other headers
 * filtered, the body exactly as shared/validation/upstream-body.ts writes it (byte for byte), and the
 * request is signed over all of it.
 *
 * The transport is node:http / node:https with a keep-alive agent rather than the global `fetch`:
 * `fetch` loads undici on its first call, which costs a cold start 30–50 ms on a small machine
 * (docs/performance.md), and one connection reused across warm invocations saves a TCP/TLS
 * handshake per request.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  /** Time allowed for the whole exchange: connection, request, and the complete answer. */
  readonly timeoutMs: number;
  /** Largest backend answer passed back, in bytes. */
  readonly maxResponseBytes: number;
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
  /** The operation's declared header parameters (lower-case names): forwarded as validated and signed. */
  readonly headerSpecs: readonly { readonly name: string }[];
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

/**
 * Request headers never forwarded, declared or not: hop-by-hop and framing headers, what we set
 * ourselves, and the credentials the authorizers consumed (the backend gets the identity as
 * X-Gatehouse-*). An API document declaring one of these as a parameter is refused at init.
 */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'accept-encoding',
  'expect',
  'authorization',
  'x-api-key',
]);

/**
 * Headers that make a backend or a framework in front of it act on another method, path, host or
 * client address than the one validated and signed (method overrides, URL rewrites, proxy
 * headers). Dropped unless the operation declares them, in which case they are validated and signed.
 */
const ROUTING = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'forwarded',
  'x-real-ip',
]);

const DROPPED_RESPONSE = new Set([...HOP_BY_HOP, 'content-length']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * True for a header this forwarder never sends, declared or not. `npm run generate` refuses a
 * document that declares one as a header parameter (tools/openapi/validators.ts), so a declared
 * header is always forwarded as validated.
 */
export function neverForwarded(name: string): boolean {
  return (
    NEVER_FORWARDED.has(name) ||
    name.startsWith('proxy-') ||
    name.startsWith('x-gatehouse-') ||
    !TOKEN.test(name)
  );
}

function routing(name: string): boolean {
  return ROUTING.has(name) || name.startsWith('x-forwarded-');
}

function connectionTokens(value: string | null | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The declared header parameters the request carries, exactly as validated: lower-case names,
 * sorted, values as received (several values of an array parameter joined by `,`). These are
 * forwarded whatever `Connection` says and are covered by the signature.
 */
export function declaredHeaders(
  specs: readonly { readonly name: string }[],
  headers: ReadonlyMap<string, readonly string[]>,
): [string, string][] {
  const out: [string, string][] = [];
  for (const spec of specs) {
    // Defence in depth: a generated module edited by hand still cannot make us send a credential.
    if (neverForwarded(spec.name)) continue;
    const values = headers.get(spec.name);
    if (values !== undefined && values.length > 0) out.push([spec.name, values.join(',')]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Other client headers sent to the backend: everything except what is never forwarded, routing
 * headers, the headers `Connection` names, and values that are not valid field values. Declared
 * header parameters are not in this list (see {@link declaredHeaders}).
 */
export function forwardedHeaders(
  headers: ReadonlyMap<string, readonly string[]>,
  declared: ReadonlySet<string> = new Set(),
): [string, string][] {
  const conn = connectionTokens(headers.get('connection')?.join(','));
  const out: [string, string][] = [];
  for (const [name, values] of headers) {
    if (declared.has(name) || neverForwarded(name) || routing(name) || conn.has(name)) continue;
    const value = values.join(', ');
    if (FIELD_VALUE.test(value)) out.push([name, value]);
  }
  return out;
}

/** Headers passed back to the client: the backend's (in order, `Set-Cookie` each) minus the dropped ones. */
export function returnedHeaders(rawHeaders: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2)
    pairs.push([(rawHeaders[i] as string).toLowerCase(), rawHeaders[i + 1] as string]);
  const conn = connectionTokens(
    pairs
      .filter(([n]) => n === 'connection')
      .map(([, v]) => v)
      .join(','),
  );
  return pairs.filter(
    ([name]) =>
      !DROPPED_RESPONSE.has(name) &&
      !name.startsWith('proxy-') &&
      !name.startsWith('x-gatehouse-') &&
      !conn.has(name),
  );
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
 * `#`, `%`, CR/LF or `@` inside a value stay data. (`.`/`..` values and lone surrogates are refused
 * by validation.)
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

type Exchange =
  | { readonly status: number; readonly rawHeaders: string[]; readonly body: Buffer }
  | UpstreamResult;

/** Creates the forwarder. */
export function createForwarder(
  options: ForwarderOptions,
): (request: UpstreamRequest) => Promise<UpstreamResult> {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const secure = base.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  // One connection kept across warm invocations (a function instance serves one request at a time).
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2 })
    : new HttpAgent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2 });

  /** One request; `undefined` when a kept-alive connection turned out closed before any answer. */
  function exchange(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | undefined,
    deadline: number,
  ): Promise<Exchange | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (value: Exchange | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      };
      const req = send(url, { method, headers, agent });
      const timer = setTimeout(
        () => {
          finish({ ok: false, reason: 'upstream_timeout' });
          req.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the backend closed while we were frozen or idle: the request never
        // reached it, so sending it again on a fresh connection is safe (node:http's documented
        // pattern for `reusedSocket`).
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) finish(undefined);
        else finish({ ok: false, reason: 'upstream_unreachable' });
      });
      req.on('response', (res: IncomingMessage) => {
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (declared > options.maxResponseBytes) {
          finish({ ok: false, reason: 'upstream_response_too_large' });
          res.destroy();
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) {
            // Settle first: destroying emits the error and abort events this would otherwise see.
            finish({ ok: false, reason: 'upstream_response_too_large' });
            res.destroy();
            req.destroy();
          } else chunks.push(chunk);
        });
        res.on('error', () => finish({ ok: false, reason: 'upstream_unreachable' }));
        // A connection closed before the end of the answer (`end` has settled otherwise).
        res.on('close', () => finish({ ok: false, reason: 'upstream_unreachable' }));
        res.on('end', () =>
          finish({
            status: res.statusCode ?? 502,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks, size),
          }),
        );
      });
      req.end(body);
    });
  }

  return async (request) => {
    const deadline = Date.now() + options.timeoutMs;
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
    let secret: string;
    try {
      secret =
        typeof options.signingSecret === 'string' ? options.signingSecret : await options.signingSecret.get();
    } catch {
      // Nothing unsigned ever leaves: no key, no request.
      return { ok: false, reason: 'signing_secret_unavailable' };
    }
    const signed = declaredHeaders(request.headerSpecs, request.headers);
    // The body exactly as upstreamBody wrote it: text as UTF-8, bytes (multipart, other media
    // types) as they are, without a copy.
    const text = request.body?.text;
    const body =
      text === undefined
        ? undefined
        : typeof text === 'string'
          ? Buffer.from(text, 'utf8')
          : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    // No prototype: a client header named `__proto__` must stay a header name, not a prototype.
    const headers: OutgoingHttpHeaders = Object.create(null);
    for (const [name, value] of forwardedHeaders(
      request.headers,
      new Set(request.headerSpecs.map((s) => s.name)),
    ))
      headers[name] = value;
    for (const [name, value] of signed) headers[name] = value;
    if (request.body !== undefined) headers['content-type'] = request.body.mediaType;
    headers['content-length'] = String(body?.length ?? 0);
    headers['accept-encoding'] = 'identity';
    headers[SIGNATURE_HEADERS.client] = identity.client;
    headers[SIGNATURE_HEADERS.principal] = identity.principal;
    headers[SIGNATURE_HEADERS.scopes] = identity.scopes;
    Object.assign(
      headers,
      signatureHeaders(secret, {
        timestamp: clock(),
        method: request.method,
        path,
        query: target.query,
        ...identity,
        headers: signed,
        body: body ?? '',
      }),
    );
    let result = await exchange(url, request.method, headers, body, deadline);
    // At most one retry, and only for a kept-alive connection found closed (see exchange()).
    if (result === undefined) result = await exchange(url, request.method, headers, body, deadline);
    if (result === undefined) return { ok: false, reason: 'upstream_unreachable' };
    if ('ok' in result) return result;
    return {
      ok: true,
      status: result.status,
      headers: returnedHeaders(result.rawHeaders),
      body: result.body,
    };
  };
}
