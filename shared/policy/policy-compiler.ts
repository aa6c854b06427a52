import { type Route, type RouteTable, scopesPermit } from '../routes/route-table.ts';
import { patternReachesRoute } from './resource-pattern.ts';

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

/** A compiled policy and what it says about the caller. */
export interface CompiledPolicy {
  readonly document: PolicyDocument;
  /** Routes the caller may use, in table order. */
  readonly permitted: readonly Route[];
  /**
   * Permitted routes that an explicit Deny also reaches for some parameter values (the Deny wins in
   * IAM). Empty for route tables without such overlaps; the build reports them.
   */
  readonly shadowed: readonly Route[];
}

/**
 * Conservative ceiling for the serialized policy. API Gateway rejects authorizer responses that are
 * too large (the call then fails with a 500); the build checks the worst case against this bound.
 */
export const MAX_POLICY_BYTES = 8192;

/** The resource part of a route: `GET/orders/{id}`. */
export function routeResource(route: Route): string {
  return `${route.method}${route.path}`;
}

/** The IAM pattern that covers every request to a route: `GET/orders/*`. */
export function routePattern(route: Route): string {
  return `${route.method}${route.path.replace(/\{[^{}]+\}/g, '*')}`;
}

/**
 * Compiles the policy for a caller holding `granted` scopes. API Gateway caches one authorizer
 * result per identity and reuses it for every route the caller hits, so the policy must be right for
 * all routes, not only the one being called:
 * - Allow every route the scopes permit, with path parameters as `*`;
 * - explicit Deny for every forbidden route that one of those wildcards would reach (IAM's `*` also
 *   matches `/`, so `GET/orders/*` reaches `GET/orders/{id}/notes`);
 * - Deny everything in the stage when nothing is permitted.
 */
export function compilePolicy(
  routes: RouteTable,
  granted: ReadonlySet<string>,
  stagePrefix: string,
): CompiledPolicy {
  const permitted: Route[] = [];
  const forbidden: Route[] = [];
  for (const route of routes) {
    // Public routes are answered without the authorizer; leaving them out keeps the policy small.
    if (route.scopeAlternatives === null) continue;
    (scopesPermit(route, granted) ? permitted : forbidden).push(route);
  }
  if (permitted.length === 0) {
    return {
      document: { Version: '2012-10-17', Statement: [statement('Deny', [`${stagePrefix}/*`])] },
      permitted,
      shadowed: [],
    };
  }
  const allowPatterns = unique(permitted.map(routePattern));
  const denyPatterns = unique(
    forbidden
      .filter((route) => allowPatterns.some((pattern) => patternReachesRoute(pattern, routeResource(route))))
      .map(routePattern),
  );
  const shadowed = permitted.filter((route) =>
    denyPatterns.some((pattern) => patternReachesRoute(pattern, routeResource(route))),
  );
  const statements = [
    statement(
      'Allow',
      allowPatterns.map((p) => `${stagePrefix}/${p}`),
    ),
  ];
  if (denyPatterns.length > 0)
    statements.push(
      statement(
        'Deny',
        denyPatterns.map((p) => `${stagePrefix}/${p}`),
      ),
    );
  return { document: { Version: '2012-10-17', Statement: statements }, permitted, shadowed };
}

function statement(effect: 'Allow' | 'Deny', resources: readonly string[]): PolicyStatement {
  return { Action: 'execute-api:Invoke', Effect: effect, Resource: resources };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
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
 * Memoizes compiled policies by stage and scope set: callers with the same scopes share one policy,
 * so a warm authorizer does not recompile it. Bounded: the oldest entry goes first.
 */
export class PolicyCache {
  readonly #entries = new Map<string, CompiledPolicy>();
  // Weak: remembers the last stage's policy per sealed scope set, only while that set is in use.
  readonly #bySet = new WeakMap<ReadonlySet<string>, { stagePrefix: string; compiled: CompiledPolicy }>();
  readonly #routes: RouteTable;
  readonly #capacity: number;

  constructor(routes: RouteTable, capacity = 256) {
    this.#routes = routes;
    this.#capacity = capacity;
  }

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
    const compiled = compilePolicy(this.#routes, granted, stagePrefix);
    if (sealedSets.has(granted)) this.#bySet.set(granted, { stagePrefix, compiled });
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, compiled);
    return compiled;
  }
}
