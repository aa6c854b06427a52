import { type MethodArn, parseMethodArn } from '../policy/method-arn.ts';

/** The event shapes a Lambda authorizer can receive. */
export type AuthorizerEventKind = 'rest-token' | 'rest-request' | 'http-v1' | 'http-v2' | 'websocket';

/** How the authorizer must answer: an IAM policy, or an HTTP API simple response. */
export type ResponseFormat = 'policy' | 'simple';

/**
 * Every authorizer event, normalized. Header and query names are lower-cased; every value keeps
 * its multiplicity so that "two Authorization headers" can be told from one.
 */
export interface AuthorizerRequest {
  readonly kind: AuthorizerEventKind;
  readonly format: ResponseFormat;
  /** The ARN the answer is about (`methodArn`, or `routeArn` for HTTP API payload 2.0). */
  readonly arn: MethodArn;
  /** Upper-case HTTP method (`$connect` for WebSocket). */
  readonly method: string;
  /**
   * Concrete request path as the event reports it: REST and HTTP API payload 1.0 `path` (a custom
   * domain's base path kept, the execute-api stage dropped), payload 2.0 `rawPath`.
   */
  readonly path: string;
  /** `requestContext.domainName` (the Host the client called); undefined for TOKEN events. */
  readonly domainName: string | undefined;
  /** `requestContext.stage`; undefined for TOKEN events. */
  readonly stage: string | undefined;
  /** Route template when API Gateway names it (`/orders/{id}`); `undefined` for TOKEN events. */
  readonly routeTemplate: string | undefined;
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly query: ReadonlyMap<string, readonly string[]>;
  readonly sourceIp: string | undefined;
  readonly requestId: string | undefined;
}

/** Why an event could not be read. Each is a 401 (the request never reaches a decision). */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly reason = 'event_malformed';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// Header names repeat from one request to the next: each is lower-cased once. Bounded, so a client
// sending ever new names costs time, never memory.
const LOWER_CASE = new Map<string, string>();

function lowerCase(name: string): string {
  let lower = LOWER_CASE.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER_CASE.size < 512) LOWER_CASE.set(name, lower);
  }
  return lower;
}

function add(out: Map<string, string[]>, name: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const key = lowerCase(name);
  const list = out.get(key);
  if (list === undefined) out.set(key, [value]);
  else list.push(value);
}

/**
 * Merges single- and multi-value maps. API Gateway sends both for REST REQUEST events; the
 * multi-value one is authoritative when present (it is the one that shows duplicates).
 */
function collect(single: unknown, multi: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const multiNames = isObject(multi) ? Object.keys(multi) : [];
  if (multiNames.length > 0) {
    const m = multi as Json;
    for (const name of multiNames) {
      const values = m[name];
      if (Array.isArray(values)) for (const v of values) add(out, name, v);
    }
    // Single-value entries absent from the multi-value map still count (TOKEN-less REST events).
    if (isObject(single)) {
      for (const name of Object.keys(single)) if (!out.has(lowerCase(name))) add(out, name, single[name]);
    }
    return out;
  }
  if (isObject(single)) {
    // HTTP API payload 2.0 joins repeated headers with commas into one value; it stays one value here
    // (a comma can never be part of a valid credential, so the credential parsers reject it).
    for (const name of Object.keys(single)) add(out, name, single[name]);
  }
  return out;
}

function parseQuery(raw: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (raw === '') return out;
  for (const [name, value] of new URLSearchParams(raw)) {
    const key = name.toLowerCase();
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/**
 * Reads any authorizer event into one model. This is the only module that knows the event shapes.
 * Throws {@link MalformedEventError} for an event that is none of them.
 */
export function normalizeAuthorizerEvent(event: unknown, simpleResponses: boolean): AuthorizerRequest {
  if (!isObject(event)) throw new MalformedEventError('the event is not an object');
  const type = str(event.type);
  const context = isObject(event.requestContext) ? event.requestContext : {};
  if (type === 'TOKEN') {
    const arn = parseArn(event.methodArn);
    const token = str(event.authorizationToken);
    return {
      kind: 'rest-token',
      format: 'policy',
      arn,
      method: arn.method,
      path: arn.path,
      // A TOKEN authorizer sees the token and the method ARN only (no host, no certificate).
      domainName: undefined,
      stage: undefined,
      routeTemplate: undefined,
      headers: new Map(token === undefined ? [] : [['authorization', [token]]]),
      query: new Map(),
      sourceIp: undefined,
      requestId: undefined,
    };
  }
  if (type !== 'REQUEST') throw new MalformedEventError('the event type is neither TOKEN nor REQUEST');

  if (event.version === '2.0') {
    const arn = parseArn(event.routeArn);
    const http = isObject(context.http) ? context.http : {};
    const routeKey = str(event.routeKey) ?? str(context.routeKey);
    const template = routeKey?.includes(' ') ? routeKey.slice(routeKey.indexOf(' ') + 1) : undefined;
    return {
      kind: 'http-v2',
      format: simpleResponses ? 'simple' : 'policy',
      arn,
      method: (str(http.method) ?? arn.method).toUpperCase(),
      path: str(event.rawPath) ?? str(http.path) ?? arn.path,
      domainName: str(context.domainName),
      stage: str(context.stage),
      routeTemplate: template,
      headers: collect(event.headers, undefined),
      query: parseQuery(str(event.rawQueryString) ?? ''),
      sourceIp: str(http.sourceIp),
      requestId: str(context.requestId),
    };
  }

  const arn = parseArn(event.methodArn);
  const identity = isObject(context.identity) ? context.identity : {};
  const isWebSocket = str(context.eventType) === 'CONNECT' || arn.method.startsWith('$');
  const kind: AuthorizerEventKind = isWebSocket
    ? 'websocket'
    : event.version === '1.0'
      ? 'http-v1'
      : 'rest-request';
  return {
    kind,
    format: 'policy',
    arn,
    method: isWebSocket ? arn.method : (str(event.httpMethod) ?? arn.method).toUpperCase(),
    path: isWebSocket ? arn.path : (str(event.path) ?? arn.path),
    domainName: str(context.domainName),
    stage: str(context.stage),
    routeTemplate: isWebSocket ? undefined : (str(event.resource) ?? str(context.resourcePath)),
    headers: collect(event.headers, event.multiValueHeaders),
    query: collect(event.queryStringParameters, event.multiValueQueryStringParameters),
    sourceIp: str(identity.sourceIp),
    requestId: str(context.requestId),
  };
}

function parseArn(value: unknown): MethodArn {
  const arn = typeof value === 'string' ? parseMethodArn(value) : undefined;
  if (arn === undefined) throw new MalformedEventError('the event has no valid execute-api ARN');
  return arn;
}

/** All values of a header (case-insensitive). */
export function headerValues(request: AuthorizerRequest, name: string): readonly string[] {
  return request.headers.get(name.toLowerCase()) ?? [];
}
