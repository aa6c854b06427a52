import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fillTokenPlaceholders,
  generateSigningKey,
  localIssuerEntry,
  type RunningIssuer,
  startLocalIssuer,
} from '../../tools/issuer/local-issuer.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { readEvent, retarget, SAMPLE_EVENTS } from '../support/events.ts';
import { startJwksServer } from '../support/jwks-server.ts';
import { type Outcome, outcomeOf } from '../support/outcome.ts';

describe('JwtAuthorizerFunction bundle', () => {
  let issuer: RunningIssuer;
  let env: Record<string, string>;
  let authorizer: ReturnType<typeof bundleEnvironment>;
  const mint = (scope: string) => issuer.mint({ scope });

  beforeAll(async () => {
    issuer = await startLocalIssuer({ key: generateSigningKey() });
    env = {
      JWT_ISSUERS: JSON.stringify([localIssuerEntry(issuer.url)]),
      POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
    };
    authorizer = bundleEnvironment('JwtAuthorizerFunction', env);
  });
  afterAll(async () => {
    await authorizer.lambda.close();
    await issuer.close();
  });

  const expectations: Record<string, Outcome> = {
    'allow.json': 'allow',
    'rest-token-allow.json': 'allow',
    'http-v1-allow.json': 'allow',
    'http-v2-allow.json': 'allow',
    'websocket-allow.json': 'allow',
    'rest-scope-missing-deny.json': 'deny',
    'http-v2-scope-missing-deny.json': 'deny',
    'http-v2-expired-unauthorized.json': 'unauthorized',
    'http-v2-wrong-audience-unauthorized.json': 'unauthorized',
    'rest-expired-unauthorized.json': 'unauthorized',
    'rest-no-header-unauthorized.json': 'unauthorized',
    'rest-malformed-unauthorized.json': 'unauthorized',
    'rest-wrong-audience-unauthorized.json': 'unauthorized',
    'rest-token-in-query-unauthorized.json': 'unauthorized',
    'rest-basic-scheme-unauthorized.json': 'unauthorized',
    'rest-tenant-allow.json': 'allow',
    'rest-tenant-other-tenant-deny.json': 'deny',
    'rest-tenant-claim-wildcard-deny.json': 'deny',
    'rest-tenant-claim-slash-deny.json': 'deny',
    'rest-tenant-claim-missing-deny.json': 'deny',
  };

  it('has an expectation for every sample event in events/jwt-authorizer', () => {
    expect(readdirSync('events/jwt-authorizer').sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.entries(expectations))(
    'gives events/jwt-authorizer/%s the outcome %s',
    async (file, expected) => {
      const event = fillTokenPlaceholders(readEvent(`events/jwt-authorizer/${file}`), (o) =>
        issuer.mint(o),
      ) as Record<string, unknown>;
      expect(outcomeOf(await authorizer.lambda.invoke(event), event)).toBe(expected);
    },
  );

  it.each(Object.keys(SAMPLE_EVENTS) as (keyof typeof SAMPLE_EVENTS)[])(
    'allows a valid token in the AWS sample %s event',
    async (name) => {
      const event = retarget(readEvent(SAMPLE_EVENTS[name]), {
        method: 'POST',
        path: '/orders',
        authorization: `Bearer ${mint('orders:write')}`,
      });
      expect(outcomeOf(await authorizer.lambda.invoke(event), event)).toBe('allow');
    },
  );

  it.each(Object.keys(SAMPLE_EVENTS) as (keyof typeof SAMPLE_EVENTS)[])(
    'refuses the AWS sample %s event with its own (fake) credential',
    async (name) => {
      const event = readEvent(SAMPLE_EVENTS[name]);
      expect(outcomeOf(await authorizer.lambda.invoke(event), event)).toBe('unauthorized');
    },
  );

  it('keeps tokens out of the logs and the answers', async () => {
    const token = mint('orders:read');
    const event = retarget(readEvent(SAMPLE_EVENTS['rest-request']), { authorization: `Bearer ${token}` });
    const result = await authorizer.lambda.invoke(event);
    const bad = await authorizer.lambda.invoke(
      retarget(event, { authorization: `Bearer ${token.slice(0, -4)}AAAA` }),
    );
    expect(outcomeOf(bad, event)).toBe('unauthorized');
    const [, payload, signature] = token.split('.');
    for (const secret of [token, payload as string, signature as string]) {
      expect(authorizer.logs()).not.toContain(secret);
      expect(JSON.stringify(result)).not.toContain(secret);
    }
    expect(authorizer.logs()).toContain('"reason":"signature_invalid"');
  });

  it('fails its cold start with a message naming the bad variable', async () => {
    const broken = bundleEnvironment('JwtAuthorizerFunction', {
      JWT_ISSUERS: '[{"issuer":"https://x"}]',
      JWT_CLOCK_SKEW_SECONDS: 'soon',
    });
    const result = await broken.lambda.invoke({});
    await broken.lambda.close();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.errorType).toBe('Runtime.InitError');
    expect(!result.ok && result.error.errorMessage).toMatch(
      /JWT_ISSUERS \[0\]\.audience is required.*JWT_CLOCK_SKEW_SECONDS must be an integer/,
    );
  });

  it('fails (not 401, not Deny) while the JWKS is unavailable, then allows once it is back', async () => {
    const jwks = await startJwksServer([issuer.key.publicJwk]);
    jwks.setMode('error-500');
    const entry = { issuer: issuer.url, audience: 'gatehouse-local', jwksUri: jwks.jwksUri };
    const fn = bundleEnvironment('JwtAuthorizerFunction', { JWT_ISSUERS: JSON.stringify([entry]) });
    const event = retarget(readEvent(SAMPLE_EVENTS['rest-request']), {
      authorization: `Bearer ${mint('orders:read')}`,
    });
    const down = await fn.lambda.invoke(event);
    expect(down.ok).toBe(false);
    expect(!down.ok && down.error.errorMessage).not.toBe('Unauthorized');
    jwks.setMode('ok');
    expect(outcomeOf(await fn.lambda.invoke(event), event)).toBe('allow');
    await fn.lambda.close();
    await jwks.close();
  });
});
