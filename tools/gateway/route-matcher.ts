/**
 * The gateway's routing of template paths: which route (resource + method) a request goes to, and
 * its path parameters. One narrow function per API style, so the matching can later move to a
 * shared matcher without touching the pipelines. Pure.
 *
 * REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html):
 * a literal segment beats `{param}`, which beats `{proxy+}`, segment by segment; a method beats
 * `ANY`; path parameters are handed on still percent-encoded, as they appeared in the URL.
 *
 * HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):
 * a full match beats a greedy `{proxy+}` match, which beats the `$default` route; path parameters
 * are handed on decoded.
 */

/** The part of a route the matcher reads. */
export interface RouteShape {
  /** Upper-case method, or `ANY`. */
  readonly method: string;
  /** Resource path (`/orders/{id}`, `/{proxy+}`), or `$default` (HTTP APIs). */
  readonly path: string;
}

/** A route chosen for a request. */
export interface RouteMatch<R extends RouteShape> {
  readonly route: R;
  /** Path parameters by name; `null` when the route has none. */
  readonly pathParameters: Readonly<Record<string, string>> | null;
}

/** Finds the route of a request: method and raw path (no query string, still percent-encoded). */
export type RouteMatcher<R extends RouteShape> = (
  method: string,
  rawPath: string,
) => RouteMatch<R> | undefined;

type Segment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

interface Compiled<R> {
  readonly route: R;
  readonly segments: readonly Segment[];
  readonly greedy: boolean;
}

function compile<R extends RouteShape>(route: R): Compiled<R> {
  const segments: Segment[] = route.path
    .split('/')
    .filter(Boolean)
    .map((s) => {
      const greedy = /^\{(.+)\+\}$/.exec(s);
      if (greedy?.[1] !== undefined) return { kind: 'greedy', name: greedy[1] };
      const param = /^\{(.+)\}$/.exec(s);
      if (param?.[1] !== undefined) return { kind: 'param', name: param[1] };
      return { kind: 'literal', text: s };
    });
  return { route, segments, greedy: segments.some((s) => s.kind === 'greedy') };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Raw path parameters when `segments` match the request's path segments, else `undefined`. */
function bind(segments: readonly Segment[], got: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, w] of segments.entries()) {
    if (w.kind === 'greedy') {
      // A greedy parameter takes at least one segment.
      if (i >= got.length) return undefined;
      params[w.name] = got.slice(i).join('/');
      return params;
    }
    const g = got[i];
    if (g === undefined) return undefined;
    if (w.kind === 'param') params[w.name] = g;
    // Literal segments compare decoded, as the resource tree holds them.
    else if (w.text !== g && w.text !== decode(g)) return undefined;
  }
  return got.length === segments.length ? params : undefined;
}

function rank(segments: readonly Segment[]): number[] {
  return segments.map((s) => (s.kind === 'literal' ? 2 : s.kind === 'param' ? 1 : 0));
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return x - y;
  }
  return 0;
}

function paramsOrNull(params: Record<string, string>, transform: (s: string) => string) {
  const entries = Object.entries(params);
  return entries.length === 0 ? null : Object.fromEntries(entries.map(([k, v]) => [k, transform(v)]));
}

type Candidate<R> = { readonly c: Compiled<R>; readonly params: Record<string, string> };

/** The best of the routes matching `method rawPath`, by `better(candidate, best)`. */
function select<R extends RouteShape>(
  compiled: readonly Compiled<R>[],
  method: string,
  rawPath: string,
  better: (a: Compiled<R>, b: Compiled<R>) => boolean,
): Candidate<R> | undefined {
  const got = rawPath.split('/').filter(Boolean);
  let best: Candidate<R> | undefined;
  for (const c of compiled) {
    if (c.route.method !== 'ANY' && c.route.method !== method) continue;
    const params = bind(c.segments, got);
    if (params !== undefined && (best === undefined || better(c, best.c))) best = { c, params };
  }
  return best;
}

/** Literal beats `{param}` beats `{proxy+}`, segment by segment; then a method beats ANY. */
function moreSpecific<R extends RouteShape>(a: Compiled<R>, b: Compiled<R>): boolean {
  const order = compareRank(rank(a.segments), rank(b.segments));
  return order > 0 || (order === 0 && a.route.method !== 'ANY' && b.route.method === 'ANY');
}

/** The REST API matcher: an unmatched path or method is `undefined` (403 Missing Authentication Token). */
export function restRouteMatcher<R extends RouteShape>(routes: readonly R[]): RouteMatcher<R> {
  const compiled = routes.map(compile);
  return (method, rawPath) => {
    const best = select(compiled, method, rawPath, moreSpecific);
    // REST APIs hand path parameters on as they appeared in the URL (percent-encoded).
    return best === undefined
      ? undefined
      : { route: best.c.route, pathParameters: paramsOrNull(best.params, (s) => s) };
  };
}

/** The HTTP API matcher: full matches, then greedy matches, then `$default`; `undefined` is 404. */
export function httpRouteMatcher<R extends RouteShape>(routes: readonly R[]): RouteMatcher<R> {
  const fallback = routes.find((r) => r.path === '$default');
  const compiled = routes.filter((r) => r.path !== '$default').map(compile);
  // A route without a greedy variable beats one with it, whatever the segments.
  const better = (a: Compiled<R>, b: Compiled<R>) => (a.greedy !== b.greedy ? !a.greedy : moreSpecific(a, b));
  return (method, rawPath) => {
    const best = select(compiled, method, rawPath, better);
    if (best !== undefined) return { route: best.c.route, pathParameters: paramsOrNull(best.params, decode) };
    return fallback === undefined ? undefined : { route: fallback, pathParameters: null };
  };
}
