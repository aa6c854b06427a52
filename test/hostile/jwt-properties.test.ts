// Property tests (fast-check) for the JWT authorizer: the pure factory with the real verifier and
// keys on a loopback JWKS. No generated input may be allowed, and none may crash the authorizer.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/generated/routes.ts';
import { planned } from '../../shared/policy/policy-planner.ts';
import { type JwksServer, startJwksServer } from '../support/jwks-server.ts';
import { testKey } from '../support/keys.ts';
import { syntheticRoutes } from '../support/synthetic-routes.ts';
import {
  claims,
  HOSTILE_AUDIENCE,
  HOSTILE_ISSUER,
  hostileAuthorizer,
  restEvent,
  sign,
} from './support/jwt-harness.ts';
import {
  expectCacheExact,
  methodArnArb,
  resourceOf,
  sameRouteArnsArb,
  splitMethodArn,
} from './support/method-arns.ts';

/** Runs per property; CI keeps 10,000 (docs/hardening.md). `HOSTILE_RUNS` lowers it for a quick local loop. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const key = testKey('RS256', 'rsa-prop');
const ec = testKey('ES256', 'ec-prop');
const b64 = (v: string | Uint8Array) => Buffer.from(v).toString('base64url');

/** A 1,000-route API: answered per route (cache mode `route`). */
const LARGE = planned(syntheticRoutes(1000));

let jwks: JwksServer;
let authorize: (event: unknown) => Promise<number>;
let respond: (event: unknown) => Promise<unknown>;
beforeAll(async () => {
  jwks = await startJwksServer([key.jwk, ec.jwk]);
  ({ authorize, respond } = hostileAuthorizer(jwks.jwksUri));
});
afterAll(async () => {
  await jwks.close();
});

/** Claims that pass every claim check, so only the signature stands between them and Allow. */
const goodClaims = fc.record({
  scope: fc.constantFrom('orders:read', 'orders:read orders:write orders:admin'),
  sub: fc.string({ minLength: 1, maxLength: 12 }),
});
/** Headers an attacker would try: real kids and algs, plus junk. */
const header = fc.record(
  {
    alg: fc.oneof(fc.constantFrom('RS256', 'ES256', 'EdDSA', 'HS256', 'none', 'PS256'), fc.string()),
    kid: fc.oneof(fc.constantFrom(key.kid, ec.kid), fc.string()),
    typ: fc.constantFrom('JWT', 'at+jwt'),
  },
  { requiredKeys: ['alg'] },
);

describe('JWT authorizer properties', () => {
  it('never allows, never crashes: arbitrary strings as the bearer token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()),
        async (raw) => {
          const status = await authorize(restEvent(`Bearer ${raw}`));
          expect([401, 403]).toContain(status);
        },
      ),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('never allows, never crashes: JWT-shaped tokens with real claims and forged signatures', async () => {
    await fc.assert(
      fc.asyncProperty(header, goodClaims, fc.uint8Array({ maxLength: 300 }), async (h, c, signature) => {
        const token = `${b64(JSON.stringify(h))}.${b64(JSON.stringify(claims(c)))}.${b64(signature)}`;
        const status = await authorize(restEvent(`Bearer ${token}`));
        expect(status).toBe(401);
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('never allows a validly signed token changed in one character', async () => {
    const tokens = [
      sign(
        { alg: 'RS256', kid: key.kid },
        claims({ iss: HOSTILE_ISSUER, aud: HOSTILE_AUDIENCE }),
        key.privateKey,
        'RS256',
      ),
      sign({ alg: 'ES256', kid: ec.kid }, claims(), ec.privateKey, 'ES256'),
    ];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tokens),
        fc.nat(),
        fc.constantFrom(...alphabet),
        async (token, at, replacement) => {
          const i = at % token.length;
          const mutated = token.slice(0, i) + replacement + token.slice(i + 1);
          // Changing only the unused low bits of a segment's last character leaves the same bytes:
          // that is the same token, not a forgery, so it is left out.
          const same = (a: string, b: string) => {
            const [x, y] = [a.split('.'), b.split('.')];
            return (
              x.length === y.length &&
              x.every((s, k) => Buffer.from(s, 'base64url').equals(Buffer.from(y[k] as string, 'base64url')))
            );
          };
          fc.pre(!same(token, mutated));
          const status = await authorize(restEvent(`Bearer ${mutated}`));
          expect(status).toBe(401);
        },
      ),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('never allows, never crashes: arbitrary Authorization and query headers around a forged token', async () => {
    const forged = `${b64(JSON.stringify({ alg: 'RS256', kid: key.kid }))}.${b64(JSON.stringify(claims()))}.${b64('x')}`;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.constant(`Bearer ${forged}`), fc.constant(`bearer  ${forged}`)), {
          maxLength: 3,
        }),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH', 'get'),
        async (authorization, query, method) => {
          const status = await authorize(restEvent(authorization, { query, method }));
          expect([401, 403]).toContain(status);
        },
      ),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('gives every cached policy the verdict of a fresh decision, for every method ARN', async () => {
    // API Gateway caches the REST TOKEN authorizer's policy per token and evaluates it against the
    // method ARN of every later request with that token: any method, any path, not only routes.
    const stage = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
    const scopeSets = [
      [],
      ['orders:read'],
      ['orders:write'],
      ['orders:admin'],
      ['orders:read', 'orders:admin'],
    ];
    const tokens = scopeSets.map((scopes) =>
      sign({ alg: 'RS256', kid: key.kid }, claims({ scope: scopes.join(' ') }), key.privateKey, 'RS256'),
    );
    const arn = methodArnArb(ROUTES, stage);
    await fc.assert(
      fc.asyncProperty(fc.nat(scopeSets.length - 1), arn, arn, async (which, first, later) => {
        const token = `Bearer ${tokens[which]}`;
        expectCacheExact({
          routes: ROUTES,
          granted: new Set(scopeSets[which]),
          stagePrefix: stage,
          first,
          later,
          firstAnswer: await respond({ type: 'TOKEN', authorizationToken: token, methodArn: first }),
          laterAnswer: await respond({ type: 'TOKEN', authorizationToken: token, methodArn: later }),
          sameKey: true,
        });
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('answers a 1,000-route API per route: a REQUEST authorizer keyed by token, method and resource', async () => {
    // The per-route cache mode (docs/policies.md#cache-modes): API Gateway reuses an answer only for
    // requests with the same token, context.httpMethod and context.resourcePath.
    const stage = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';
    const routes = LARGE;
    const large = hostileAuthorizer(jwks.jwksUri, {}, routes);
    // Keys loaded before the property, which is about policies, not JWKS downloads.
    expect(await large.verifier.prefetch()).toEqual([]);
    const scopeSets = [['svc1:read'], ['svc1:read', 'svc2:write'], ['svc0:read', 'svc3:write']];
    const tokens = scopeSets.map((scopes) =>
      sign({ alg: 'RS256', kid: key.kid }, claims({ scope: scopes.join(' ') }), key.privateKey, 'RS256'),
    );
    const busy = routes.filter((r) => /^\/svc[0-3]\//.test(r.path));
    const arns = fc.oneof(
      { weight: 3, arbitrary: sameRouteArnsArb(busy, stage) },
      { weight: 1, arbitrary: fc.tuple(methodArnArb(busy, stage), methodArnArb(routes, stage)) },
    );
    const eventOf = (arn: string, token: string) => {
      const { method, path } = splitMethodArn(arn, stage);
      const resource = resourceOf(routes, arn, stage);
      return {
        key: `${method} ${resource}`,
        event: restEvent(`Bearer ${token}`, { method, path, resource }),
      };
    };
    await fc.assert(
      fc.asyncProperty(fc.nat(scopeSets.length - 1), arns, async (which, [first, later]) => {
        const token = tokens[which] as string;
        const a = eventOf(first, token);
        const b = eventOf(later, token);
        expectCacheExact({
          routes,
          granted: new Set(scopeSets[which]),
          stagePrefix: stage,
          first,
          later,
          firstAnswer: await large.respond(a.event),
          laterAnswer: await large.respond(b.event),
          sameKey: a.key === b.key,
        });
      }),
      { numRuns: RUNS },
    );
  }, 180_000);
});
