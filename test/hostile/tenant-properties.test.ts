// Property tests (fast-check) for tenant-bound paths (docs/tenant-binding.md), for both
// authorizers: the pure factories with the real verifier (signed tokens, a loopback JWKS) and the
// real key check (an in-memory store). For random tenants (hostile characters included) held by a
// token claim or a credential, and method ARNs over every route of the demo API and beyond:
// - no answer ever allows a path whose bound segment is not the caller's own (usable) value;
// - the answer API Gateway caches for one request gives every later request of the same cache key
//   (the token, or the key: mode `api`) the verdict of a fresh decision.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, mintApiKey } from '../../shared/credentials/api-key.ts';
import { createKeyAuthorizer } from '../../shared/credentials/key-authorizer.ts';
import { createPasswordHasher } from '../../shared/credentials/password.ts';
import type { CredentialStore, KeyRecord } from '../../shared/credentials/store.ts';
import { ROUTES } from '../../shared/generated/routes.ts';
import { memoryObserver } from '../../shared/observability/observer.ts';
import { PolicyCache } from '../../shared/policy/policy-compiler.ts';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { testKey } from '../support/keys.ts';
import { claims, hostileAuthorizer, sign } from './support/jwt-harness.ts';
import {
  apiKeyRequestEvent,
  type CallerValues,
  expectCacheExact,
  MAX_METHOD_ARN_BYTES,
  methodArnArb,
  ownBoundPath,
  policyAllows,
  splitMethodArn,
  usableValue,
} from './support/method-arns.ts';

/** Runs per property; CI keeps 10,000 (docs/hardening.md). `HOSTILE_RUNS` lowers it for a quick local loop. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
const TENANT_CLAIM = 'custom:tenant_id';
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** Tenants the demo schema accepts. */
const TENANTS = ['acme', 'globex', 'initech-eu', 'a00'];
/** Values that would widen a pattern, move a segment, or fall outside the schema. */
const HOSTILE = [
  '*',
  '?',
  'acme*',
  '*cme',
  'acm?',
  'acme/orders',
  'acme/../globex',
  '../globex',
  '.',
  '..',
  '%2F',
  'acme%2Forders',
  '%61cme',
  '$',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS placeholder
  '${aws:username}',
  '{tenantId}',
  ' acme',
  'acme ',
  'ac me',
  'acme\n',
  'acme\t',
  'acmé',
  'аcme',
  'ACME',
  'ac',
  '',
  'a'.repeat(33),
  'a'.repeat(200),
  'acme:eu',
  'acme,globex',
  'acme;globex',
];
const SCOPE_SETS = [['orders:read'], ['orders:read', 'orders:write', 'orders:admin'], []];

/** A caller's tenant as a string (a credential attribute is one), hostile ones often. */
const tenantString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TENANTS) },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,8}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);
/** A claim's value: any JSON, or absent. */
const claimValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: tenantString },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 42, true, ['acme'], { id: 'acme' }) },
);

/** Stands for the caller's own value in an ARN template (replaced once the caller is known). */
const OWN = '\u0000own\u0000';

/**
 * Method ARNs aimed at the tenant routes, as templates: the caller's own value (often), another
 * tenant, or a wildcard in the bound position, with suffixes and other methods.
 */
const tenantArn: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('GET', 'GET', 'GET', 'POST', 'get', '*'),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(OWN) },
      { weight: 2, arbitrary: tenantString },
      { weight: 1, arbitrary: fc.constantFrom('*', '?*', '*/*', `${OWN}*`, `${OWN}/x`, `x${OWN}`) },
    ),
    fc.constantFrom('', '', '/ord_acme0001', '/ord_globex01', '/', '/x/y', '/ord_acme0001/', '//'),
  )
  .map(([method, tenant, rest]) => `${STAGE}/${method}/tenants/${tenant}/orders${rest}`);

/** Two method ARN templates: aimed at tenant paths, over every route (and none), or one of each. */
const arnPair = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(tenantArn, tenantArn) },
  { weight: 1, arbitrary: fc.tuple(tenantArn, methodArnArb(ROUTES, STAGE)) },
  { weight: 1, arbitrary: fc.tuple(methodArnArb(ROUTES, STAGE), tenantArn) },
  { weight: 1, arbitrary: fc.tuple(methodArnArb(ROUTES, STAGE), methodArnArb(ROUTES, STAGE)) },
);

/**
 * The ARNs for a caller whose value is `own`; fc.pre skips pairs no request line could carry
 * (whitespace or control characters, longer than API Gateway accepts).
 */
function arnsFor(pair: readonly [string, string], own: unknown): [string, string] {
  const text = typeof own === 'string' ? own : 'acme';
  const [first, later] = pair.map((arn) => arn.split(OWN).join(text)) as [string, string];
  for (const arn of [first, later])
    fc.pre(Buffer.byteLength(arn) <= MAX_METHOD_ARN_BYTES && !/[\s\p{Cc}]/u.test(arn));
  return [first, later];
}

const matcher = new RouteMatcher(ROUTES);
/** The demo API's tenant binding, as the route table carries it. */
const TENANT_BINDING = ROUTES.find((r) => r.operationId === 'listTenantOrders')?.bindings?.[0] as NonNullable<
  (typeof ROUTES)[number]['bindings']
>[number];

/**
 * An allowed ARN reaches no bound route with another value in the bound position: checked on the
 * path as the ARN spells it, with the tenant routes' own positions (not through the authorizer).
 */
function expectOnlyOwnTenant(answer: unknown, arn: string, values: CallerValues): boolean {
  if (!policyAllows(answer, arn)) return false;
  const { method, path } = splitMethodArn(arn, STAGE);
  const found = matcher.lookup(method, path);
  if (found.kind !== 'found' || found.match.route.bindings === undefined) return false;
  expect({ arn, values, own: ownBoundPath(found.match.route, path, values) }).toEqual({
    arn,
    values,
    own: true,
  });
  return true;
}

describe('tenant-bound paths: the JWT authorizer', () => {
  const key = testKey('ES256', 'tenant-prop');
  let jwks: JwksServer;
  let respond: (event: unknown) => Promise<unknown>;
  // One token per (scope set, claim value): signing is the costly part, and tokens repeat.
  const tokens = new Map<string, string>();
  const tokenFor = (scopes: readonly string[], value: unknown) => {
    const id = JSON.stringify([scopes, value === undefined ? '(absent)' : value]);
    let token = tokens.get(id);
    if (token === undefined) {
      const payload = claims({
        scope: scopes.join(' '),
        ...(value === undefined ? {} : { [TENANT_CLAIM]: value }),
      });
      token = sign({ alg: 'ES256', kid: key.kid }, payload, key.privateKey, 'ES256');
      tokens.set(id, token);
    }
    return token;
  };

  beforeAll(async () => {
    jwks = await startJwksServer([key.jwk]);
    ({ respond } = hostileAuthorizer(jwks.jwksUri));
  });
  afterAll(async () => {
    await jwks.close();
  });

  it('never allows another tenant’s path, and the policy cached per token is exact on every method ARN', async () => {
    // The cache mode of the demo API is `api`: the REST TOKEN authorizer's answer is cached per
    // token and evaluated against the method ARN of every later request with it.
    expect(new PolicyCache(ROUTES).mode).toBe('api');
    let ownAllowed = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(SCOPE_SETS.length - 1), claimValue, arnPair, async (which, value, pair) => {
        const [first, later] = arnsFor(pair, value);
        const scopes = SCOPE_SETS[which] as string[];
        const token = `Bearer ${tokenFor(scopes, value)}`;
        const values = { tenantId: value };
        const firstAnswer = await respond({ type: 'TOKEN', authorizationToken: token, methodArn: first });
        const laterAnswer = await respond({ type: 'TOKEN', authorizationToken: token, methodArn: later });
        for (const arn of [first, later])
          for (const answer of [firstAnswer, laterAnswer])
            if (expectOnlyOwnTenant(answer, arn, values)) ownAllowed++;
        expectCacheExact({
          routes: ROUTES,
          granted: new Set(scopes),
          stagePrefix: STAGE,
          first,
          later,
          firstAnswer,
          laterAnswer,
          sameKey: true,
          values,
        });
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: callers' own tenant paths were allowed (and checked) many times.
    expect(ownAllowed).toBeGreaterThan(RUNS / 20);
  }, 300_000);

  it('puts only a usable tenant into the context (bind_tenantId), never a hostile one', async () => {
    await fc.assert(
      fc.asyncProperty(claimValue, async (value) => {
        const answer = (await respond({
          type: 'TOKEN',
          authorizationToken: `Bearer ${tokenFor(['orders:read'], value)}`,
          methodArn: `${STAGE}/GET/tenants/acme/orders`,
        })) as { context: Record<string, unknown> };
        const usable = usableValue(TENANT_BINDING, value);
        expect({ value, context: answer.context.bind_tenantId }).toEqual({
          value,
          context: usable ? value : undefined,
        });
      }),
      { numRuns: Math.max(1, Math.floor(RUNS / 10)) },
    );
  }, 120_000);
});

describe('tenant-bound paths: the credentials authorizer', () => {
  const PEPPER = 'tenant-suite-pepper-0123456789';
  const records = new Map<string, KeyRecord>();
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
  const authorize = createKeyAuthorizer({
    store,
    passwords: createPasswordHasher({ params: { N: 1024, r: 8, p: 1, keylen: 32 } }),
    routes: ROUTES,
    clock: () => NOW,
    observer: memoryObserver(),
    keyEnvironment: 'live',
    pepper: PEPPER,
    usageKeyRequired: false,
    simpleResponses: false,
    lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 300_000 },
    cache: { ttlMs: 30_000, negativeTtlMs: 5_000, size: 100 },
  });
  // One key per (scope set, tenant): a record written with any tenant string, as a table written
  // by other means than the CLI (which refuses unsafe ones) could hold it.
  const keys = new Map<string, string>();
  const keyFor = (scopes: readonly string[], tenant: string | undefined) => {
    const id = JSON.stringify([scopes, tenant ?? '(none)']);
    let key = keys.get(id);
    if (key === undefined) {
      const minted = mintApiKey('live', `tenant${String(keys.size).padStart(6, '0')}`);
      records.set(minted.keyId, {
        keyId: minted.keyId,
        hash: hashSecret(minted.secret, PEPPER),
        clientId: `client-${keys.size}`,
        name: 'tenant property key',
        scopes,
        status: 'active',
        createdAt: NOW - 1000,
        expiresAt: undefined,
        allowedCidrs: [],
        tier: 'basic',
        previousHash: undefined,
        previousHashExpiresAt: undefined,
        ...(tenant === undefined ? {} : { tenant }),
      });
      key = minted.key;
      keys.set(id, key);
    }
    return key;
  };
  const requestEvent = (arn: string, key: string) =>
    apiKeyRequestEvent(ROUTES, arn, STAGE, key, 'tenant-property');

  it('never allows another tenant’s path, and every answer is exact on every method ARN', async () => {
    let ownAllowed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SCOPE_SETS.length - 1),
        fc.option(tenantString, { nil: undefined }),
        arnPair,
        async (which, tenant, pair) => {
          const [first, later] = arnsFor(pair, tenant);
          const scopes = SCOPE_SETS[which] as string[];
          const key = keyFor(scopes, tenant);
          const values = { tenantId: tenant };
          const firstAnswer = await authorize(requestEvent(first, key));
          const laterAnswer = await authorize(requestEvent(later, key));
          for (const arn of [first, later])
            for (const answer of [firstAnswer, laterAnswer])
              if (expectOnlyOwnTenant(answer, arn, values)) ownAllowed++;
          expectCacheExact({
            routes: ROUTES,
            granted: new Set(scopes),
            stagePrefix: STAGE,
            first,
            later,
            firstAnswer,
            laterAnswer,
            sameKey: true,
            values,
          });
        },
      ),
      { numRuns: RUNS },
    );
    // Not vacuous: callers' own tenant paths were allowed (and checked) many times.
    expect(ownAllowed).toBeGreaterThan(RUNS / 20);
  }, 300_000);
});
