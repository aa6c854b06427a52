/**
 * The gateway's routing of template paths: which route (resource + method) a request goes to, and
 * its path parameters. One narrow function per API style over the functions' route trie
 * (shared/routes/route-table.ts), so the gateway and the functions agree on precedence. Pure.
 *
 * REST APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-set-up-simple-proxy.html):
 * a literal segment beats `{param}`, which beats `{proxy+}`, segment by segment; a method beats
 * `ANY`; path parameters are handed on still percent-encoded, as they appeared in the URL.
 *
 * HTTP APIs (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):
 * a full match beats a greedy `{proxy+}` match, which beats the `$default` route; path parameters
 * are handed on decoded.
 *
 * Both match the path as API Gateway routes it: empty segments do not count (`/orders/` reaches the
 * `/orders` resource; the integration still gets the path as sent), and a literal segment also
 * matches its percent-encoded spelling.
 */
import {
  parseTemplate,
  RouteMatcher as RouteTrie,
  type TemplateSegment,
} from '../../shared/routes/route-table.ts';
import { TemplateError } from '../template/template.ts';

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

/** A template route as the trie holds it: its path without empty segments, and its segments. */
interface Entry<R> {
  readonly method: string;
  readonly path: string;
  readonly route: R;
  readonly segments: readonly TemplateSegment[];
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The trie entry of a route. API Gateway accepts only whole-segment parameters (`{id}`, a last
 * `{proxy+}`): anything else would not deploy, so the gateway refuses it rather than guess.
 */
function entryOf<R extends RouteShape>(route: R): Entry<R> {
  const path = `/${route.path.split('/').filter(Boolean).join('/')}`;
  let segments: readonly TemplateSegment[];
  try {
    segments = parseTemplate(path);
  } catch (err) {
    throw new TemplateError(`route ${route.method} ${route.path}: ${(err as Error).message}`);
  }
  for (const s of segments)
    if (s.kind === 'param' && (s.parts.length !== 1 || typeof s.parts[0] === 'string'))
      throw new TemplateError(
        `route ${route.method} ${route.path}: API Gateway path parameters span whole segments ({name} or a last {name+})`,
      );
  return { method: route.method, path, route, segments };
}

/** Raw path parameters of a matched entry, from the request's non-empty segments. */
function bind(segments: readonly TemplateSegment[], got: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  segments.forEach((s, i) => {
    if (s.kind === 'greedy') params[s.name] = got.slice(i).join('/');
    else if (s.kind === 'param') {
      const only = s.parts[0] as { name: string };
      params[only.name] = got[i] as string;
    }
  });
  return params;
}

function paramsOrNull(params: Record<string, string>, transform: (s: string) => string) {
  const entries = Object.entries(params);
  return entries.length === 0 ? null : Object.fromEntries(entries.map(([k, v]) => [k, transform(v)]));
}

/**
 * A lookup over some routes: the trie finds the route (its precedence is API Gateway's resource
 * precedence); the parameters are then read from the request's own segments, as they were sent.
 */
function trieLookup<R extends RouteShape>(
  entries: readonly Entry<R>[],
): (method: string, got: readonly string[]) => { route: R; params: Record<string, string> } | undefined {
  const trie = new RouteTrie(entries);
  const literals = new Set(
    entries.flatMap((e) => e.segments.flatMap((s) => (s.kind === 'literal' ? [s.text] : []))),
  );
  return (method, got) => {
    // A segment whose decoded form is one of the resource tree's literals is routed as that literal.
    const routed = got.map((g) => {
      if (literals.has(g)) return g;
      const d = decode(g);
      return d !== g && literals.has(d) ? d : g;
    });
    const found = trie.lookup(method, `/${routed.join('/')}`);
    if (found.kind !== 'found') return undefined;
    return { route: found.match.route.route, params: bind(found.match.route.segments, got) };
  };
}

function segmentsOfRequest(rawPath: string): string[] {
  return rawPath.split('/').filter(Boolean);
}

/** The REST API matcher: an unmatched path or method is `undefined` (403 Missing Authentication Token). */
export function restRouteMatcher<R extends RouteShape>(routes: readonly R[]): RouteMatcher<R> {
  const lookup = trieLookup(routes.map(entryOf));
  return (method, rawPath) => {
    const best = lookup(method, segmentsOfRequest(rawPath));
    // REST APIs hand path parameters on as they appeared in the URL (percent-encoded).
    return best === undefined
      ? undefined
      : { route: best.route, pathParameters: paramsOrNull(best.params, (s) => s) };
  };
}

/** The HTTP API matcher: full matches, then greedy matches, then `$default`; `undefined` is 404. */
export function httpRouteMatcher<R extends RouteShape>(routes: readonly R[]): RouteMatcher<R> {
  const fallback = routes.find((r) => r.path === '$default');
  const entries = routes.filter((r) => r.path !== '$default').map(entryOf);
  const greedy = (e: Entry<R>) => e.segments.some((s) => s.kind === 'greedy');
  // A route without a greedy variable beats one with it, whatever the segments: two tries, in turn.
  const full = trieLookup(entries.filter((e) => !greedy(e)));
  const partial = trieLookup(entries.filter(greedy));
  return (method, rawPath) => {
    const got = segmentsOfRequest(rawPath);
    const best = full(method, got) ?? partial(method, got);
    if (best !== undefined) return { route: best.route, pathParameters: paramsOrNull(best.params, decode) };
    return fallback === undefined ? undefined : { route: fallback, pathParameters: null };
  };
}
