// Method ARNs as an attacker (or an API larger than the document) sends them: every method, the
// table's routes with hostile parameter values, deeper paths, trailing slashes, empty segments,
// encoded characters, IAM wildcard characters and unknown prefixes. API Gateway evaluates a cached
// policy against the whole ARN string, so the policy properties draw from all of these.
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  apiGatewayPath,
  type Route,
  RouteMatcher,
  type RouteTable,
  scopesPermit,
} from '../../../shared/routes/route-table.ts';
import { evaluatePolicy, readAuthorizerAnswer } from '../../../tools/gateway/policy-evaluation.ts';

/** API Gateway refuses authorized requests whose method ARN is longer than this (414). */
export const MAX_METHOD_ARN_BYTES = 1600;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'] as const;

/**
 * Methods: the document's, other real ones, other case, wildcard characters, junk. `$connect` is
 * left out: it is the WebSocket route key, answered by its own rule (a verified caller may connect).
 */
export const methodArb: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
    { weight: 1, arbitrary: fc.constantFrom('get', 'Get', 'ANY', '*', 'G?T', 'GE*', '$*', '$default') },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z*?]{1,8}$/) },
  )
  .filter((method) => method !== '$connect');

/** One path segment value: plain, empty, with a slash, encoded, wildcard characters, dots, long. */
export const segmentArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9_]{1,10}$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('', 'a/b', '%2F', 'a%2Fb', '*', '?', 'x*', '.', '..', '%20', 'notes', 'a:b'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);

/** A concrete path for a template: each `{param}` (or `{param+}`) replaced by generated values. */
function instantiate(template: string, values: readonly string[]): string {
  let i = 0;
  return template.replace(/\{[^{}]+\}/g, () => values[i++ % values.length] ?? 'x');
}

/**
 * Paths: table routes with hostile values and suffixes, unknown prefixes, arbitrary strings. The
 * table's own literal segments are among the values, so that a parameter often takes the value of a
 * more specific route (`/items/{id}` called as `/items/search`).
 */
export function pathArb(routes: RouteTable): fc.Arbitrary<string> {
  const templates = [...new Set(routes.map((r) => r.path)), '/'];
  const literals = [
    ...new Set(routes.flatMap((r) => r.path.split('/').filter((s) => s !== '' && !s.includes('{')))),
  ];
  const value =
    literals.length === 0
      ? segmentArb
      : fc.oneof(
          { weight: 3, arbitrary: segmentArb },
          { weight: 2, arbitrary: fc.constantFrom(...literals) },
        );
  const fromTable = fc
    .tuple(
      fc.constantFrom(...templates),
      fc.array(value, { minLength: 1, maxLength: 4 }),
      fc.constantFrom('', '', '', '/', '/x', '/notes', '//', '/a/b/c', '?', '*', '%2F'),
    )
    .map(([template, values, suffix]) => instantiate(template, values) + suffix);
  const segments = fc.array(segmentArb, { minLength: 0, maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
  const prefixed = fc
    .tuple(fc.constantFrom('/nope', '/v2', '//', '/orders%2F', '/ORDERS'), fromTable)
    .map(([prefix, path]) => prefix + path);
  return fc.oneof(
    { weight: 6, arbitrary: fromTable },
    { weight: 2, arbitrary: segments },
    { weight: 1, arbitrary: prefixed },
    { weight: 1, arbitrary: fc.constantFrom('', '/', '//', '/*', '/?') },
  );
}

function hasControlOrSpace(text: string): boolean {
  for (const c of text) {
    const code = c.codePointAt(0) as number;
    if (code < 0x21 || code === 0x7f || /\s/.test(c)) return true;
  }
  return false;
}

/**
 * Method ARNs under one stage prefix (`arn:…:{apiId}/{stage}`), as API Gateway can send them: within
 * its length limit, without whitespace or control characters.
 */
export function methodArnArb(routes: RouteTable, stagePrefix: string): fc.Arbitrary<string> {
  return (
    fc
      .tuple(methodArb, pathArb(routes))
      .map(([method, path]) => `${stagePrefix}/${method}${path}`)
      // A request line has no whitespace or control characters, so no method ARN has any.
      .filter((arn) => Buffer.byteLength(arn) <= MAX_METHOD_ARN_BYTES && !hasControlOrSpace(arn))
  );
}

/** The method and the resource path of an ARN under `stagePrefix`, exactly as they appear in it. */
export function splitMethodArn(arn: string, stagePrefix: string): { method: string; path: string } {
  const rest = arn.slice(stagePrefix.length + 1);
  const slash = rest.indexOf('/');
  return slash < 0 ? { method: rest, path: '' } : { method: rest.slice(0, slash), path: rest.slice(slash) };
}

const matchers = new WeakMap<RouteTable, RouteMatcher>();

function matcherOf(routes: RouteTable): RouteMatcher {
  let matcher = matchers.get(routes);
  if (matcher === undefined) {
    matcher = new RouteMatcher(routes);
    matchers.set(routes, matcher);
  }
  return matcher;
}

/**
 * The API Gateway resource a request goes to, as the matcher routes it; a catch-all resource when no
 * route takes it (an existing API the authorizer is attached to may have one).
 */
export function resourceOf(routes: RouteTable, arn: string, stagePrefix: string): string {
  const { method, path } = splitMethodArn(arn, stagePrefix);
  const found = matcherOf(routes).lookup(method, path);
  return found.kind === 'found' ? apiGatewayPath(found.match.route) : '/{proxy+}';
}

/**
 * The REST REQUEST event API Gateway sends an API key authorizer for a method ARN: `resource` is the
 * API Gateway resource it routed the request to (see {@link resourceOf}).
 */
export function apiKeyRequestEvent(
  routes: RouteTable,
  arn: string,
  stagePrefix: string,
  key: string,
  requestId = 'property-1',
): Record<string, unknown> {
  const { method, path } = splitMethodArn(arn, stagePrefix);
  const resource = resourceOf(routes, arn, stagePrefix);
  return {
    type: 'REQUEST',
    methodArn: arn,
    resource,
    path,
    httpMethod: method,
    headers: { 'x-api-key': key },
    multiValueHeaders: { 'x-api-key': [key] },
    queryStringParameters: {},
    requestContext: {
      requestId,
      resourcePath: resource,
      httpMethod: method,
      identity: { sourceIp: '203.0.113.10' },
    },
  };
}

/**
 * The caller's raw values for bound path parameters (a claim, a credential's tenant), by parameter
 * name, as its token or credential holds them: hostile ones included.
 */
export type CallerValues = Readonly<Record<string, unknown>>;

/**
 * Whether a caller's raw value may stand in a bound position, as docs/tenant-binding.md states it
 * (written here from the documentation, not from the implementation): a string of 1-128 RFC 3986
 * unreserved characters, not `.` or `..`, within the parameter's schema.
 */
export function usableValue(binding: NonNullable<Route['bindings']>[number], raw: unknown): raw is string {
  return (
    typeof raw === 'string' &&
    /^[A-Za-z0-9._~-]{1,128}$/.test(raw) &&
    raw !== '.' &&
    raw !== '..' &&
    raw.length <= binding.maxLength &&
    raw.length >= (binding.minLength ?? 0) &&
    (binding.enum?.includes(raw) ?? true) &&
    (binding.pattern === undefined || new RegExp(binding.pattern, 'u').test(raw))
  );
}

/**
 * The path segment in the position of each bound parameter equals the caller's usable value: the
 * ARN's path cut at `/`, at the parameter's position in the route's template.
 */
export function ownBoundPath(route: Route, path: string, values: CallerValues | undefined): boolean {
  const templateSegments = route.path.split('/');
  const pathSegments = path.split('/');
  return (route.bindings ?? []).every((b) => {
    const raw = values?.[b.param];
    return usableValue(b, raw) && pathSegments[templateSegments.indexOf(`{${b.param}}`)] === raw;
  });
}

/**
 * What a fresh decision says for a method ARN, from the document alone: the route the path and the
 * exact method name (HTTP methods are case-sensitive) reach, whether the scopes permit it, and for
 * a bound route whether the path holds the caller's own values. Paths no route has (deeper,
 * trailing slash, empty or encoded segments, unknown prefixes) are refused; so are AWS_IAM routes.
 */
export function documentPermits(
  routes: RouteTable,
  granted: ReadonlySet<string>,
  arn: string,
  stagePrefix: string,
  values?: CallerValues,
): boolean {
  const { method, path } = splitMethodArn(arn, stagePrefix);
  const found = matcherOf(routes).lookup(method, path);
  if (found.kind !== 'found') return false;
  const route = found.match.route;
  return (
    route.method === method &&
    route.iam !== true &&
    scopesPermit(route, granted) &&
    ownBoundPath(route, path, values)
  );
}

/**
 * The cache property for one pair of requests of a caller: the answer to the later request gives the
 * fresh decision's verdict on it, and so does the answer to the first one when API Gateway would reuse
 * it for the later one (`sameKey`).
 */
export function expectCacheExact(check: {
  readonly routes: RouteTable;
  readonly granted: ReadonlySet<string>;
  readonly stagePrefix: string;
  readonly first: string;
  readonly later: string;
  readonly firstAnswer: unknown;
  readonly laterAnswer: unknown;
  readonly sameKey: boolean;
  /** The caller's raw values for bound parameters (none: every bound route is refused). */
  readonly values?: CallerValues;
}): void {
  const { first, later } = check;
  const expected = documentPermits(check.routes, check.granted, later, check.stagePrefix, check.values);
  expect({ later, fresh: policyAllows(check.laterAnswer, later) }).toEqual({ later, fresh: expected });
  if (check.sameKey)
    expect({ first, later, cached: policyAllows(check.firstAnswer, later) }).toEqual({
      first,
      later,
      cached: expected,
    });
}

/** API Gateway's verdict on a policy answer for one ARN (Deny wins, then any Allow; `*`/`?` globs). */
export function policyAllows(answer: unknown, arn: string): boolean {
  const read = readAuthorizerAnswer(answer);
  if (read === undefined) throw new Error('the authorizer answered something API Gateway rejects');
  return evaluatePolicy(read.statements, arn) === 'allow';
}

/**
 * Two requests to one route of the table (as API Gateway routes them to one resource): the same
 * template with other parameter values, so that a per-route cache key is shared. Some of them
 * reach a more specific route instead (their key differs; the property then checks each alone).
 */
export function sameRouteArnsArb(routes: RouteTable, stagePrefix: string): fc.Arbitrary<[string, string]> {
  const value = fc.oneof(
    fc.stringMatching(/^[a-z0-9_]{1,8}$/),
    fc.constantFrom('search', 'notes', 'a/b', 'x:archive'),
  );
  return fc
    .tuple(
      fc.constantFrom(...routes),
      fc.array(value, { minLength: 1, maxLength: 4 }),
      fc.array(value, { minLength: 1, maxLength: 4 }),
    )
    .map(([route, a, b]) => [
      `${stagePrefix}/${route.method}${instantiate(route.path, a)}`,
      `${stagePrefix}/${route.method}${instantiate(route.path, b)}`,
    ]);
}
