import type { PathBinding } from './path-binding.ts';

/** HTTP methods an OpenAPI document can declare. */
export const HTTP_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One operation of the API document, as the authorizers and the gateway need it. */
export interface Route {
  /** Upper-case HTTP method. */
  readonly method: HttpMethod;
  /**
   * Path template as written in the document, e.g. `/orders/{id}` or `/v1/{name}:predict`. A greedy
   * last segment is written `{name}` here (never `{name+}`), with {@link Route.greedy} set.
   */
  readonly path: string;
  /** The document's `operationId`, or `METHOD path` when it has none. */
  readonly operationId: string;
  /**
   * Scope sets, any one of which is enough (OpenAPI security requirements are OR-ed; the scopes of
   * the schemes inside one requirement are AND-ed). `null` means the route needs no authentication.
   */
  readonly scopeAlternatives: readonly (readonly string[])[] | null;
  /**
   * The last path parameter spans one or more segments, `/` included (`/files/{path}` matches
   * `/files/a/b.txt`): API Gateway's greedy `{path+}` resource. See docs/policies.md#routing.
   */
  readonly greedy?: true;
  /**
   * Path parameters bound to the caller: the route is usable only with the caller's own value in
   * each (docs/tenant-binding.md).
   */
  readonly bindings?: readonly PathBinding[];
  /**
   * API Gateway authorizes the route with `AWS_IAM` (SigV4, an `awsSigv4` security scheme): the
   * Lambda authorizers never allow it (docs/deploy.md#service-to-service-routes-aws_iam).
   */
  readonly iam?: true;
}

/** The routes of one API document, in document order. */
export type RouteTable = readonly Route[];

/** What the request validator needs of a route: what it matches, forwards and checks. */
export type ValidatorRoute = Pick<Route, 'method' | 'path' | 'greedy' | 'bindings'>;

/** What the matcher needs of a route. `ANY` matches every method, after the routes that name it. */
export interface RouteTemplate {
  readonly method: string;
  /** `/orders/{id}`; a last segment `{name+}` is greedy, as in API Gateway. */
  readonly path: string;
  /** The last `{name}` segment is greedy (same as writing `{name+}`). */
  readonly greedy?: boolean | undefined;
}

/** A route matched against a concrete request path. */
export interface RouteMatch<R = Route> {
  readonly route: R;
  /** Path parameter values, still percent-encoded as they appeared in the path. */
  readonly params: Readonly<Record<string, string>>;
}

/** Outcome of looking a request up in the table: the document is the allow-list. */
export type RouteLookup<R extends RouteTemplate = Route> =
  | { readonly kind: 'found'; readonly match: RouteMatch<R> }
  /** Methods of the routes whose path matches, in table order. */
  | { readonly kind: 'method_not_allowed'; readonly allowed: readonly R['method'][] }
  | { readonly kind: 'not_found' };

/** One segment of a path template. */
export type TemplateSegment =
  | { readonly kind: 'literal'; readonly text: string }
  /** A segment with parameters and maybe literal text around them: `{id}`, `{name}:predict`, `v{n}`. */
  | {
      readonly kind: 'param';
      /** Literal text and parameter names in order, e.g. `[{ name: 'name' }, ':predict']`. */
      readonly parts: readonly (string | { readonly name: string })[];
    }
  /** The last segment `{name+}`: one or more characters, `/` included. */
  | { readonly kind: 'greedy'; readonly name: string };

/** Why a path template cannot be routed. */
export class RouteTemplateError extends Error {
  override readonly name = 'RouteTemplateError';
}

const PARAM = /\{([^{}]*)\}/g;
const WHOLE_PARAM = /^\{([^{}+]+)(\+?)\}$/;

/**
 * The segments of a path template, read without checks: what the functions do with the generated
 * table, whose templates {@link parseTemplate} accepted at build time, and with the resource paths
 * of events (a string that is no valid template then names no route).
 */
function splitTemplate(path: string, greedy: boolean): TemplateSegment[] {
  const raw = path.split('/').slice(1);
  return raw.map((_, i) => segmentAt(raw, i, greedy));
}

/** Segment `i` of a template split at `/` (the part before the leading `/` left out), unchecked. */
function segmentAt(raw: readonly string[], i: number, greedy: boolean): TemplateSegment {
  const segment = raw[i] as string;
  // Most segments are literal: no expression to run (a large API splits thousands at cold start).
  if (!segment.includes('{')) return { kind: 'literal', text: segment };
  const whole = WHOLE_PARAM.exec(segment);
  if (whole !== null) {
    const name = whole[1] as string;
    if (i === raw.length - 1 && (whole[2] === '+' || greedy)) return { kind: 'greedy', name };
    if (whole[2] === '') return { kind: 'param', parts: [{ name }] };
  }
  const parts: (string | { name: string })[] = [];
  let at = 0;
  for (const m of segment.matchAll(PARAM)) {
    if (m.index > at) parts.push(segment.slice(at, m.index));
    parts.push({ name: m[1] as string });
    at = m.index + m[0].length;
  }
  if (at < segment.length) parts.push(segment.slice(at));
  return { kind: 'param', parts };
}

/**
 * The segments of a path template, checked: a template starts with `/`; `{name+}` (or `greedy`
 * with a last `{name}` segment) is greedy and must be the last segment, as API Gateway requires;
 * parameters are named and separated by literal text. Throws {@link RouteTemplateError}.
 */
export function parseTemplate(path: string, greedy = false): readonly TemplateSegment[] {
  const refuse = (why: string) => {
    throw new RouteTemplateError(`${path}: ${why}`);
  };
  if (!path.startsWith('/')) refuse('a path template starts with "/"');
  const raw = path.split('/').slice(1);
  raw.forEach((segment, i) => {
    const last = i === raw.length - 1;
    const whole = /^\{([^{}+]+)(\+?)\}$/.exec(segment);
    if (whole?.[2] === '+' && !last) refuse('a greedy parameter must be the last segment');
    if (greedy && last && whole === null) refuse('the greedy last segment must be one {parameter}');
    if (whole?.[2] === '+') return;
    let at = 0;
    for (const m of segment.matchAll(PARAM)) {
      const name = m[1] as string;
      if (name === '' || name.endsWith('+')) refuse(`"{${name}}" is not a parameter name`);
      if (m.index === at && at > 0)
        refuse(`two parameters must be separated by literal text in "${segment}"`);
      at = m.index + m[0].length;
    }
    if (/[{}]/.test(segment.replace(PARAM, ''))) refuse(`unbalanced braces in "${segment}"`);
  });
  return splitTemplate(path, greedy);
}

/** Segments of a route (document routes carry `greedy`; API Gateway-style templates write `{name+}`). */
export function segmentsOf(route: RouteTemplate): readonly TemplateSegment[] {
  return splitTemplate(route.path, route.greedy === true);
}

/** Literal characters of a parameter segment (its weight among segments of the same kind). */
function literalLength(segment: Extract<TemplateSegment, { kind: 'param' }>): number {
  return segment.parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0);
}

/**
 * A key that ignores parameter names: `/orders/{id}` and `/orders/{orderId}` name one resource.
 * `whole`: a parameter segment counts as API Gateway's whole-segment parameter (see apiGatewayPath).
 */
function shapeOf(segments: readonly TemplateSegment[], whole = false): string {
  return segments
    .map((s) =>
      s.kind === 'literal'
        ? s.text
        : s.kind === 'greedy'
          ? '{+}'
          : whole
            ? '{}'
            : s.parts.map((p) => (typeof p === 'string' ? p : '{}')).join(''),
    )
    .join('/');
}

/**
 * The API Gateway resource (REST) or route path (HTTP API) of a route. API Gateway parameters span
 * whole segments, so a segment with literal text around a parameter (`{name}:predict`) becomes that
 * whole-segment parameter (`{name}`): several document routes may then share one resource.
 */
export function apiGatewayPath(route: RouteTemplate): string {
  const segments = segmentsOf(route).map((s) => {
    if (s.kind === 'literal') return s.text;
    if (s.kind === 'greedy') return `{${s.name}+}`;
    const only = s.parts.length === 1 ? s.parts[0] : undefined;
    if (typeof only === 'object') return `{${only.name}}`;
    const first = s.parts.find((p): p is { name: string } => typeof p !== 'string');
    return `{${first?.name ?? 'segment'}}`;
  });
  return `/${segments.join('/')}`;
}

/**
 * True when the route takes every request of its API Gateway resource: no segment has literal text
 * beside a parameter. Otherwise (`/v1/{name}:predict` on `/v1/{name}`) the resource API Gateway
 * matched does not name the route; the concrete path does.
 */
export function takesWholeResource(route: RouteTemplate): boolean {
  return segmentsOf(route).every((s) => s.kind !== 'param' || s.parts.length === 1);
}

/** `METHOD shape` of an API Gateway resource (`/orders/{id}`), parameter names left out. */
export function resourceKey(method: string, resourcePath: string): string {
  return `${method} ${shapeOf(splitTemplate(resourcePath, false))}`;
}

/**
 * The {@link resourceKey} of the API Gateway resource a route lives on (its {@link apiGatewayPath});
 * `segments`, when the caller has split the route already.
 */
export function routeResourceKey(
  route: RouteTemplate,
  segments: readonly TemplateSegment[] = segmentsOf(route),
): string {
  return `${route.method} ${shapeOf(segments, true)}`;
}

interface Terminal<R> {
  readonly route: R;
  /** The path parameter names in order; complete once the route is placed down to its end. */
  readonly names: string[];
  readonly order: number;
}

/** A route placed down to segment `next` of `raw` (its template split at `/`), the rest not yet. */
interface Pending<R> {
  readonly terminal: Terminal<R>;
  readonly raw: readonly string[];
  readonly next: number;
}

interface MixedBranch<R> {
  readonly pattern: RegExp;
  readonly source: string;
  readonly literal: number;
  readonly node: TrieNode<R>;
}

/** One node of the route trie: the routes that end here and the branches to the next segment. */
interface TrieNode<R> {
  readonly literal: Map<string, TrieNode<R>>;
  /** Segments with literal text around parameters, most literal text first. */
  readonly mixed: MixedBranch<R>[];
  param: TrieNode<R> | undefined;
  /** Greedy routes starting at this segment, by method. */
  readonly greedy: Map<string, Terminal<R>>;
  /** Routes ending here, by method. */
  readonly routes: Map<string, Terminal<R>>;
  /** Routes going through this node whose next segments are placed on its first visit, in table order. */
  pending: Pending<R>[] | undefined;
}

function node<R>(): TrieNode<R> {
  return {
    literal: new Map(),
    mixed: [],
    param: undefined,
    greedy: new Map(),
    routes: new Map(),
    pending: undefined,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Looks requests up in a route table: a trie of path segments, one map lookup per literal segment,
 * so the cost grows with the path's depth, not the number of routes.
 *
 * Precedence is API Gateway's, segment by segment from the left: a literal segment beats a segment
 * with literal text around a parameter (more literal text first), which beats a plain `{param}`,
 * which beats a greedy `{param+}`. A `{param}` matches one non-empty segment; `{param+}` matches one
 * or more characters, `/` included. Methods are case-sensitive (RFC 9110 §9.1); `ANY` comes after
 * the routes that name the method. Paths are compared as they are (percent-encoding kept): a
 * trailing slash or an empty segment is part of the path.
 */
export class RouteMatcher<R extends RouteTemplate = Route> {
  readonly #root: TrieNode<R> = node();
  // The indexes by template are built on their first use, the trie as requests walk it (below): a
  // large API's cold start builds only what its first request needs (docs/performance.md#where-the-time-goes).
  #byShape: Map<string, R[]> | undefined;
  #byDocument: Map<string, R> | undefined;
  /** The routes, in table order. */
  readonly routes: readonly R[];

  constructor(routes: readonly R[]) {
    this.routes = routes;
    // The trie grows as requests walk it: a node places the routes going through it on its first
    // visit, so a cold start splits and places only the routes sharing its first request's path.
    // Nodes are filled in table order: precedence, and which of two duplicates is found, are as if
    // the trie were built at once.
    this.#root.pending = routes.map((route, order) => ({
      terminal: { route, names: [], order },
      raw: route.path.split('/').slice(1),
      next: 0,
    }));
  }

  /** Places the routes pending at `at` one segment further down. */
  #expand(at: TrieNode<R>, pending: readonly Pending<R>[]): void {
    for (const { terminal, raw, next } of pending) {
      const method = terminal.route.method;
      if (next === raw.length) {
        if (!at.routes.has(method)) at.routes.set(method, terminal);
        continue;
      }
      const segment = segmentAt(raw, next, terminal.route.greedy === true);
      if (segment.kind === 'greedy') {
        terminal.names.push(segment.name);
        if (!at.greedy.has(method)) at.greedy.set(method, terminal);
        continue;
      }
      let child: TrieNode<R>;
      if (segment.kind === 'literal') {
        let literal = at.literal.get(segment.text);
        if (literal === undefined) {
          literal = node();
          at.literal.set(segment.text, literal);
        }
        child = literal;
      } else {
        for (const p of segment.parts) if (typeof p !== 'string') terminal.names.push(p.name);
        if (segment.parts.length === 1) {
          at.param ??= node();
          child = at.param;
        } else {
          const source = mixedSource(segment);
          let branch = at.mixed.find((m) => m.source === source);
          if (branch === undefined) {
            branch = {
              pattern: new RegExp(source, 's'),
              source,
              literal: literalLength(segment),
              node: node(),
            };
            at.mixed.push(branch);
            // Stable: among segments with as much literal text, the first in the table is tried first.
            at.mixed.sort((x, y) => y.literal - x.literal);
          }
          child = branch.node;
        }
      }
      child.pending ??= [];
      child.pending.push({ terminal, raw, next: next + 1 });
    }
  }

  /** The routes by `METHOD template`, the template as API Gateway writes it (the last route wins). */
  #documentTemplates(): Map<string, R> {
    const byDocument = new Map<string, R>();
    for (const route of this.routes) {
      // A greedy route is named as API Gateway names it (`{path+}`): its document form `{path}` is
      // another resource (one segment).
      const named =
        route.greedy === true && !route.path.endsWith('+}') ? `${route.path.slice(0, -1)}+}` : route.path;
      byDocument.set(`${route.method} ${named}`, route);
    }
    return byDocument;
  }

  /** Finds the route for a method and a concrete path (no query string). */
  lookup(method: string, path: string): RouteLookup<R> {
    if (!path.startsWith('/')) return { kind: 'not_found' };
    const values: string[] = [];
    const hit = this.#search(this.#root, path, 1, method, values);
    if (hit !== undefined) {
      const params: Record<string, string> = {};
      for (let i = 0; i < hit.names.length; i++) params[hit.names[i] as string] = values[i] as string;
      return { kind: 'found', match: { route: hit.route, params } };
    }
    const allowed = new Map<R['method'], number>();
    this.#search(this.#root, path, 1, undefined, values, allowed);
    if (allowed.size === 0) return { kind: 'not_found' };
    return {
      kind: 'method_not_allowed',
      allowed: [...allowed].sort((a, b) => a[1] - b[1]).map(([m]) => m),
    };
  }

  // The path is walked by index (no split): `start` is where the current segment begins, and is
  // past the end once every segment is consumed. Branches are tried in precedence order and the
  // first route found wins; without a method (`allowed` given), every branch is walked and the
  // methods of every route whose path matches are collected, with the first table position of each.
  #search(
    at: TrieNode<R>,
    path: string,
    start: number,
    method: string | undefined,
    values: string[],
    allowed?: Map<R['method'], number>,
  ): Terminal<R> | undefined {
    if (at.pending !== undefined) {
      const pending = at.pending;
      at.pending = undefined;
      this.#expand(at, pending);
    }
    const end = (terminals: Map<string, Terminal<R>>): Terminal<R> | undefined => {
      if (method !== undefined) return terminals.get(method) ?? terminals.get('ANY');
      for (const t of terminals.values())
        allowed?.set(t.route.method, Math.min(allowed.get(t.route.method) ?? t.order, t.order));
      return undefined;
    };
    if (start > path.length) return end(at.routes);
    const slash = path.indexOf('/', start);
    const stop = slash < 0 ? path.length : slash;
    const next = stop + 1;
    const segment = path.slice(start, stop);
    const literal = at.literal.get(segment);
    if (literal !== undefined) {
      const hit = this.#search(literal, path, next, method, values, allowed);
      if (hit !== undefined) return hit;
    }
    for (const branch of at.mixed) {
      const m = branch.pattern.exec(segment);
      if (m === null) continue;
      const depth = values.length;
      for (let k = 1; k < m.length; k++) values.push(m[k] as string);
      const hit = this.#search(branch.node, path, next, method, values, allowed);
      if (hit !== undefined) return hit;
      values.length = depth;
    }
    if (at.param !== undefined && segment !== '') {
      values.push(segment);
      const hit = this.#search(at.param, path, next, method, values, allowed);
      if (hit !== undefined) return hit;
      values.pop();
    }
    if (at.greedy.size > 0 && start < path.length) {
      const hit = end(at.greedy);
      if (hit !== undefined) {
        values.push(path.slice(start));
        return hit;
      }
    }
    return undefined;
  }

  /**
   * The route of an API Gateway resource (REST `resource` / `resourcePath`, or the path of an HTTP
   * API route key), or of a document template. `undefined` when no route, or several document
   * routes, live on it (see {@link apiGatewayPath}).
   */
  byTemplate(method: string, template: string): R | undefined {
    this.#byDocument ??= this.#documentTemplates();
    const own = this.#byDocument.get(`${method} ${template}`);
    if (own !== undefined) return own;
    const shared = this.onResource(method, template);
    return shared.length === 1 ? shared[0] : undefined;
  }

  /** Every route living on one API Gateway resource and method (usually one). */
  onResource(method: string, resourcePath: string): readonly R[] {
    if (!resourcePath.startsWith('/')) return [];
    this.#byShape ??= this.#shapes();
    return this.#byShape.get(resourceKey(method, resourcePath)) ?? [];
  }

  /** The routes by {@link routeResourceKey}, in table order. */
  #shapes(): Map<string, R[]> {
    const byShape = new Map<string, R[]>();
    for (const route of this.routes) {
      const key = routeResourceKey(route);
      const list = byShape.get(key);
      if (list === undefined) byShape.set(key, [route]);
      else list.push(route);
    }
    return byShape;
  }
}

/** The regular expression of a segment with literal text around parameters, one group per parameter. */
function mixedSource(segment: Extract<TemplateSegment, { kind: 'param' }>): string {
  return `^${segment.parts.map((p) => (typeof p === 'string' ? escapeRegExp(p) : '(.+?)')).join('')}$`;
}

/**
 * Precedence between routes, as {@link RouteMatcher.lookup} applies it (for the build, which
 * proves policies against it): `precedes(a, b)` is true when `a` wins over `b` for a path both
 * match (same method), i.e. at the first segment where they branch differently, `a`'s branch is
 * tried first — literal, then literal text around a parameter (more literal text first, then table
 * order), then `{param}`, then greedy.
 */
export function routePrecedence<R extends RouteTemplate>(routes: readonly R[]): (a: R, b: R) => boolean {
  // The branches of each trie node, keyed by the branches taken to reach it, as the matcher builds them.
  const mixedAt = new Map<string, { source: string; literal: number }[]>();
  const walks = routes.map((route) => {
    let key = '';
    const steps: { key: string; step: string; source?: string }[] = [];
    for (const s of segmentsOf(route)) {
      if (s.kind === 'literal') steps.push({ key, step: `l${s.text}` });
      else if (s.kind === 'greedy') steps.push({ key, step: 'g' });
      else if (s.parts.length === 1) steps.push({ key, step: 'p' });
      else {
        const source = mixedSource(s);
        const list = mixedAt.get(key) ?? [];
        if (!list.some((m) => m.source === source)) list.push({ source, literal: literalLength(s) });
        mixedAt.set(key, list);
        steps.push({ key, step: `m${source}`, source });
      }
      key += `/${(steps.at(-1) as { step: string }).step}`;
    }
    return steps;
  });
  for (const list of mixedAt.values()) list.sort((x, y) => y.literal - x.literal);
  const ranks = new Map<R, number[]>();
  routes.forEach((route, i) => {
    ranks.set(
      route,
      (walks[i] ?? []).map(({ key, step, source }) =>
        step[0] === 'l'
          ? 0
          : source !== undefined
            ? 1 + (mixedAt.get(key) ?? []).findIndex((m) => m.source === source)
            : step === 'p'
              ? 1_000_000
              : 2_000_000,
      ),
    );
  });
  return (a, b) => {
    const ra = ranks.get(a) ?? [];
    const rb = ranks.get(b) ?? [];
    for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
      const x = ra[i] as number;
      const y = rb[i] as number;
      if (x !== y) return x < y;
    }
    return false;
  };
}

/** The scopes a caller holds satisfy a route when they cover at least one of its alternatives. */
export function scopesPermit(route: Route, granted: ReadonlySet<string>): boolean {
  if (route.iam === true) return false;
  if (route.scopeAlternatives === null) return true;
  return route.scopeAlternatives.some((needed) => needed.every((scope) => granted.has(scope)));
}
