import { describe, expect, it } from 'vitest';
import type { PolicyResponse, SimpleResponse } from '../../../shared/authz/answer.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import type { IssuerConfig } from '../../../shared/jwt/config.ts';
import { AuthorizerFailureError, createJwtAuthorizer } from '../../../shared/jwt/jwt-authorizer.ts';
import type { TokenVerifier, Verification } from '../../../shared/jwt/verifier.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { withoutDpop } from '../../../shared/sender-constraint/checker.ts';
import { readEvent, retarget, SAMPLE_EVENTS } from '../../support/events.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
const ISSUER: IssuerConfig = {
  issuer: 'https://idp',
  audience: null,
  jwksUri: 'https://idp/jwks',
  algorithms: ['RS256'],
  dpop: 'off',
};
const STAGE = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/** A verifier that answers what the test says, and records what it was asked. */
function fakeVerifier(answer: Verification | Error): TokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    prefetch: async () => [],
    verify: async (token) => {
      calls.push(token);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const valid = (scope: string): Verification => ({
  ok: true,
  claims: { sub: 'user-1', scope, client_id: 'app-1', iss: 'https://idp' },
  issuer: ISSUER,
  cached: false,
});

function setup(answer: Verification | Error, simpleResponses = true) {
  const verifier = fakeVerifier(answer);
  const observer = memoryObserver();
  const authorize = createJwtAuthorizer({
    verifier,
    routes: ROUTES,
    simpleResponses,
    clock: () => 1_000,
    observer,
    senderConstraint: withoutDpop(),
  });
  return { authorize, verifier, observer };
}

const restEvent = (
  method: string,
  path: string,
  template: string,
  authorization: string | null = `Bearer ${TOKEN}`,
) =>
  retarget(readEvent(SAMPLE_EVENTS['rest-request']), {
    method,
    path,
    template,
    authorization: authorization ?? undefined,
  });

describe('createJwtAuthorizer', () => {
  it('allows a caller whose scopes permit the route, with a policy for every route they may use', async () => {
    const { authorize, observer } = setup(valid('orders:read'));
    const response = (await authorize(restEvent('GET', '/orders/ord_1', '/orders/{id}'))) as PolicyResponse;
    expect(response.principalId).toBe('user-1');
    // Exact on every path (docs/policies.md): parameters are non-empty, deeper paths are denied.
    expect(response.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: [`${STAGE}/GET/health`, `${STAGE}/GET/orders`, `${STAGE}/GET/orders/?*`],
      },
      { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${STAGE}/GET/orders/*/*`] },
    ]);
    expect(response.context).toEqual({
      principal: 'user-1',
      scopes: 'orders:read',
      clientId: 'app-1',
      issuer: 'https://idp',
    });
    expect(observer.decisions).toEqual([
      {
        requestId: '141d6671-99b4-40ca-9997-7a22f01eac74',
        route: 'GET /orders/{id}',
        effect: 'allow',
        reason: 'allowed',
        principal: 'user-1',
        latencyMs: 0,
        cacheHit: false,
      },
    ]);
  });

  it('denies (403) a valid caller without the route scope, with a policy that still allows what they may use', async () => {
    const { authorize, observer } = setup(valid('orders:read'));
    const response = (await authorize(
      restEvent('DELETE', '/orders/ord_1', '/orders/{id}'),
    )) as PolicyResponse;
    expect(response.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect(response.policyDocument.Statement[0]?.Resource).not.toContain(`${STAGE}/DELETE/orders/*`);
    expect(observer.decisions[0]).toMatchObject({ effect: 'deny', reason: 'scope_missing' });
  });

  it('denies everything but the public routes to a valid caller with no useful scope', async () => {
    const { authorize } = setup(valid('profile'));
    const response = (await authorize(restEvent('GET', '/orders', '/orders'))) as PolicyResponse;
    expect(response.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: [`${STAGE}/GET/health`] },
    ]);
  });

  it('answers HTTP API 2.0 with a simple response for the route', async () => {
    const { authorize } = setup(valid('orders:write'));
    const event = retarget(readEvent(SAMPLE_EVENTS['http-v2']), {
      method: 'POST',
      path: '/orders',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(await authorize(event)).toEqual({
      isAuthorized: true,
      context: { principal: 'user-1', scopes: 'orders:write', clientId: 'app-1', issuer: 'https://idp' },
    });
    const other = retarget(readEvent(SAMPLE_EVENTS['http-v2']), {
      method: 'GET',
      path: '/orders',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(((await authorize(other)) as SimpleResponse).isAuthorized).toBe(false);
  });

  it('answers HTTP API 2.0 with a policy when simple responses are off', async () => {
    const { authorize } = setup(valid('orders:write'), false);
    const event = retarget(readEvent(SAMPLE_EVENTS['http-v2']), {
      method: 'POST',
      path: '/orders',
      authorization: `Bearer ${TOKEN}`,
    });
    expect((await authorize(event)) as PolicyResponse).toHaveProperty('policyDocument');
  });

  it('lets a verified caller open a WebSocket connection', async () => {
    const { authorize } = setup(valid('anything'));
    const event = retarget(readEvent(SAMPLE_EVENTS.websocket), { authorization: `Bearer ${TOKEN}` });
    const response = (await authorize(event)) as PolicyResponse;
    expect(response.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: ['arn:aws:execute-api:us-east-1:533568316194:c5jwxq709g/production/$connect'],
      },
    ]);
  });

  it.each([
    ['no Authorization header', restEvent('GET', '/orders', '/orders', null), 'credential_missing'],
    ['a Basic credential', restEvent('GET', '/orders', '/orders', 'Basic dTpw'), 'credential_scheme'],
    ['a malformed event', { type: 'TOKEN' }, 'event_malformed'],
  ])('throws exactly Unauthorized for %s without calling the verifier', async (_name, event, reason) => {
    const { authorize, verifier, observer } = setup(valid('orders:read'));
    await expect(authorize(event)).rejects.toThrow(/^Unauthorized$/);
    expect(verifier.calls).toEqual([]);
    expect(observer.decisions[0]).toMatchObject({ effect: 'unauthorized', reason });
  });

  it('throws exactly Unauthorized for a token the verifier refuses, with its reason logged', async () => {
    const { authorize, observer } = setup({ ok: false, reason: 'token_expired' });
    await expect(authorize(restEvent('GET', '/orders', '/orders'))).rejects.toThrow(/^Unauthorized$/);
    expect(observer.decisions[0]).toMatchObject({ effect: 'unauthorized', reason: 'token_expired' });
  });

  it('fails (500, nothing cached) when verification cannot be done, and never allows', async () => {
    const { authorize, observer } = setup(new Error('JWKS down'));
    const failure = authorize(restEvent('GET', '/orders', '/orders'));
    await expect(failure).rejects.toThrow(AuthorizerFailureError);
    await expect(failure).rejects.not.toThrow(/^Unauthorized$/);
    expect(observer.decisions[0]).toMatchObject({ effect: 'error', reason: 'dependency_failure' });
  });

  it('never puts the token in the answer or the logs', async () => {
    const { authorize, observer } = setup(valid('orders:read'));
    const response = await authorize(restEvent('GET', '/orders', '/orders'));
    const failing = setup({ ok: false, reason: 'signature_invalid' });
    await expect(failing.authorize(restEvent('GET', '/orders', '/orders'))).rejects.toThrow();
    const everything = JSON.stringify([
      response,
      observer.decisions,
      observer.warnings,
      failing.observer.decisions,
    ]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('Bearer');
  });
});
