/**
 * Compiles what a Lambda authorizer answers into IAM policies that are exact on every method ARN.
 *
 * API Gateway caches an authorizer's answer under the values of its identity sources and evaluates
 * the cached policy against the method ARN of every later request with the same values. IAM's `*`
 * also spans `/`, so a policy of route patterns (`GET/orders/*`) would allow paths no route has.
 * Each route is written as an Allow whose parameters are `?*` (non-empty) plus Denies for what those
 * wildcards overreach (a parameter spanning a `/`, a more specific route the caller may not use).
 * Which of those an answer may combine, and the cache mode, come from the table's plan, made and
 * proven at build time (policy-planner.ts, `npm run generate`): the runtime only assembles strings.
 * docs/policies.md explains the whole scheme.
 */
import { type BoundValues, bindingsUsable, type PathBinding, tableBindings } from '../routes/path-binding.ts';
import {
  type Route,
  type RouteTable,
  routeResourceKey,
  scopesPermit,
  segmentsOf,
} from '../routes/route-table.ts';

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

/** A compiled whole-API policy. */
export interface CompiledPolicy {
  readonly document: PolicyDocument;
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
export const WORST_CASE_STAGE_PREFIX = /* @__PURE__ */ (() =>
  `arn:aws-us-gov:execute-api:ap-southeast-1:123456789012:abcdefghij/${'s'.repeat(128)}`)();

/** The patterns of one route, relative to the stage prefix (`GET/orders/?*`). */
export interface RoutePatternSet {
  /** Every request to the route, and, where a parameter would span a `/`, more. */
  readonly allow: string;
  /** What `allow` overreaches: the same shape with one parameter spanning a `/` (never a request to the route). */
  readonly deny: readonly string[];
}

const GLOB = /[*?]/g;

/**
 * The Allow and overreach Deny patterns of a route. `values` writes bound parameters
 * (docs/tenant-binding.md) as their literal value: such a parameter then needs no Deny, and the
 * Denies of the others keep that literal. Values must be safe (`isSafeBoundValue`): they are
 * written as they are.
 */
export function routePatterns(route: Route, values?: Readonly<Record<string, string>>): RoutePatternSet {
  const { allow, deny } = routePatternParts(route, values);
  return { allow, deny: [...new Set(deny.filter((d): d is string => d !== undefined))] };
}

/**
 * {@link routePatterns}, with the overreach Deny of each parameter (in path order) at its index:
 * `undefined` for a bound parameter written as its value.
 */
export function routePatternParts(
  route: Route,
  values?: Readonly<Record<string, string>>,
): { readonly allow: string; readonly deny: readonly (string | undefined)[] } {
  const segments = segmentsOf(route);
  // IAM has no escape for `*` and `?`: `?` (one character) is the closest, and the route is then
  // kept out of whole-API policies, which must be exact (the planner sees to it).
  const lit = (text: string) => text.replace(GLOB, '?');
  const names: string[] = [];
  for (const s of segments) {
    if (s.kind === 'param') for (const p of s.parts) if (typeof p !== 'string') names.push(p.name);
  }
  // Renders the template with the k-th parameter as `spread` and the others as `other`.
  const render = (other: string, spreadAt = -1, spread = ''): string => {
    let k = 0;
    const parts = segments.map((s) => {
      if (s.kind === 'literal') return lit(s.text);
      if (s.kind === 'greedy') return other;
      return s.parts
        .map((p) => {
          if (typeof p === 'string') return lit(p);
          const at = k++;
          const value = values?.[p.name];
          return value !== undefined ? value : at === spreadAt ? spread : other;
        })
        .join('');
    });
    return `${route.method}/${parts.join('/')}`;
  };
  const deny = names.map((name, k) => (values?.[name] !== undefined ? undefined : render('*', k, '*/*')));
  return { allow: render('?*'), deny };
}

/**
 * The bound parameters of a route written as `*`: the patterns the plan proves things about for a
 * bound route stand for every value a caller's policy can write there (docs/tenant-binding.md).
 */
export function anyBoundValue(route: Route): Readonly<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const b of route.bindings ?? []) values[b.param] = '*';
  return values;
}

function statement(effect: 'Allow' | 'Deny', resources: readonly string[]): PolicyStatement {
  return { Action: 'execute-api:Invoke', Effect: effect, Resource: resources };
}

/** The policy that refuses everything in the stage. */
export function denyStage(stagePrefix: string): PolicyDocument {
  return { Version: '2012-10-17', Statement: [statement('Deny', [`${stagePrefix}/*`])] };
}

/** A policy of Allow and Deny patterns under a stage prefix (Deny the stage when nothing is allowed). */
export function documentOf(
  stagePrefix: string,
  allow: readonly string[],
  deny: readonly string[],
): PolicyDocument {
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
 * What the build proved about a route table's policies (policy-planner.ts), all an authorizer
 * needs beside the table: the cache mode and the parts of answers that depend on several routes.
 */
export interface PolicyPlanData {
  readonly mode: CacheMode;
  /**
   * Each API Gateway route (method and resource) takes requests of document routes permitted alike,
   * and one of them takes every request of the resource: an HTTP API route key then decides a
   * simple response alone.
   */
  readonly routeKeysExact: boolean;
  /** Largest policy document any caller can be answered in this mode, in bytes, with {@link WORST_CASE_STAGE_PREFIX}. */
  readonly largestPolicyBytes: number;
  /**
   * Denies of more specific routes, as `[route, more specific route, pattern]` (indexes into the
   * table): part of an answer that allows the first and not the second, in the same answer unit.
   */
  readonly precedence: readonly (readonly [number, number, string])[];
  /** Patterns that a wider pattern of the same effect makes redundant, with those wider patterns. */
  readonly covered: Readonly<Record<string, readonly string[]>>;
  /** Overreach Denies of routes that keep fewer than {@link routePatterns} gives (beside a greedy parameter). */
  readonly deny: Readonly<Record<number, readonly string[]>>;
}

const plans = new WeakMap<RouteTable, PolicyPlanData>();

/** Attaches its plan to a route table (the generated module does it for ROUTES); returns the table. */
export function registerPolicyPlan(routes: RouteTable, plan: PolicyPlanData): RouteTable {
  plans.set(routes, plan);
  return routes;
}

/** The plan attached to a route table, if any. */
export function policyPlanOf(routes: RouteTable): PolicyPlanData | undefined {
  return plans.get(routes);
}

/** A route table has no plan: it was not made by `npm run generate` (or the planner). */
export class PolicyPlanMissingError extends Error {
  override readonly name = 'PolicyPlanMissingError';
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
 * Assembles and memoizes the answers of one planned route table: whole-API policies by stage and
 * scope set (callers with the same scopes share one policy) and, for tables with bound path
 * parameters, the caller's values; per-unit policies by unit, permitted routes (and values) and
 * stage. Bounded: the oldest entry goes first. Throws {@link PolicyPlanMissingError} at
 * construction for a table without a plan (a configuration error, found at cold start).
 */
export class PolicyCache {
  readonly #entries = new Map<string, CompiledPolicy>();
  // Weak: remembers the last stage's policy per sealed scope set, only while that set is in use.
  readonly #bySet = new WeakMap<ReadonlySet<string>, { stagePrefix: string; compiled: CompiledPolicy }>();
  readonly #byUnit = new Map<string, PolicyDocument>();
  readonly #routes: RouteTable;
  readonly #capacity: number;
  readonly #index = new Map<Route, number>();
  readonly #patterns: (RoutePatternSet | undefined)[];
  readonly #precedence = new Map<number, (readonly [number, string])[]>();
  /** One binding per bound parameter of the table (docs/tenant-binding.md). */
  readonly #bindings: readonly PathBinding[];
  /** The plan the table was built with. */
  readonly plan: PolicyPlanData;
  #units: Map<number, readonly number[]> | undefined;
  #all: readonly number[] | undefined;

  constructor(routes: RouteTable, capacity = 256) {
    const plan = policyPlanOf(routes);
    if (plan === undefined)
      throw new PolicyPlanMissingError('the route table has no policy plan (npm run generate makes it)');
    this.plan = plan;
    this.#routes = routes;
    this.#capacity = capacity;
    routes.forEach((r, i) => {
      this.#index.set(r, i);
    });
    this.#patterns = new Array(routes.length);
    this.#bindings = tableBindings(routes);
    for (const [route, by, pattern] of plan.precedence) {
      const list = this.#precedence.get(route) ?? [];
      list.push([by, pattern]);
      this.#precedence.set(route, list);
    }
  }

  /** The cache mode of the table's plan. */
  get mode(): CacheMode {
    return this.plan.mode;
  }

  #patternsAt(i: number, bound: BoundValues | undefined): RoutePatternSet {
    const route = this.#routes[i] as Route;
    if (route.bindings !== undefined) return this.#boundPatterns(i, route, bound);
    let p = this.#patterns[i];
    if (p === undefined) {
      const own = routePatterns(route);
      const kept = this.plan.deny[i];
      p = kept === undefined ? own : { ...own, deny: kept };
      this.#patterns[i] = p;
    }
    return p;
  }

  /**
   * The patterns of a bound route for the caller's values (only asked for when they are usable):
   * each bound parameter written as its value, the overreach Denies the plan keeps for the others.
   */
  #boundPatterns(i: number, route: Route, bound: BoundValues | undefined): RoutePatternSet {
    const values: Record<string, string> = {};
    for (const b of route.bindings as readonly PathBinding[]) {
      const v = bound?.[b.param];
      if (v?.ok === true) values[b.param] = v.value;
    }
    const own = routePatternParts(route, values);
    const kept = this.plan.deny[i];
    const keep =
      kept === undefined
        ? undefined
        : routePatternParts(route, anyBoundValue(route)).deny.map((d) => d !== undefined && kept.includes(d));
    const deny = own.deny.filter((d, k): d is string => d !== undefined && (keep?.[k] ?? true));
    return { allow: own.allow, deny: [...new Set(deny)] };
  }

  /** Whether the caller may use route `i`: its scopes permit it, and it has a usable value for each binding. */
  #permits(i: number, granted: ReadonlySet<string>, bound: BoundValues | undefined): boolean {
    const route = this.#routes[i] as Route;
    return scopesPermit(route, granted) && bindingsUsable(route, bound);
  }

  /** The part of a memo key that the caller's bound values decide ('' for a table without bindings). */
  #boundKey(bound: BoundValues | undefined): string {
    let key = '';
    for (const b of this.#bindings) {
      const v = bound?.[b.param];
      // Usable values are unreserved characters only: `\n` and `!` cannot occur in one.
      key += v?.ok === true ? `\n${v.value}` : '\n!';
    }
    return key;
  }

  /** The routes answered together with route `i`: all (mode api), its resource's (route), itself (path). */
  #unitOf(i: number): readonly number[] {
    if (this.plan.mode === 'api') {
      this.#all ??= this.#routes.map((_, k) => k);
      return this.#all;
    }
    if (this.plan.mode === 'path') return [i];
    if (this.#units === undefined) {
      const byKey = new Map<string, number[]>();
      this.#units = new Map();
      this.#routes.forEach((r, k) => {
        const key = routeResourceKey(r);
        const list = byKey.get(key) ?? [];
        list.push(k);
        byKey.set(key, list);
        this.#units?.set(k, list);
      });
    }
    return this.#units.get(i) ?? [i];
  }

  /** The routes answered together with `route` in the plan's mode (see {@link PolicyCache.forRoute}). */
  unitRoutes(route: Route): readonly Route[] {
    const i = this.#index.get(route);
    return i === undefined ? [] : this.#unitOf(i).map((k) => this.#routes[k] as Route);
  }

  /** The policy of some routes for a caller: Allow what is permitted, Deny what that overreaches. */
  #compile(
    members: readonly number[],
    permitted: (i: number) => boolean,
    stagePrefix: string,
    bound: BoundValues | undefined,
  ): PolicyDocument {
    const allow = new Set<string>();
    const deny = new Set<string>();
    for (const i of members) {
      if (!permitted(i)) continue;
      const p = this.#patternsAt(i, bound);
      allow.add(p.allow);
      for (const d of p.deny) deny.add(d);
      for (const [by, pattern] of this.#precedence.get(i) ?? []) if (!permitted(by)) deny.add(pattern);
    }
    const covered = this.plan.covered;
    const keep = (set: Set<string>) =>
      [...set].filter((x) => !(covered[x] ?? []).some((wider) => set.has(wider)));
    const document = documentOf(stagePrefix, keep(allow), keep(deny));
    // An answer whose Denies alone would not fit keeps its Allows: only possible for a single route
    // whose cache key holds it, where the Denies only guard against a misconfigured cache.
    if (members.length === 1 && policyBytes(document) > POLICY_DOCUMENT_MAX_BYTES)
      return documentOf(stagePrefix, keep(allow), []);
    return document;
  }

  /**
   * The whole-API policy for a scope set and the caller's bound values: Allow every route the
   * scopes permit (public routes too; bound routes with the caller's own values, when usable),
   * Deny what those Allows overreach. Exact on every method ARN in mode `api`; in other modes it is
   * only used to measure.
   */
  get(granted: ReadonlySet<string>, stagePrefix: string, bound?: BoundValues): CompiledPolicy {
    // Fast path: the same set object (see answerFor) with the same stage, answered without
    // sorting and joining the scopes into the string key. Not for tables with bound parameters,
    // whose policies also depend on the caller's values.
    const fast = sealedSets.has(granted) && this.#bindings.length === 0;
    const bySet = fast ? this.#bySet.get(granted) : undefined;
    const quick = bySet?.stagePrefix === stagePrefix ? bySet.compiled : undefined;
    if (quick !== undefined) return quick;
    const key = `${stagePrefix}\n${[...granted].sort().join(' ')}${this.#boundKey(bound)}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (fast) this.#bySet.set(granted, { stagePrefix, compiled: hit });
      return hit;
    }
    const permitted = this.#routes.map((_, i) => this.#permits(i, granted, bound));
    this.#all ??= this.#routes.map((_, k) => k);
    const compiled: CompiledPolicy = {
      document: this.#compile(this.#all, (i) => permitted[i] === true, stagePrefix, bound),
    };
    if (fast) this.#bySet.set(granted, { stagePrefix, compiled });
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, compiled);
    return compiled;
  }

  /**
   * The answer for a caller whose cache key holds `route` (modes `route` and `path`): the policy of
   * the routes answered with it, exact on every request of the key; remembered per unit, permitted
   * routes and stage, so a new scope set costs one lookup.
   */
  forRoute(
    route: Route,
    granted: ReadonlySet<string>,
    stagePrefix: string,
    bound?: BoundValues,
  ): PolicyDocument {
    const i = this.#index.get(route);
    if (i === undefined) return denyStage(stagePrefix);
    const members = this.#unitOf(i);
    let bits = '';
    let values = '';
    for (const k of members) {
      const permitted = this.#permits(k, granted, bound);
      bits += permitted ? '1' : '0';
      if (permitted && (this.#routes[k] as Route).bindings !== undefined) values = this.#boundKey(bound);
    }
    const memo = `${stagePrefix}\n${members[0]}:${bits}${values}`;
    const hit = this.#byUnit.get(memo);
    if (hit !== undefined) return hit;
    const document = bits.includes('1')
      ? this.#compile(members, (k) => bits[members.indexOf(k)] === '1', stagePrefix, bound)
      : denyStage(stagePrefix);
    if (this.#byUnit.size >= this.#capacity * 16) {
      const oldest = this.#byUnit.keys().next();
      if (oldest.done !== true) this.#byUnit.delete(oldest.value);
    }
    this.#byUnit.set(memo, document);
    return document;
  }
}
