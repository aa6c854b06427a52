/**
 * Compiles what a Lambda authorizer answers into IAM policies that are exact on every method ARN.
 *
 * API Gateway caches an authorizer's answer under the values of its identity sources and evaluates
 * the cached policy against the method ARN of every later request with the same values. IAM's `*`
 * also spans `/`, so a policy of route patterns (`GET/orders/*`) would allow paths no route has.
 * The compiler therefore writes each route as an Allow whose parameters are `?*` (non-empty) plus
 * Denies for what those wildcards overreach (a parameter spanning a `/`, a more specific route the
 * caller may not use), and proves, once per route table, that no Deny can reach a request the
 * caller may make. When that proof fails, or the policy would not fit API Gateway's limit, the API
 * is answered per route instead (see {@link CacheMode}). docs/policies.md explains the whole scheme.
 */
import {
  apiGatewayPath,
  type Route,
  RouteMatcher,
  type RouteTable,
  resourceKey,
  scopesPermit,
  segmentsOf,
  type TemplateSegment,
} from '../routes/route-table.ts';
import { globTokens, patternCovers, type Token, templateTokens, tokensOverlap } from './resource-pattern.ts';

/** An IAM policy document as API Gateway expects it from a Lambda authorizer. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Action: 'execute-api:Invoke';
  readonly Effect: 'Allow' | 'Deny';
  readonly Resource: readonly string[];
}

/** A compiled whole-API policy and what it says about the caller. */
export interface CompiledPolicy {
  readonly document: PolicyDocument;
  /** Routes the caller may use (public routes included), in table order. */
  readonly permitted: readonly Route[];
}

/**
 * What one cached authorizer answer covers, chosen per route table:
 * - `api`: one policy per caller for the whole API (identity sources: the credential only). Chosen
 *   when that policy is exact for every scope set and fits {@link POLICY_DOCUMENT_MAX_BYTES}.
 * - `route`: one answer per caller and API Gateway resource and method (identity sources add them:
 *   REST `context.httpMethod` + `context.resourcePath`, HTTP API `$context.routeKey`), covering the
 *   document routes on that resource.
 * - `path`: one answer per caller, method and concrete path (REST `context.httpMethod` +
 *   `context.path`, HTTP API `$context.httpMethod` + `$context.path`), for tables where the routes
 *   sharing an API Gateway resource cannot be answered exactly together.
 */
export type CacheMode = 'api' | 'route' | 'path';

/**
 * API Gateway's limit on a Lambda authorizer's result: 8 KB, documented for WebSocket APIs (not
 * adjustable). REST and HTTP APIs document none (the Lambda response limit, 6 MB, applies); the
 * same bound is kept for them so that one answer works for every API type.
 */
export const AUTHORIZER_RESULT_MAX_BYTES = 8192;

/** The policy document's share of {@link AUTHORIZER_RESULT_MAX_BYTES}; the rest is left for principalId, context and usageIdentifierKey. */
export const POLICY_DOCUMENT_MAX_BYTES = 6144;

/**
 * The longest stage prefix a policy resource can start with, to size policies before deployment:
 * the longest partition (`aws-us-gov`), a 14-character region, a 12-digit account, a 10-character
 * API id and a 128-character stage name (API Gateway's maximum).
 */
export const WORST_CASE_STAGE_PREFIX = `arn:aws-us-gov:execute-api:ap-southeast-1:123456789012:abcdefghij/${'s'.repeat(128)}`;

/** The patterns of one route, relative to the stage prefix (`GET/orders/?*`). */
interface RoutePatterns {
  readonly route: Route;
  readonly segments: readonly TemplateSegment[];
  /** Every request to the route, and, where a parameter would span a `/`, more. */
  readonly allow: string;
  /** What `allow` overreaches: the same shape with one parameter spanning a `/` (never a request to the route). */
  readonly deeper: readonly string[];
  /** The route's literal text has no `*` or `?`, so `allow` does not stand for other literals. */
  readonly literalSafe: boolean;
  readonly tokens: readonly Token[];
  readonly greedy: boolean;
  /** Some overreach cannot be denied without refusing the route itself (beside a greedy parameter). */
  readonly unbounded: boolean;
}

/** A Deny for a more specific route `by` that wins over `route` on some requests. */
interface Precedence {
  readonly by: Route;
  readonly pattern: string;
}

/** The result of planning a route table's policies. */
export interface PolicyPlan {
  readonly mode: CacheMode;
  /** Why the whole-API policy (and, in mode `path`, per-resource answers) cannot be used. */
  readonly reasons: readonly string[];
  /**
   * Each API Gateway route (method and resource) takes requests of document routes permitted alike,
   * and one of them takes every request of the resource: an HTTP API route key then decides a
   * simple response alone.
   */
  readonly routeKeysExact: boolean;
  /** Largest policy document any caller can be answered in this mode, in bytes, with {@link WORST_CASE_STAGE_PREFIX}. */
  readonly largestPolicyBytes: number;
}

const GLOB = /[*?]/g;

function patternsOf(route: Route): RoutePatterns {
  const segments = segmentsOf(route);
  let literalSafe = true;
  const lit = (text: string) => {
    if (/[*?]/.test(text)) literalSafe = false;
    // IAM has no escape for `*` and `?`: `?` (one character) is the closest, and the route is then
    // kept out of whole-API policies, which must be exact.
    return text.replace(GLOB, '?');
  };
  // Renders the template with the k-th parameter as `spread` and the others as `other`.
  const render = (other: string, spreadAt = -1, spread = ''): string => {
    let k = 0;
    const parts = segments.map((s) => {
      if (s.kind === 'literal') return lit(s.text);
      if (s.kind === 'greedy') return other;
      return s.parts
        .map((p) => {
          if (typeof p === 'string') return lit(p);
          return k++ === spreadAt ? spread : other;
        })
        .join('');
    });
    return `${route.method}/${parts.join('/')}`;
  };
  const params = segments.reduce(
    (n, s) => n + (s.kind === 'param' ? s.parts.filter((p) => typeof p !== 'string').length : 0),
    0,
  );
  const deeper = new Set<string>();
  for (let k = 0; k < params; k++) deeper.add(render('*', k, '*/*'));
  const tokens = templateTokens(route.method, segments);
  const greedy = segments.some((s) => s.kind === 'greedy');
  // A Deny that could refuse a request to the route itself (possible beside a greedy parameter)
  // is left out: the route's own Allow must stand.
  const bounded = [...deeper].filter((d) => !tokensOverlap(globTokens(d), tokens));
  return {
    route,
    segments,
    allow: render('?*'),
    deeper: bounded,
    literalSafe,
    tokens,
    greedy,
    unbounded: bounded.length < deeper.size,
  };
}

/**
 * The pattern for the requests that `by` (more specific) takes from `route`: segment by segment the
 * more specific of the two, or `by`'s own pattern when their shapes differ (a greedy parameter).
 */
function precedencePattern(by: RoutePatterns, route: RoutePatterns): string {
  if (by.greedy || route.greedy || by.segments.length !== route.segments.length) return by.allow;
  const segment = (a: TemplateSegment, b: TemplateSegment): string => {
    if (a.kind === 'literal') return a.text.replace(GLOB, '?');
    if (b.kind === 'literal') return b.text.replace(GLOB, '?');
    const pick = a.kind === 'param' && a.parts.length > 1 ? a : b;
    if (pick.kind !== 'param') return '?*';
    return pick.parts.map((p) => (typeof p === 'string' ? p.replace(GLOB, '?') : '?*')).join('');
  };
  const parts = by.segments.map((s, i) => segment(s, route.segments[i] as TemplateSegment));
  return `${route.route.method}/${parts.join('/')}`;
}

/** Can some caller use `a` and `b` but not `not`? (scope sets: one alternative of each, OR-ed). */
function canPermitWithout(a: Route, b: Route, not: Route): boolean {
  if (not.scopeAlternatives === null) return false;
  const alts = (r: Route) => r.scopeAlternatives ?? [[]];
  for (const x of alts(a))
    for (const y of alts(b)) {
      const held = new Set([...x, ...y]);
      if (!(not.scopeAlternatives as readonly (readonly string[])[]).some((c) => c.every((s) => held.has(s))))
        return true;
    }
  return false;
}

function statement(effect: 'Allow' | 'Deny', resources: readonly string[]): PolicyStatement {
  return { Action: 'execute-api:Invoke', Effect: effect, Resource: resources };
}

/** The policy that refuses everything in the stage. */
export function denyStage(stagePrefix: string): PolicyDocument {
  return { Version: '2012-10-17', Statement: [statement('Deny', [`${stagePrefix}/*`])] };
}

function documentOf(stagePrefix: string, allow: readonly string[], deny: readonly string[]): PolicyDocument {
  if (allow.length === 0) return denyStage(stagePrefix);
  const statements = [
    statement(
      'Allow',
      allow.map((p) => `${stagePrefix}/${p}`),
    ),
  ];
  if (deny.length > 0)
    statements.push(
      statement(
        'Deny',
        deny.map((p) => `${stagePrefix}/${p}`),
      ),
    );
  return { Version: '2012-10-17', Statement: statements };
}

/** Serialized size of a policy document, as API Gateway receives it. */
export function policyBytes(document: PolicyDocument): number {
  return Buffer.byteLength(JSON.stringify(document));
}

/**
 * A set of routes one cached answer covers (the whole API, or the routes of one API Gateway
 * resource and method) with what its policies need: the Denies of more specific routes, and the
 * patterns a wider pattern of the same effect makes redundant.
 */
interface Unit {
  readonly id: number;
  readonly patterns: readonly RoutePatterns[];
  readonly precedence: ReadonlyMap<Route, readonly Precedence[]>;
  readonly coveredBy: ReadonlyMap<string, readonly string[]>;
}

/**
 * The policies of one route table: the plan (checked once), the per-route patterns, and the
 * compiler of each cached answer. Pure; build it once per table (at cold start, or at build time).
 */
export class PolicyCompiler {
  readonly routes: RouteTable;
  readonly matcher: RouteMatcher;
  readonly plan: PolicyPlan;
  readonly #patterns: readonly RoutePatterns[];
  readonly #byRoute = new Map<Route, RoutePatterns>();
  /** The whole-API unit (mode `api`). */
  #api: Unit | undefined;
  /** Each route's unit in the plan's mode (its resource in `route`, itself in `path`). */
  readonly #unitOf = new Map<Route, Unit>();
  #units = 0;

  constructor(routes: RouteTable, matcher: RouteMatcher = new RouteMatcher(routes)) {
    this.routes = routes;
    this.matcher = matcher;
    this.#patterns = routes.map(patternsOf);
    for (const p of this.#patterns) this.#byRoute.set(p.route, p);
    this.plan = this.#planned();
  }

  #planned(): PolicyPlan {
    const groups = new Map<string, RoutePatterns[]>();
    for (const p of this.#patterns) {
      const key = resourceKey(p.route.method, apiGatewayPath(p.route));
      const list = groups.get(key) ?? [];
      list.push(p);
      groups.set(key, list);
    }
    // A route key (HTTP API) decides a simple response alone when every request it takes gets the
    // same decision: its routes are permitted alike, and one of them takes the whole resource.
    const same = (a: Route, b: Route) =>
      JSON.stringify(a.scopeAlternatives) === JSON.stringify(b.scopeAlternatives);
    const routeKeysExact = [...groups.values()].every(
      (g) => g.every((p) => same(p.route, (g[0] as RoutePatterns).route)) && g.some(wholeResource),
    );

    const apiReasons = this.#apiReasons();
    if (apiReasons.length === 0) {
      const unit = this.#api as Unit;
      for (const p of this.#patterns) this.#unitOf.set(p.route, unit);
      return {
        mode: 'api',
        reasons: [],
        routeKeysExact,
        largestPolicyBytes: this.#bound(unit.patterns, unit),
      };
    }
    // One answer per API Gateway resource and method: each resource's routes must be exact together.
    const groupReasons: string[] = [];
    const units = new Map<RoutePatterns[], Unit>();
    for (const group of groups.values()) {
      const single = group.length === 1 && wholeResource(group[0] as RoutePatterns);
      const reasons = single ? [] : this.#prove(group);
      const unit = this.#unit(group, reasons.length === 0 && !single);
      if (!single && reasons.length === 0 && this.#bound(group, unit) > POLICY_DOCUMENT_MAX_BYTES)
        reasons.push(`the policy of ${apiGatewayPath(group[0]?.route as Route)} would not fit`);
      groupReasons.push(...reasons);
      units.set(group, unit);
    }
    const mode: CacheMode = groupReasons.length === 0 ? 'route' : 'path';
    let largest = policyBytes(denyStage(WORST_CASE_STAGE_PREFIX));
    for (const [group, unit] of units) {
      for (const p of group) {
        // In mode `path` the key holds the concrete path, so each route is answered alone.
        const own = mode === 'route' ? unit : this.#unit([p], false);
        this.#unitOf.set(p.route, own);
      }
      if (mode === 'route') largest = Math.max(largest, this.#bound(group, unit));
    }
    if (mode === 'path')
      for (const p of this.#patterns)
        largest = Math.max(largest, this.#bound([p], this.#unitOf.get(p.route) as Unit));
    return { mode, reasons: [...apiReasons, ...groupReasons], routeKeysExact, largestPolicyBytes: largest };
  }

  /** Why one whole-API policy cannot answer every caller exactly and within the limit (empty: it can). */
  #apiReasons(): string[] {
    // The largest whole-API policy holds at most every pattern: measure that bound first (it is
    // cheap, and it rules out large tables before the pairwise proof).
    const loose: Unit = { id: -1, patterns: this.#patterns, precedence: new Map(), coveredBy: new Map() };
    if (this.#bound(this.#patterns, loose) > POLICY_DOCUMENT_MAX_BYTES)
      return [`a whole-API policy would exceed ${POLICY_DOCUMENT_MAX_BYTES} bytes`];
    const reasons = this.#prove(this.#patterns);
    if (reasons.length > 0) return reasons;
    const unit = this.#unit(this.#patterns, true);
    const largest = this.#bound(this.#patterns, unit);
    if (largest > POLICY_DOCUMENT_MAX_BYTES)
      return [`a whole-API policy can reach ${largest} bytes (max ${POLICY_DOCUMENT_MAX_BYTES})`];
    this.#api = unit;
    return [];
  }

  /** The unit of some routes: their mutual precedence Denies (when `withPrecedence`) and covers. */
  #unit(patterns: readonly RoutePatterns[], withPrecedence: boolean): Unit {
    const precedence = new Map<Route, Precedence[]>();
    if (withPrecedence)
      for (const p of patterns) {
        const list: Precedence[] = [];
        for (const t of patterns)
          if (
            t !== p &&
            t.route.method === p.route.method &&
            this.matcher.precedes(t.route, p.route) &&
            tokensOverlap(t.tokens, p.tokens)
          )
            list.push({ by: t.route, pattern: precedencePattern(t, p) });
        precedence.set(p.route, list);
      }
    const coveredBy = new Map<string, string[]>();
    const allows = [...new Set(patterns.map((p) => p.allow))];
    const denies = [
      ...new Set([
        ...patterns.flatMap((p) => p.deeper),
        ...[...precedence.values()].flat().map((q) => q.pattern),
      ]),
    ];
    if (patterns.length > 1)
      for (const effect of [allows, denies])
        for (const specific of effect) {
          const wider = effect.filter((g) => g !== specific && patternCovers(g, specific));
          if (wider.length > 0) coveredBy.set(specific, wider);
        }
    return { id: this.#units++, patterns, precedence, coveredBy };
  }

  /**
   * Bytes of the largest policy a unit can answer: every pattern it has, worst-case prefix (a single
   * route too large with its Denies is answered with its Allow alone, see #compileUnit).
   */
  #bound(patterns: readonly RoutePatterns[], unit: Unit): number {
    const full = this.#fullBound(patterns, unit);
    if (patterns.length !== 1 || full <= POLICY_DOCUMENT_MAX_BYTES) return full;
    return policyBytes(documentOf(WORST_CASE_STAGE_PREFIX, [(patterns[0] as RoutePatterns).allow], []));
  }

  #fullBound(patterns: readonly RoutePatterns[], unit: Unit): number {
    return policyBytes(
      documentOf(
        WORST_CASE_STAGE_PREFIX,
        [...new Set(patterns.map((p) => p.allow))],
        [
          ...new Set([
            ...patterns.flatMap((p) => p.deeper),
            ...[...unit.precedence.values()].flat().map((q) => q.pattern),
          ]),
        ],
      ),
    );
  }

  /**
   * Proves that no Deny of a policy over these routes can refuse a request the same caller may
   * make, for every scope set; returns the counterexamples found (empty when the proof holds).
   */
  #prove(patterns: readonly RoutePatterns[]): string[] {
    const reasons: string[] = [];
    // A few counterexamples are enough to explain the choice; the proof itself needs only one.
    const MAX_REASONS = 10;
    const name = (r: Route) => `${r.method} ${r.path}`;
    const sameMethod = (r: Route) => patterns.filter((p) => p.route.method === r.method);
    for (const p of patterns) {
      if (reasons.length >= MAX_REASONS) break;
      if (!p.literalSafe) reasons.push(`${name(p.route)} has "*" or "?" in its literal text`);
      if (p.unbounded)
        reasons.push(`${name(p.route)}: a parameter beside its greedy one cannot be bounded by a Deny`);
      for (const d of p.deeper) {
        const tokens = globTokens(d);
        for (const u of sameMethod(p.route))
          if (u !== p && tokensOverlap(tokens, u.tokens))
            reasons.push(`Deny ${d} (for ${name(p.route)}) would refuse ${name(u.route)}`);
      }
      for (const t of sameMethod(p.route)) {
        if (t === p || !this.matcher.precedes(t.route, p.route) || !tokensOverlap(t.tokens, p.tokens))
          continue;
        const pattern = precedencePattern(t, p);
        const tokens = globTokens(pattern);
        if ((p.greedy || t.greedy) && /[*?]/.test(pattern))
          reasons.push(
            `Deny ${pattern} (${name(t.route)} over ${name(p.route)}) may refuse ${name(p.route)}`,
          );
        for (const u of sameMethod(p.route)) {
          if (u === p || u === t || !tokensOverlap(tokens, u.tokens)) continue;
          if (canPermitWithout(p.route, u.route, t.route))
            reasons.push(
              `Deny ${pattern} (${name(t.route)} over ${name(p.route)}) would refuse ${name(u.route)}`,
            );
        }
      }
    }
    return reasons;
  }

  /** The policy of a unit for a caller: Allow what the scopes permit, Deny what that overreaches. */
  #compileUnit(unit: Unit, permitted: ReadonlySet<Route>, stagePrefix: string): PolicyDocument {
    const allow = new Set<string>();
    const deny = new Set<string>();
    for (const p of unit.patterns) {
      if (!permitted.has(p.route)) continue;
      allow.add(p.allow);
      for (const d of p.deeper) deny.add(d);
      for (const q of unit.precedence.get(p.route) ?? []) if (!permitted.has(q.by)) deny.add(q.pattern);
    }
    const keep = (set: Set<string>) =>
      [...set].filter((x) => !(unit.coveredBy.get(x) ?? []).some((wider) => set.has(wider)));
    const document = documentOf(stagePrefix, keep(allow), keep(deny));
    // An answer whose Denies alone would not fit keeps its Allows: only possible for a single route
    // answered per request (mode `path`), where the cache key holds the path and the Denies only
    // guard against a misconfigured cache.
    if (unit.patterns.length === 1 && policyBytes(document) > POLICY_DOCUMENT_MAX_BYTES)
      return documentOf(stagePrefix, keep(allow), []);
    return document;
  }

  /**
   * The whole-API policy for a caller holding `granted`: Allow every route the scopes permit
   * (public routes too), Deny what those Allows overreach. Exact on every method ARN when the plan's
   * mode is `api`; in other modes it is only used to measure.
   */
  compile(granted: ReadonlySet<string>, stagePrefix: string): CompiledPolicy {
    const permitted = new Set<Route>();
    for (const r of this.routes) if (scopesPermit(r, granted)) permitted.add(r);
    this.#api ??= this.#unit(this.#patterns, false);
    return {
      document: this.#compileUnit(this.#api, permitted, stagePrefix),
      permitted: this.routes.filter((r) => permitted.has(r)),
    };
  }

  /** The unit a route is answered with in the plan's mode. */
  #unitFor(route: Route): Unit {
    let unit = this.#unitOf.get(route);
    if (unit === undefined) {
      unit = this.#unit([this.#byRoute.get(route) ?? patternsOf(route)], false);
      this.#unitOf.set(route, unit);
    }
    return unit;
  }

  /**
   * What the answer for `route` depends on: its unit and which of the unit's routes the scopes
   * permit (a key for memoization).
   */
  routeAnswerKey(route: Route, granted: ReadonlySet<string>): string {
    const unit = this.#unitFor(route);
    let bits = '';
    for (const p of unit.patterns) bits += scopesPermit(p.route, granted) ? '1' : '0';
    return `${unit.id}:${bits}`;
  }

  /**
   * The answer for a caller whose cache key holds this route (modes `route` and `path`): the policy
   * of the routes sharing its API Gateway resource and method (in mode `path`, the route alone),
   * exact on every request of the key.
   */
  routePolicy(route: Route, granted: ReadonlySet<string>, stagePrefix: string): PolicyDocument {
    const unit = this.#unitFor(route);
    const permitted = new Set<Route>();
    for (const p of unit.patterns) if (scopesPermit(p.route, granted)) permitted.add(p.route);
    return permitted.size === 0 ? denyStage(stagePrefix) : this.#compileUnit(unit, permitted, stagePrefix);
  }

  /** The routes answered together with `route` (its unit), so a caller can tell them apart. */
  unitRoutes(route: Route): readonly Route[] {
    return this.#unitFor(route).patterns.map((p) => p.route);
  }
}

/** The route takes every request of its API Gateway resource (no literal text beside its parameters). */
function wholeResource(p: RoutePatterns): boolean {
  return p.segments.every((s) => s.kind !== 'param' || s.parts.length === 1);
}

// Scope sets made by scopeSetOf: never mutated, so a policy may be remembered per set object.
const scopeSets = new WeakMap<readonly string[], ReadonlySet<string>>();
const sealedSets = new WeakSet<ReadonlySet<string>>();

/**
 * The set of granted scopes for a scope list, remembered for that list object. For identities that
 * a cache reuses: their set is then the same object every time, which {@link PolicyCache} answers
 * for without sorting and joining the scopes into its key. The set must not be mutated.
 */
export function scopeSetOf(scopes: readonly string[]): ReadonlySet<string> {
  let set = scopeSets.get(scopes);
  if (set === undefined) {
    set = new Set(scopes);
    scopeSets.set(scopes, set);
    sealedSets.add(set);
  }
  return set;
}

/** The set {@link scopeSetOf} made for this list, if any (a lookup only: nothing is remembered). */
export function knownScopeSet(scopes: readonly string[]): ReadonlySet<string> | undefined {
  return scopeSets.get(scopes);
}

/**
 * Memoizes compiled policies: whole-API policies by stage and scope set (callers with the same
 * scopes share one policy), per-route policies by route and stage. Bounded: the oldest entry goes
 * first. The compiler (and its plan) is built on first use, so a cold start that never answers a
 * policy does not pay for it.
 */
export class PolicyCache {
  readonly #entries = new Map<string, CompiledPolicy>();
  // Weak: remembers the last stage's policy per sealed scope set, only while that set is in use.
  readonly #bySet = new WeakMap<ReadonlySet<string>, { stagePrefix: string; compiled: CompiledPolicy }>();
  readonly #byUnit = new Map<string, PolicyDocument>();
  readonly #routes: RouteTable;
  readonly #capacity: number;
  readonly #matcher: RouteMatcher | undefined;
  #compiler: PolicyCompiler | undefined;

  constructor(routes: RouteTable, capacity = 256, matcher?: RouteMatcher) {
    this.#routes = routes;
    this.#capacity = capacity;
    this.#matcher = matcher;
  }

  /** The table's compiler and plan. */
  get compiler(): PolicyCompiler {
    this.#compiler ??= new PolicyCompiler(this.#routes, this.#matcher);
    return this.#compiler;
  }

  /** The cache mode the table's plan chose. */
  get mode(): CacheMode {
    return this.compiler.plan.mode;
  }

  /** The whole-API policy for a scope set (see {@link PolicyCompiler.compile}). */
  get(granted: ReadonlySet<string>, stagePrefix: string): CompiledPolicy {
    // Fast path: the same set object (see answerFor) with the same stage, answered without
    // sorting and joining the scopes into the string key.
    const bySet = sealedSets.has(granted) ? this.#bySet.get(granted) : undefined;
    const quick = bySet?.stagePrefix === stagePrefix ? bySet.compiled : undefined;
    if (quick !== undefined) return quick;
    const key = `${stagePrefix}\n${[...granted].sort().join(' ')}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (sealedSets.has(granted)) this.#bySet.set(granted, { stagePrefix, compiled: hit });
      return hit;
    }
    const compiled = this.compiler.compile(granted, stagePrefix);
    if (sealedSets.has(granted)) this.#bySet.set(granted, { stagePrefix, compiled });
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, compiled);
    return compiled;
  }

  /**
   * The answer for a caller whose cache key holds `route` (see {@link PolicyCompiler.routePolicy}),
   * remembered per route unit, permitted routes and stage: a new scope set costs one lookup.
   */
  forRoute(route: Route, granted: ReadonlySet<string>, stagePrefix: string): PolicyDocument {
    const memo = `${stagePrefix}\n${this.compiler.routeAnswerKey(route, granted)}`;
    const hit = this.#byUnit.get(memo);
    if (hit !== undefined) return hit;
    const document = this.compiler.routePolicy(route, granted, stagePrefix);
    if (this.#byUnit.size >= this.#capacity * 16) {
      const oldest = this.#byUnit.keys().next();
      if (oldest.done !== true) this.#byUnit.delete(oldest.value);
    }
    this.#byUnit.set(memo, document);
    return document;
  }
}
