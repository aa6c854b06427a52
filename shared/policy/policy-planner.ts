/**
 * Plans a route table's authorizer policies, at build time (`npm run generate`): chooses the cache
 * mode and proves that every answer of that mode is exact on every method ARN that can reuse it, for
 * every scope set, and fits API Gateway's limit. The result ({@link PolicyPlanData}) is generated
 * beside the table; the authorizers only assemble answers from it (policy-compiler.ts). Not part of
 * any function bundle. docs/policies.md#what-is-exact-and-why explains the proof.
 */
import { BOUND_VALUE_MAX_LENGTH, CREDENTIAL_ATTRIBUTES, isSafeBoundValue } from '../routes/path-binding.ts';
import {
  apiGatewayPath,
  parseTemplate,
  type Route,
  type RouteTable,
  RouteTemplateError,
  routePrecedence,
  routeResourceKey,
  segmentsOf,
  type TemplateSegment,
} from '../routes/route-table.ts';
import {
  anyBoundValue,
  type CacheMode,
  type CompiledPolicy,
  denyStage,
  documentOf,
  POLICY_DOCUMENT_MAX_BYTES,
  PolicyCache,
  type PolicyDocument,
  type PolicyPlanData,
  policyBytes,
  registerPolicyPlan,
  routePatterns,
  WORST_CASE_STAGE_PREFIX,
} from './policy-compiler.ts';
import { globTokens, patternCovers, type Token, templateTokens, tokensOverlap } from './resource-pattern.ts';

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
  /** The route has bound parameters (docs/tenant-binding.md): its answers hold the caller's values. */
  readonly bound: boolean;
  /** The patterns as the largest answer writes them: bound parameters as values of their longest length. */
  readonly sized: { readonly allow: string; readonly deny: readonly string[] };
}

/** What the plan may assume about how API Gateway routes requests to the document's operations. */
export interface PlanOptions {
  /**
   * `document` (default): each operation has its own API Gateway resource and method (REST) or
   * route key (HTTP API), so the resource or route key in an authorizer's cache key names the
   * operations it holds. `proxy`: the template serves the document through one greedy `{proxy+}`
   * route per API (docs/deploy.md#when-the-document-is-too-large), whose resource and route key name
   * no operation: a cache key must hold the method and the concrete path instead (mode `path` when
   * the whole-API policy cannot be used), and an HTTP API route key never decides a simple response.
   */
  readonly resources?: 'document' | 'proxy';
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
  const own = routePatterns(route);
  const tokens = templateTokens(route.method, segments);
  // A bound parameter is written as the caller's value, and gets no Deny of its own; the other
  // parameters' Denies are proven with `*` there, which stands for every value.
  const denies = route.bindings === undefined ? own.deny : routePatterns(route, anyBoundValue(route)).deny;
  // A Deny that could refuse a request to the route itself (possible beside a greedy parameter)
  // is left out: the route's own Allow must stand.
  const bounded = denies.filter((d) => !tokensOverlap(globTokens(d), tokens));
  const longest: Record<string, string> = {};
  for (const b of route.bindings ?? []) longest[b.param] = 'x'.repeat(b.maxLength);
  const sized =
    route.bindings === undefined ? { allow: own.allow, deny: bounded } : routePatterns(route, longest);
  return {
    route,
    segments,
    allow: own.allow,
    deeper: bounded,
    // The route's literal text has no `*` or `?`, so its Allow does not stand for other literals.
    literalSafe: !/[*?]/.test(route.path.replace(/\{[^{}]*\}/g, '')),
    tokens,
    greedy: segments.some((s) => s.kind === 'greedy'),
    unbounded: bounded.length < denies.length,
    bound: route.bindings !== undefined,
    sized,
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

/**
 * Can some caller use `a` and `b` but not `not`? (scope sets: one alternative of each, OR-ed; a
 * bound route is refused to any caller without a usable value, an `AWS_IAM` route to every caller).
 */
function canPermitWithout(a: Route, b: Route, not: Route): boolean {
  const alts = (r: Route) => (r.iam === true ? [] : (r.scopeAlternatives ?? [[]]));
  if (not.bindings !== undefined || not.iam === true) return alts(a).length > 0 && alts(b).length > 0;
  if (not.scopeAlternatives === null) return false;
  for (const x of alts(a))
    for (const y of alts(b)) {
      const held = new Set([...x, ...y]);
      if (!(not.scopeAlternatives as readonly (readonly string[])[]).some((c) => c.every((s) => held.has(s))))
        return true;
    }
  return false;
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
  /** Whether one route wins over another for a path both match (the matcher's precedence). */
  readonly precedes: (a: Route, b: Route) => boolean;
  readonly plan: PolicyPlan;
  /** The plan as generated for the authorizers. */
  readonly data: PolicyPlanData;
  #cache: PolicyCache | undefined;
  readonly #patterns: readonly RoutePatterns[];
  readonly #byRoute = new Map<Route, RoutePatterns>();
  /** The whole-API unit (mode `api`). */
  #api: Unit | undefined;
  /** Each route's unit in the plan's mode (its resource in `route`, itself in `path`). */
  readonly #unitOf = new Map<Route, Unit>();
  #units = 0;
  readonly #proxy: boolean;

  /** Throws RouteTemplateError (route-table.ts) for a template that cannot be routed. */
  constructor(routes: RouteTable, options: PlanOptions = {}) {
    this.#proxy = options.resources === 'proxy';
    // The functions read the generated templates without checks: they are checked here, once.
    for (const r of routes) parseTemplate(r.path, r.greedy === true);
    const problems = bindingProblems(routes);
    if (problems.length > 0) throw new RouteTemplateError(problems.join('; '));
    this.routes = routes;
    this.precedes = routePrecedence(routes);
    this.#patterns = routes.map(patternsOf);
    for (const p of this.#patterns) this.#byRoute.set(p.route, p);
    this.plan = this.#planned();
    this.data = this.#dataOf(this.plan);
    registerPolicyPlan(routes, this.data);
  }

  #planned(): PolicyPlan {
    const groups = new Map<string, RoutePatterns[]>();
    for (const p of this.#patterns) {
      const key = routeResourceKey(p.route);
      const list = groups.get(key) ?? [];
      list.push(p);
      groups.set(key, list);
    }
    // A route key (HTTP API) decides a simple response alone when every request it takes gets the
    // same decision: its routes are permitted alike, and one of them takes the whole resource.
    // A bound route's requests on one route key are decided by the path's values: never by the key.
    const same = (a: Route, b: Route) =>
      JSON.stringify(a.scopeAlternatives) === JSON.stringify(b.scopeAlternatives) && a.iam === b.iam;
    const routeKeysExact =
      !this.#proxy &&
      [...groups.values()].every(
        (g) =>
          g.every((p) => !p.bound && same(p.route, (g[0] as RoutePatterns).route)) && g.some(wholeResource),
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
    const groupReasons: string[] = this.#proxy
      ? [
          'the template serves the document through one {proxy+} route per API, whose resource names no operation',
        ]
      : [];
    const units = new Map<RoutePatterns[], Unit>();
    for (const group of this.#proxy ? [] : groups.values()) {
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
    if (this.#proxy) for (const p of this.#patterns) this.#unitOf.set(p.route, this.#unit([p], false));
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
            this.precedes(t.route, p.route) &&
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
    return policyBytes(documentOf(WORST_CASE_STAGE_PREFIX, [(patterns[0] as RoutePatterns).sized.allow], []));
  }

  #fullBound(patterns: readonly RoutePatterns[], unit: Unit): number {
    return policyBytes(
      documentOf(
        WORST_CASE_STAGE_PREFIX,
        [...new Set(patterns.map((p) => p.sized.allow))],
        [
          ...new Set([
            ...patterns.flatMap((p) => p.sized.deny),
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
      // A bound route's requests that a less specific route also takes: that route's Allow reaches
      // them whatever the bound values, and no Deny can spare the caller's own value (IAM has no
      // negation). Answered per resource instead, where the cache key separates the two.
      if (p.bound)
        for (const u of sameMethod(p.route))
          if (u !== p && this.precedes(p.route, u.route) && tokensOverlap(p.tokens, u.tokens))
            reasons.push(`${name(u.route)} takes requests of ${name(p.route)}, whose parameters are bound`);
      for (const t of sameMethod(p.route)) {
        if (t === p || !this.precedes(t.route, p.route) || !tokensOverlap(t.tokens, p.tokens)) continue;
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

  /** The plan as the authorizers read it (generated into shared/generated/policy-plan.ts). */
  #dataOf(plan: PolicyPlan): PolicyPlanData {
    const index = new Map(this.routes.map((r, i) => [r, i] as const));
    const precedence: [number, number, string][] = [];
    const covered: Record<string, string[]> = {};
    const seen = new Set<Unit>();
    for (const unit of this.#unitOf.values()) {
      if (seen.has(unit)) continue;
      seen.add(unit);
      for (const [route, list] of unit.precedence)
        for (const q of list)
          precedence.push([index.get(route) as number, index.get(q.by) as number, q.pattern]);
      for (const [specific, wider] of unit.coveredBy)
        covered[specific] = [...new Set([...(covered[specific] ?? []), ...wider])];
    }
    precedence.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const deny: Record<number, readonly string[]> = {};
    this.#patterns.forEach((p, i) => {
      if (p.unbounded) deny[i] = p.deeper;
    });
    return {
      mode: plan.mode,
      routeKeysExact: plan.routeKeysExact,
      largestPolicyBytes: plan.largestPolicyBytes,
      precedence,
      covered,
      deny,
    };
  }

  /**
   * The whole-API policy for a caller holding `granted` (see {@link PolicyCache.get}), assembled
   * from the plan as an authorizer does.
   */
  compile(granted: ReadonlySet<string>, stagePrefix: string): CompiledPolicy {
    this.#cache ??= new PolicyCache(this.routes);
    return this.#cache.get(granted, stagePrefix);
  }

  /** The answer for a caller whose cache key holds `route` (see {@link PolicyCache.forRoute}). */
  routePolicy(route: Route, granted: ReadonlySet<string>, stagePrefix: string): PolicyDocument {
    this.#cache ??= new PolicyCache(this.routes);
    return this.#cache.forRoute(route, granted, stagePrefix);
  }
}

/** Plans a route table and attaches the plan (see {@link registerPolicyPlan}); returns the table. */
export function planned(routes: RouteTable, options: PlanOptions = {}): RouteTable {
  new PolicyCompiler(routes, options);
  return routes;
}

/** The route takes every request of its API Gateway resource (no literal text beside its parameters). */
function wholeResource(p: RoutePatterns): boolean {
  return p.segments.every((s) => s.kind !== 'param' || s.parts.length === 1);
}

/** A bound parameter's name is written into the authorizer context as `bind_<name>`. */
const BOUND_PARAM_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Why the bindings of a table cannot be made exact (docs/tenant-binding.md#what-can-be-bound), one
 * message per problem naming the route and the parameter; empty when they can. A bound parameter
 * is a whole `{param}` segment; in a route with a greedy parameter no unbound parameter comes
 * before it (an Allow's `*` there could take the bound position and another tenant's value with
 * it, and no Deny can refuse that without refusing the route); its values are bounded (an `enum`,
 * or a length of at most 128) and safe; and one parameter name is bound one way in the whole table.
 */
export function bindingProblems(routes: RouteTable): string[] {
  const problems: string[] = [];
  const byParam = new Map<string, string>();
  for (const route of routes) {
    const bindings = route.bindings;
    if (bindings === undefined) continue;
    const name = `${route.method} ${route.path}`;
    const refuse = (param: string, why: string) =>
      problems.push(`${name}: path parameter "${param}" cannot be bound: ${why}`);
    if (bindings.length === 0) problems.push(`${name}: an empty list of bindings`);
    if (route.iam === true)
      problems.push(`${name}: an AWS_IAM route has no bound parameters (no Lambda authorizer answers it)`);
    if (route.scopeAlternatives === null)
      problems.push(`${name}: a public route has no bound parameters (no authorizer runs on it)`);
    const segments = segmentsOf(route);
    const order: string[] = [];
    for (const s of segments) {
      if (s.kind === 'greedy') order.push(s.name);
      else if (s.kind === 'param') for (const p of s.parts) if (typeof p !== 'string') order.push(p.name);
    }
    const boundNames = new Set(bindings.map((b) => b.param));
    const greedy = segments.some((s) => s.kind === 'greedy');
    for (const b of bindings) {
      if (bindings.filter((x) => x.param === b.param).length > 1) refuse(b.param, 'it is bound twice');
      if (!BOUND_PARAM_NAME.test(b.param))
        refuse(b.param, 'its name must be a letter then letters, digits or "_" (at most 64)');
      const whole = segments.some(
        (s) =>
          s.kind === 'param' && s.parts.length === 1 && (s.parts[0] as { name: string }).name === b.param,
      );
      if (order.filter((p) => p === b.param).length > 1) refuse(b.param, 'the path names it more than once');
      else if (!whole)
        refuse(
          b.param,
          order.includes(b.param)
            ? 'it must be a whole path segment ({param}), not greedy nor beside literal text'
            : 'the path has no such parameter',
        );
      const before = order.slice(0, Math.max(0, order.indexOf(b.param)));
      if (greedy && before.some((p) => !boundNames.has(p)))
        refuse(
          b.param,
          `parameter "${before.find((p) => !boundNames.has(p))}" comes before it in a route with a greedy parameter`,
        );
      if (b.claim === undefined && b.credential === undefined)
        refuse(b.param, 'it names neither a claim nor a credential attribute');
      if (b.claim !== undefined && (typeof b.claim !== 'string' || b.claim === ''))
        refuse(b.param, 'its claim must be a non-empty string');
      if (b.credential !== undefined && !(CREDENTIAL_ATTRIBUTES as readonly string[]).includes(b.credential))
        refuse(b.param, `its credential attribute must be one of ${CREDENTIAL_ATTRIBUTES.join(', ')}`);
      if (!Number.isInteger(b.maxLength) || b.maxLength < 1 || b.maxLength > BOUND_VALUE_MAX_LENGTH)
        refuse(b.param, `its values must be at most ${BOUND_VALUE_MAX_LENGTH} characters long`);
      for (const v of b.enum ?? [])
        if (!isSafeBoundValue(v))
          refuse(
            b.param,
            `the enum value ${JSON.stringify(v)} is not unreserved characters (A-Z a-z 0-9 . _ ~ -)`,
          );
      if (b.pattern !== undefined)
        try {
          new RegExp(b.pattern, 'u');
        } catch {
          refuse(b.param, 'its pattern is not a valid regular expression');
        }
      const same = JSON.stringify(b);
      const seen = byParam.get(b.param);
      if (seen === undefined) byParam.set(b.param, same);
      else if (seen !== same)
        refuse(b.param, 'it is bound another way (claim, credential or schema) on another route');
    }
  }
  return problems;
}
