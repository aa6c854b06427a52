import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoReplayStore } from '../../shared/dpop/dynamo-replay-store.ts';
import { fillEventPlaceholders } from '../../tools/issuer/event-placeholders.ts';
import {
  generateSigningKey,
  localIssuerEntry,
  type RunningIssuer,
  startLocalIssuer,
} from '../../tools/issuer/local-issuer.ts';
import { SAMPLE_DPOP_PUBLIC_URLS } from '../../tools/local/services.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynalite.ts';
import { readEvent, retarget, SAMPLE_EVENTS } from '../support/events.ts';
import { startJwksServer } from '../support/jwks-server.ts';
import { loggedReason, type Outcome, outcomeOf } from '../support/outcome.ts';

describe('JwtAuthorizerFunction bundle', () => {
  let issuer: RunningIssuer;
  let dynamo: TestDynamo;
  let env: Record<string, string>;
  let authorizer: ReturnType<typeof bundleEnvironment>;
  const mint = (scope: string) => issuer.mint({ scope });

  beforeAll(async () => {
    issuer = await startLocalIssuer({ key: generateSigningKey() });
    dynamo = await startTestDynamo();
    // As the template configures it, with the local issuer taking DPoP and the replay table in dynalite.
    env = {
      JWT_ISSUERS: JSON.stringify([{ ...localIssuerEntry(issuer.url), dpop: 'allowed' }]),
      POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
      DPOP_PUBLIC_URLS: JSON.stringify(SAMPLE_DPOP_PUBLIC_URLS),
      DPOP_REPLAY_TABLE: 'DpopReplayTable',
      DYNAMODB_ENDPOINT: dynamo.endpoint,
    };
    authorizer = bundleEnvironment('JwtAuthorizerFunction', env);
  });
  afterAll(async () => {
    await authorizer.lambda.close();
    await issuer.close();
    await dynamo.close();
  });

  /** Each event's outcome, and for a refusal the reason the decision log gives. */
  const expectations: Record<string, [Outcome, string]> = {
    'allow.json': ['allow', 'allowed'],
    'rest-token-allow.json': ['allow', 'allowed'],
    'http-v1-allow.json': ['allow', 'allowed'],
    'http-v2-allow.json': ['allow', 'allowed'],
    'websocket-allow.json': ['allow', 'allowed'],
    'rest-scope-missing-deny.json': ['deny', 'scope_missing'],
    'http-v2-scope-missing-deny.json': ['deny', 'scope_missing'],
    'http-v2-expired-unauthorized.json': ['unauthorized', 'token_expired'],
    'http-v2-wrong-audience-unauthorized.json': ['unauthorized', 'audience_invalid'],
    'rest-expired-unauthorized.json': ['unauthorized', 'token_expired'],
    'rest-no-header-unauthorized.json': ['unauthorized', 'credential_missing'],
    'rest-malformed-unauthorized.json': ['unauthorized', 'credential_malformed'],
    'rest-wrong-audience-unauthorized.json': ['unauthorized', 'audience_invalid'],
    'rest-token-in-query-unauthorized.json': ['unauthorized', 'credential_in_query'],
    'rest-basic-scheme-unauthorized.json': ['unauthorized', 'credential_scheme'],
    'rest-dpop-allow.json': ['allow', 'allowed'],
    'http-v2-dpop-allow.json': ['allow', 'allowed'],
    'rest-dpop-mtls-allow.json': ['allow', 'allowed'],
    'rest-dpop-replayed-unauthorized.json': ['unauthorized', 'dpop_replayed'],
    'rest-dpop-htu-mismatch-unauthorized.json': ['unauthorized', 'dpop_htu_mismatch'],
    'rest-dpop-htm-mismatch-unauthorized.json': ['unauthorized', 'dpop_htm_mismatch'],
    'rest-dpop-other-key-unauthorized.json': ['unauthorized', 'dpop_jkt_mismatch'],
    'rest-dpop-stale-unauthorized.json': ['unauthorized', 'dpop_iat_stale'],
    'rest-dpop-proof-missing-unauthorized.json': ['unauthorized', 'dpop_proof_missing'],
    'rest-dpop-bound-as-bearer-unauthorized.json': ['unauthorized', 'token_dpop_bound_as_bearer'],
    'rest-token-dpop-scheme-unauthorized.json': ['unauthorized', 'dpop_token_authorizer'],
    'rest-mtls-allow.json': ['allow', 'allowed'],
    'http-v2-mtls-allow.json': ['allow', 'allowed'],
    'rest-mtls-thumbprint-mismatch-unauthorized.json': ['unauthorized', 'mtls_thumbprint_mismatch'],
    'rest-mtls-certificate-missing-unauthorized.json': ['unauthorized', 'mtls_certificate_missing'],
    'rest-tenant-allow.json': ['allow', 'allowed'],
    'rest-tenant-other-tenant-deny.json': ['deny', 'tenant_mismatch'],
    'rest-tenant-claim-wildcard-deny.json': ['deny', 'tenant_claim_unsafe'],
    'rest-tenant-claim-slash-deny.json': ['deny', 'tenant_claim_unsafe'],
    'rest-tenant-claim-missing-deny.json': ['deny', 'tenant_claim_missing'],
    // Sender-constrained tokens on a tenant route: both the proof and the tenant are checked.
    'rest-tenant-dpop-allow.json': ['allow', 'allowed'],
    'rest-tenant-dpop-other-tenant-deny.json': ['deny', 'tenant_mismatch'],
    'rest-tenant-dpop-other-key-unauthorized.json': ['unauthorized', 'dpop_jkt_mismatch'],
    'rest-tenant-mtls-allow.json': ['allow', 'allowed'],
    'rest-tenant-mtls-certificate-missing-unauthorized.json': ['unauthorized', 'mtls_certificate_missing'],
  };

  it('has an expectation for every sample event in events/jwt-authorizer', () => {
    expect(readdirSync('events/jwt-authorizer').sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.entries(expectations))(
    'gives events/jwt-authorizer/%s the outcome and reason %j',
    async (file, [expected, reason]) => {
      // Arrange: placeholders filled as npm run invoke fills them (replayed proofs in the table).
      const replay = dynamoReplayStore({
        client: dynamo.functionClient,
        tableName: 'DpopReplayTable',
        budgetMs: 5000,
        now: Date.now,
      });
      const event = (await fillEventPlaceholders(readEvent(`events/jwt-authorizer/${file}`), {
        mint: (o) => issuer.mint(o),
        claimProof: async (jti, htu, expiresAt) => {
          await replay.claim(jti, htu, expiresAt);
        },
      })) as Record<string, unknown>;

      // Act
      const result = await authorizer.lambda.invoke(event);

      // Assert
      expect([outcomeOf(result, event), loggedReason(result)]).toEqual([expected, reason]);
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
