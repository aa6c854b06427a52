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
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { documentPermits, methodArnArb, policyAllows, splitMethodArn } from './support/method-arns.ts';

/** Runs per property; CI keeps 10,000 (docs/hardening.md). `HOSTILE_RUNS` lowers it for a quick local loop. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const PEPPER = 'hostile-suite-pepper-0123456789';
const NOW = Date.parse('2026-06-01T12:00:00Z');

const SCOPE_SETS = [[], ['orders:read'], ['orders:write'], ['orders:admin'], ['orders:read', 'orders:admin']];
const minted = SCOPE_SETS.map((_, i) => mintApiKey('live', `propkey${String(i).padStart(5, '0')}`));
const records = new Map<string, KeyRecord>(
  minted.map((m, i) => [
    m.keyId,
    {
      keyId: m.keyId,
      hash: hashSecret(m.secret, PEPPER),
      clientId: `client-${i}`,
      name: 'property key',
      scopes: SCOPE_SETS[i] as string[],
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
const store: CredentialStore = {
  findKey: async (keyId) => records.get(keyId),
  findUser: async () => undefined,
  recordFailure: async () => ({ failures: 0, lockedUntil: undefined }),
  clearFailures: async () => undefined,
};

const authorize = createKeyAuthorizer({
  store,
  passwords: createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } }),
  routes: ROUTES,
  clock: () => NOW,
  observer: memoryObserver(),
  keyEnvironment: 'live',
  pepper: PEPPER,
  usagePlanKeys: {},
  simpleResponses: false,
  lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 300_000 },
  cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 100 },
});

const matcher = new RouteMatcher(ROUTES);

/** The REST REQUEST event API Gateway sends for a method ARN (resource: the route it matched, if any). */
function requestEvent(arn: string, key: string): Record<string, unknown> {
  const { method, path } = splitMethodArn(arn, STAGE);
  const found = matcher.lookup(method, path);
  const resource = found.kind === 'found' ? found.match.route.path : '/{proxy+}';
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
      requestId: 'property-1',
      resourcePath: resource,
      httpMethod: method,
      identity: { sourceIp: '203.0.113.10' },
    },
  };
}

describe('credentials authorizer properties', () => {
  it('gives every policy it answers the verdict of a fresh decision, for every method ARN', async () => {
    const arn = methodArnArb(ROUTES, STAGE);
    await fc.assert(
      fc.asyncProperty(fc.nat(SCOPE_SETS.length - 1), arn, arn, async (which, first, later) => {
        const key = (minted[which] as (typeof minted)[number]).key;
        const granted = new Set(SCOPE_SETS[which]);
        const earlier = await authorize(requestEvent(first, key));
        const fresh = await authorize(requestEvent(later, key));
        const expected = documentPermits(ROUTES, granted, later, STAGE);
        expect({ later, fresh: policyAllows(fresh, later) }).toEqual({ later, fresh: expected });
        expect({ first, later, reused: policyAllows(earlier, later) }).toEqual({
          first,
          later,
          reused: expected,
        });
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
