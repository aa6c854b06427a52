// Property tests (fast-check) for the credentials authorizer's answers: the pure factory with a real
// key check against an in-memory store. Whatever method ARN a request has, the policy the authorizer
// answered for an earlier request of the same caller gives the verdict a fresh decision would.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashSecret, mintApiKey } from '../../shared/credentials/api-key.ts';
import { createKeyAuthorizer } from '../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { CredentialStore, KeyRecord } from '../../shared/credentials/store.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { memoryObserver } from '../../shared/observability/observer.ts';
import { PolicyCache } from '../../shared/policy/policy-compiler.ts';
import { planned } from '../../shared/policy/policy-planner.ts';
import type { RouteTable } from '../../shared/routes/route-table.ts';
import { syntheticRoutes } from '../support/synthetic-routes.ts';
import {
  apiKeyRequestEvent,
  expectCacheExact,
  methodArnArb,
  sameRouteArnsArb,
} from './support/method-arns.ts';

/** Runs per property; CI keeps 10,000 (docs/hardening.md). `HOSTILE_RUNS` lowers it for a quick local loop. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const PEPPER = 'hostile-suite-pepper-0123456789';
const NOW = Date.parse('2026-06-01T12:00:00Z');

const SCOPE_SETS = [[], ['orders:read'], ['orders:write'], ['orders:admin'], ['orders:read', 'orders:admin']];
/** Scope sets for the large table (svc0 … svc3 are the services most requests go to). */
const LARGE_SCOPE_SETS = [
  [],
  ['svc1:read'],
  ['svc1:write'],
  ['svc1:read', 'svc2:write'],
  ['svc0:read', 'svc3:write'],
];
const minted = [...SCOPE_SETS, ...LARGE_SCOPE_SETS].map((_, i) =>
  mintApiKey('live', `propkey${String(i).padStart(5, '0')}`),
);
const ALL_SCOPE_SETS = [...SCOPE_SETS, ...LARGE_SCOPE_SETS];
const records = new Map<string, KeyRecord>(
  minted.map((m, i) => [
    m.keyId,
    {
      keyId: m.keyId,
      hash: hashSecret(m.secret, PEPPER),
      clientId: `client-${i}`,
      name: 'property key',
      scopes: ALL_SCOPE_SETS[i] as string[],
      status: 'active',
      createdAt: NOW - 1000,
      expiresAt: undefined,
      allowedCidrs: [],
      tier: 'basic',
      previousHash: undefined,
      previousHashExpiresAt: undefined,
    },
  ]),
);
// Keys only: no request here carries a password, so the lockout's methods are never called.
const unused = async (): Promise<never> => {
  throw new Error('not used by these properties');
};
const store: CredentialStore = {
  findKey: async (keyId) => records.get(keyId),
  findUser: async () => undefined,
  reserveAttempt: unused,
  releaseAttempt: unused,
  lock: unused,
};

const keyAuthorizer = (routes: RouteTable) =>
  createKeyAuthorizer({
    store,
    passwords: createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } }),
    routes,
    clock: () => NOW,
    observer: memoryObserver(),
    keyEnvironment: 'live',
    pepper: PEPPER,
    usageKeyRequired: false,
    simpleResponses: false,
    lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 300_000 },
    cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 100 },
  });
const authorize = keyAuthorizer(ROUTES);

/** The REST REQUEST event for a method ARN (support/method-arns.ts). */
function requestEvent(arn: string, key: string, routes: RouteTable = ROUTES): Record<string, unknown> {
  return apiKeyRequestEvent(routes, arn, STAGE, key);
}

describe('credentials authorizer properties', () => {
  it('gives every policy it answers the verdict of a fresh decision, for every method ARN', async () => {
    const arn = methodArnArb(ROUTES, STAGE);
    await fc.assert(
      fc.asyncProperty(fc.nat(SCOPE_SETS.length - 1), arn, arn, async (which, first, later) => {
        const key = (minted[which] as (typeof minted)[number]).key;
        expectCacheExact({
          routes: ROUTES,
          granted: new Set(SCOPE_SETS[which]),
          stagePrefix: STAGE,
          first,
          later,
          firstAnswer: await authorize(requestEvent(first, key)),
          laterAnswer: await authorize(requestEvent(later, key)),
          sameKey: true,
        });
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('answers a 1,000-route API per route, exact on every request of a cache key (method and resource)', async () => {
    const routes = planned(syntheticRoutes(1000));
    expect(new PolicyCache(routes).mode).toBe('route');
    const large = keyAuthorizer(routes);
    const busy = routes.filter((r) => /^\/svc[0-3]\//.test(r.path));
    const arns = fc.oneof(
      { weight: 3, arbitrary: sameRouteArnsArb(busy, STAGE) },
      { weight: 1, arbitrary: fc.tuple(methodArnArb(busy, STAGE), methodArnArb(routes, STAGE)) },
    );
    const keyOf = (arn: string) => {
      const event = requestEvent(arn, '', routes);
      return `${String(event.httpMethod)} ${String(event.resource)}`;
    };
    await fc.assert(
      fc.asyncProperty(fc.nat(LARGE_SCOPE_SETS.length - 1), arns, async (which, [first, later]) => {
        const key = (minted[SCOPE_SETS.length + which] as (typeof minted)[number]).key;
        expectCacheExact({
          routes,
          granted: new Set(LARGE_SCOPE_SETS[which]),
          stagePrefix: STAGE,
          first,
          later,
          firstAnswer: await large(requestEvent(first, key, routes)),
          laterAnswer: await large(requestEvent(later, key, routes)),
          sameKey: keyOf(first) === keyOf(later),
        });
      }),
      { numRuns: RUNS },
    );
  }, 180_000);
});
