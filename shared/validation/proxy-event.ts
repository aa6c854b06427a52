/**
 * The one module that reads Lambda proxy integration events (REST payload 1.0, HTTP API payload
 * 2.0) and writes their responses.
 */
import { BOUND_CONTEXT_PREFIX } from '../routes/path-binding.ts';
import { decodeFormComponent } from './form.ts';

/**
 * Who the authorizer said the caller is (strings from its context; empty when absent). On an
 * `AWS_IAM` route (no authorizer), the principal is the IAM caller's ARN API Gateway verified.
 */
export interface CallerIdentity {
  readonly client: string;
  readonly principal: string;
  readonly scopes: string;
  /**
   * The caller's values for bound path parameters, by parameter name, from the authorizer's
   * `bind_<param>` context entries (docs/tenant-binding.md).
   */
  readonly bound?: Readonly<Record<string, string>>;
}

/** A proxy request, normalized. Header names are lower-case. */
export interface ProxyRequest {
  readonly version: '1.0' | '2.0';
  readonly requestId: string | undefined;
  readonly method: string;
  /** The route template API Gateway matched (`/orders/{id}`), when it is a concrete one. */
  readonly template: string | undefined;
  /** The request path without the stage, still percent-encoded. */
  readonly path: string;
  /** Path parameters API Gateway extracted for `template`. */
  readonly pathParameters: Readonly<Record<string, string | undefined>> | undefined;
  readonly query: ReadonlyMap<string, readonly string[]>;
  /**
   * True when the raw query string (payload 2.0 `rawQueryString`) holds an escape that is malformed
   * or not UTF-8; `query` then holds the pairs that could be read, and the request is refused.
   */
  readonly malformedQuery: boolean;
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  readonly identity: CallerIdentity;
}

/** A proxy response (both payload versions accept this shape). */
export interface ProxyResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly cookies?: string[];
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function multiMap(multi: unknown, single: unknown, lower: boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: unknown) => {
    if (typeof value !== 'string') return;
    const key = lower ? name.toLowerCase() : name;
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  };
  const m = record(multi);
  if (Object.keys(m).length > 0) {
    for (const [name, values] of Object.entries(m))
      if (Array.isArray(values)) for (const v of values) add(name, v);
  } else {
    for (const [name, value] of Object.entries(record(single))) add(name, value);
  }
  return out;
}

function contextString(ctx: Json, ...names: string[]): string {
  for (const name of names) {
    const v = ctx[name];
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return '';
}

function identityFrom(ctx: Json, iamCaller: string | undefined): CallerIdentity {
  const bound: Record<string, string> = {};
  for (const [key, value] of Object.entries(ctx))
    if (key.startsWith(BOUND_CONTEXT_PREFIX) && typeof value === 'string')
      bound[key.slice(BOUND_CONTEXT_PREFIX.length)] = value;
  return {
    client: contextString(ctx, 'clientId', 'client'),
    principal:
      contextString(ctx, 'principal', 'principalId', 'username', 'keyId', 'clientId') || (iamCaller ?? ''),
    scopes: contextString(ctx, 'scopes'),
    bound,
  };
}

/** Reads a proxy event of either payload version. */
export function readProxyEvent(event: unknown): ProxyRequest {
  const e = record(event);
  const rc = record(e.requestContext);
  const body = str(e.body);
  const isBase64Encoded = e.isBase64Encoded === true;
  if (e.version === '2.0') {
    const http = record(rc.http);
    const routeKey = str(e.routeKey) ?? '$default';
    const space = routeKey.indexOf(' ');
    const template = space > 0 ? routeKey.slice(space + 1) : undefined;
    const stage = str(rc.stage);
    let path = str(e.rawPath) ?? str(http.path) ?? '/';
    if (stage !== undefined && stage !== '$default' && path.startsWith(`/${stage}/`))
      path = path.slice(stage.length + 1);
    // Read as URLSearchParams does (`+` is a space, empty pieces skipped), but strictly: a bad
    // escape is not read as U+FFFD or as itself, it marks the query malformed.
    const query = new Map<string, string[]>();
    let malformedQuery = false;
    for (const piece of (str(e.rawQueryString) ?? '').split('&')) {
      if (piece === '') continue;
      const eq = piece.indexOf('=');
      const k = decodeFormComponent(eq < 0 ? piece : piece.slice(0, eq));
      const v = decodeFormComponent(eq < 0 ? '' : piece.slice(eq + 1));
      if (k === undefined || v === undefined) {
        malformedQuery = true;
        continue;
      }
      const list = query.get(k);
      if (list === undefined) query.set(k, [v]);
      else list.push(v);
    }
    const headers = multiMap(undefined, e.headers, true);
    const cookies = Array.isArray(e.cookies)
      ? e.cookies.filter((c): c is string => typeof c === 'string')
      : [];
    if (cookies.length > 0) headers.set('cookie', [cookies.join('; ')]);
    return {
      version: '2.0',
      requestId: str(rc.requestId),
      method: (str(http.method) ?? '').toUpperCase(),
      template: template?.includes('+}') ? undefined : template,
      path,
      pathParameters: record(e.pathParameters) as Record<string, string>,
      query,
      malformedQuery,
      headers,
      body,
      isBase64Encoded,
      identity: identityFrom(
        record(record(rc.authorizer).lambda),
        str(record(record(rc.authorizer).iam).userArn),
      ),
    };
  }
  const resource = str(e.resource);
  return {
    version: '1.0',
    requestId: str(rc.requestId),
    method: (str(e.httpMethod) ?? '').toUpperCase(),
    template: resource?.includes('+}') ? undefined : resource,
    path: str(e.path) ?? '/',
    pathParameters: record(e.pathParameters) as Record<string, string>,
    query: multiMap(e.multiValueQueryStringParameters, e.queryStringParameters, false),
    // API Gateway decodes payload 1.0 query values itself.
    malformedQuery: false,
    headers: multiMap(e.multiValueHeaders, e.headers, true),
    body,
    isBase64Encoded,
    identity: identityFrom(record(rc.authorizer), str(record(rc.identity).userArn)),
  };
}

/** Writes a response for the event's payload version; `set-cookie` goes where that version wants it. */
export function proxyResponse(
  version: '1.0' | '2.0',
  statusCode: number,
  headers: readonly (readonly [string, string])[],
  body: string,
  isBase64Encoded: boolean,
): ProxyResponse {
  const single: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of headers) {
    if (name === 'set-cookie') cookies.push(value);
    else single[name] = single[name] === undefined ? value : `${single[name]}, ${value}`;
  }
  const base = { statusCode, headers: single, body, isBase64Encoded };
  if (cookies.length === 0) return base;
  return version === '2.0' ? { ...base, cookies } : { ...base, multiValueHeaders: { 'set-cookie': cookies } };
}
