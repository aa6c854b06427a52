/** HTTP methods an OpenAPI document can declare. */
export const HTTP_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One operation of the API document, as the authorizers and the gateway need it. */
export interface Route {
  /** Upper-case HTTP method. */
  readonly method: HttpMethod;
  /** Path template as written in the document, e.g. `/orders/{id}`. */
  readonly path: string;
  /** The document's `operationId`, or `METHOD path` when it has none. */
  readonly operationId: string;
  /**
   * Scope sets, any one of which is enough (OpenAPI security requirements are OR-ed; the scopes of
   * the schemes inside one requirement are AND-ed). `null` means the route needs no authentication.
   */
  readonly scopeAlternatives: readonly (readonly string[])[] | null;
}

/** The routes of one API document, in document order. */
export type RouteTable = readonly Route[];

/** A route matched against a concrete request path. */
export interface RouteMatch {
  readonly route: Route;
  /** Path parameter values, still percent-encoded as they appeared in the path. */
  readonly params: Readonly<Record<string, string>>;
}

/** Outcome of looking a request up in the table: the document is the allow-list. */
export type RouteLookup =
  | { readonly kind: 'found'; readonly match: RouteMatch }
  | { readonly kind: 'method_not_allowed'; readonly allowed: readonly HttpMethod[] }
  | { readonly kind: 'not_found' };

interface CompiledTemplate {
  readonly segments: readonly ({ literal: string } | { param: string })[];
}

function compileTemplate(path: string): CompiledTemplate {
  return {
    segments: path
      .split('/')
      .slice(1)
      .map((segment) => {
        const param = /^\{([^{}]+)\}$/.exec(segment);
        return param?.[1] !== undefined ? { param: param[1] } : { literal: segment };
      }),
  };
}

/** True when a route's path template has no `{param}` segment. */
export function isLiteralTemplate(path: string): boolean {
  return !path.includes('{');
}

/**
 * Looks requests up in a route table. Literal segments beat parameters (as in API Gateway and
 * OpenAPI), and a parameter matches exactly one non-empty segment.
 */
export class RouteMatcher {
  readonly #entries: readonly { readonly route: Route; readonly template: CompiledTemplate }[];

  constructor(routes: RouteTable) {
    this.#entries = routes.map((route) => ({ route, template: compileTemplate(route.path) }));
  }

  /** Finds the route for a method and a concrete path (no query string). */
  lookup(method: string, path: string): RouteLookup {
    const segments = path.split('/').slice(1);
    let best: { match: RouteMatch; score: number } | undefined;
    const allowed = new Set<HttpMethod>();
    for (const { route, template } of this.#entries) {
      const matched = matchSegments(template, segments);
      if (matched === undefined) continue;
      allowed.add(route.method);
      if (route.method !== method.toUpperCase()) continue;
      if (best === undefined || matched.score > best.score) {
        best = { match: { route, params: matched.params }, score: matched.score };
      }
    }
    if (best !== undefined) return { kind: 'found', match: best.match };
    if (allowed.size > 0) return { kind: 'method_not_allowed', allowed: [...allowed] };
    return { kind: 'not_found' };
  }

  /** Finds a route by its exact template (`GET /orders/{id}`), as HTTP API route keys give it. */
  byTemplate(method: string, template: string): Route | undefined {
    const upper = method.toUpperCase();
    return this.#entries.find((e) => e.route.method === upper && e.route.path === template)?.route;
  }
}

function matchSegments(
  template: CompiledTemplate,
  segments: readonly string[],
): { params: Record<string, string>; score: number } | undefined {
  if (template.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  let score = 0;
  for (let i = 0; i < segments.length; i++) {
    const expected = template.segments[i];
    const actual = segments[i];
    if (expected === undefined || actual === undefined) return undefined;
    if ('literal' in expected) {
      if (expected.literal !== actual) return undefined;
      // Earlier literal segments weigh more, so /a/{x} loses to /a/b and {x}/b loses to a/{y}.
      score += 2 ** (segments.length - i);
    } else {
      if (actual.length === 0) return undefined;
      params[expected.param] = actual;
    }
  }
  return { params, score };
}

/** The scopes a caller holds satisfy a route when they cover at least one of its alternatives. */
export function scopesPermit(route: Route, granted: ReadonlySet<string>): boolean {
  if (route.scopeAlternatives === null) return true;
  return route.scopeAlternatives.some((needed) => needed.every((scope) => granted.has(scope)));
}
