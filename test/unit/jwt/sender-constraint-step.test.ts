// The JWT authorizer's sender-constraint step with a fake checker: when it runs, what it is told,
// and how each of its outcomes is answered (401, 500, Allow with the binding in the context).
import { describe, expect, it } from 'vitest';
import type { PolicyResponse } from '../../../shared/authz/answer.ts';
import { ROUTES } from '../../../shared/generated/routes.ts';
import type { IssuerConfig } from '../../../shared/jwt/config.ts';
import { AuthorizerFailureError, createJwtAuthorizer } from '../../../shared/jwt/jwt-authorizer.ts';
import type { Verification } from '../../../shared/jwt/verifier.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import {
  type SenderConstraintChecker,
  type SenderRequest,
  withoutDpop,
} from '../../../shared/sender-constraint/checker.ts';
import type {
  PresentedToken,
  SenderConstraintResult,
} from '../../../shared/sender-constraint/token-binding.ts';
import { readEvent, retarget, SAMPLE_EVENTS } from '../../support/events.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
const JKT = 'uPKGyR70nlneZnw0wkkXqs9-5bJVQYgR6_arGVI4Nuc';
const ISSUER: IssuerConfig = {
  issuer: 'https://idp',
  audience: null,
  jwksUri: 'https://idp/jwks',
  algorithms: ['RS256'],
  dpop: 'allowed',
};

const verified = (claims: Record<string, unknown> = {}, issuer: IssuerConfig = ISSUER): Verification => ({
  ok: true,
  claims: { sub: 'user-1', scope: 'orders:read', client_id: 'app-1', ...claims },
  issuer,
  cached: false,
});

/** A checker that answers what the test says and records what it was asked. */
function fakeChecker(answer: SenderConstraintResult | Error, needed = true) {
  const calls: { token: PresentedToken; request: SenderRequest; issuer: string }[] = [];
  const checker: SenderConstraintChecker = {
    needed: () => needed,
    async check(token, request, issuer) {
      calls.push({ token, request, issuer });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { checker, calls };
}

function setup(verification: Verification, checker: SenderConstraintChecker) {
  const observer = memoryObserver();
  const verified: string[] = [];
  const authorize = createJwtAuthorizer({
    verifier: {
      prefetch: async () => [],
      verify: async (token) => {
        verified.push(token);
        return verification;
      },
    },
    routes: ROUTES,
    simpleResponses: true,
    clock: () => 1_000,
    observer,
    senderConstraint: checker,
  });
  return { authorize, observer, verified };
}

/** A REST REQUEST event as the DPoP API's authorizer gets it, with a proof and a client certificate. */
function dpopEvent(authorization: string, proofs: string[] = ['proof.a.b']) {
  const event = retarget(readEvent(SAMPLE_EVENTS['rest-request']), { authorization }) as Record<
    string,
    unknown
  > & { requestContext: Record<string, unknown> };
  event.headers = { ...(event.headers as object), DPoP: proofs[proofs.length - 1] };
  event.multiValueHeaders = { ...(event.multiValueHeaders as object), DPoP: proofs };
  event.requestContext = {
    ...event.requestContext,
    domainName: 'api.example.com',
    stage: 'v1',
    identity: {
      ...(event.requestContext.identity as object),
      clientCert: { clientCertPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
    },
  };
  return event;
}

describe('the JWT authorizer sender-constraint step', () => {
  it('hands the checker the token as presented, its cnf, and what the request carries', async () => {
    const fake = fakeChecker({ ok: true, binding: { dpopJkt: JKT, certificateThumbprint: undefined } });
    const { authorize } = setup(verified({ cnf: { jkt: JKT } }), fake.checker);

    const event = dpopEvent(`dpop ${TOKEN}`, ['proof.a.b']);
    await authorize(event);

    expect(fake.calls).toEqual([
      {
        token: { scheme: 'DPoP', token: TOKEN, cnf: { jkt: JKT } },
        request: {
          method: 'GET',
          domainName: 'api.example.com',
          stage: 'v1',
          path: '/orders',
          dpopProofs: ['proof.a.b'],
          // The checks read the client certificate from it (test/unit/sender-constraint/checker.test.ts).
          event,
        },
        issuer: 'https://idp',
      },
    ]);
  });

  it('passes every DPoP header value on (two proofs are the checker’s to refuse)', async () => {
    const fake = fakeChecker({ ok: false, reason: 'dpop_proof_multiple' });
    const { authorize } = setup(verified({ cnf: { jkt: JKT } }), fake.checker);

    await expect(authorize(dpopEvent(`DPoP ${TOKEN}`, ['p.1.x', 'p.2.y']))).rejects.toThrow(/^Unauthorized$/);
    expect(fake.calls[0]?.request.dpopProofs).toEqual(['p.1.x', 'p.2.y']);
  });

  it.each([
    'dpop_replayed',
    'dpop_htu_mismatch',
    'token_dpop_bound_as_bearer',
    'mtls_thumbprint_mismatch',
    'dpop_required',
  ] as const)('throws exactly Unauthorized for %s, with that reason logged', async (reason) => {
    const { authorize, observer } = setup(
      verified({ cnf: { jkt: JKT } }),
      fakeChecker({ ok: false, reason }).checker,
    );

    await expect(authorize(dpopEvent(`DPoP ${TOKEN}`))).rejects.toThrow(/^Unauthorized$/);
    expect(observer.decisions).toEqual([
      expect.objectContaining({ effect: 'unauthorized', reason, principal: 'user-1' }),
    ]);
  });

  it('fails (500, DependencyFailures) when the replay store cannot answer, and never allows', async () => {
    const unavailable = Object.assign(new Error('DynamoDB PutItem failed (ThrottlingException)'), {
      name: 'ReplayStoreUnavailableError',
      reason: 'replay_store_throttled',
    });
    const { authorize, observer } = setup(verified({ cnf: { jkt: JKT } }), fakeChecker(unavailable).checker);

    const failure = authorize(dpopEvent(`DPoP ${TOKEN}`));

    await expect(failure).rejects.toThrow(AuthorizerFailureError);
    expect(observer.decisions).toEqual([
      expect.objectContaining({ effect: 'error', reason: 'dependency_failure' }),
    ]);
    expect(observer.warnings.join('\n')).toContain('replay_store_throttled');
  });

  it.each([
    [
      { dpopJkt: JKT, certificateThumbprint: undefined },
      { binding: 'dpop', dpopJkt: JKT },
    ],
    [
      { dpopJkt: undefined, certificateThumbprint: 'x5t' },
      { binding: 'mtls', certificateThumbprint: 'x5t' },
    ],
    [
      { dpopJkt: JKT, certificateThumbprint: 'x5t' },
      { binding: 'dpop+mtls', dpopJkt: JKT, certificateThumbprint: 'x5t' },
    ],
  ])('allows with what was proved in the context: %j', async (binding, context) => {
    const { authorize } = setup(verified({ cnf: {} }), fakeChecker({ ok: true, binding }).checker);

    const response = (await authorize(dpopEvent(`DPoP ${TOKEN}`))) as PolicyResponse;

    expect(response.context).toEqual({
      principal: 'user-1',
      scopes: 'orders:read',
      clientId: 'app-1',
      issuer: 'https://idp',
      ...context,
    });
  });

  it('skips the step for a plain bearer token the checker does not need to see', async () => {
    const fake = fakeChecker(new Error('must not be called'), false);
    const { authorize } = setup(verified(), fake.checker);

    const response = (await authorize(dpopEvent(`Bearer ${TOKEN}`))) as PolicyResponse;

    expect(fake.calls).toEqual([]);
    expect(response.context).not.toHaveProperty('binding');
  });

  it('refuses the DPoP scheme on a TOKEN authorizer (it never sees a proof) before verifying', async () => {
    const fake = fakeChecker({ ok: true, binding: { dpopJkt: JKT, certificateThumbprint: undefined } });
    const { authorize, observer, verified: seen } = setup(verified(), fake.checker);
    const event = retarget(readEvent(SAMPLE_EVENTS['rest-token']), { authorization: `DPoP ${TOKEN}` });

    await expect(authorize(event)).rejects.toThrow(/^Unauthorized$/);
    expect(observer.decisions[0]).toMatchObject({ effect: 'unauthorized', reason: 'dpop_token_authorizer' });
    expect([seen, fake.calls]).toEqual([[], []]);
  });

  it('refuses the DPoP scheme with the real checker when no issuer enables DPoP', async () => {
    const { authorize, observer } = setup(
      verified({ cnf: { jkt: JKT } }, { ...ISSUER, dpop: 'off' }),
      withoutDpop(),
    );

    await expect(authorize(dpopEvent(`DPoP ${TOKEN}`))).rejects.toThrow(/^Unauthorized$/);
    expect(observer.decisions[0]).toMatchObject({ reason: 'dpop_not_enabled' });
  });

  it('refuses a DPoP-bound token sent as a bearer token with the real checker, DPoP off everywhere', async () => {
    const { authorize, observer } = setup(
      verified({ cnf: { jkt: JKT } }, { ...ISSUER, dpop: 'off' }),
      withoutDpop(),
    );

    await expect(authorize(dpopEvent(`Bearer ${TOKEN}`))).rejects.toThrow(/^Unauthorized$/);
    expect(observer.decisions[0]).toMatchObject({ reason: 'token_dpop_bound_as_bearer' });
  });
});
