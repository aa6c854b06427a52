// Sender-constrained tokens through the real JwtAuthorizerFunction bundle (handler.mjs importing
// dpop.mjs), with the replay table in dynalite: every hostile request refused with its own reason,
// a proof raced to several warm containers accepted once, a sick replay table failing (5xx and
// DependencyFailures, never Allow), and the cold starts that must fail.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED_DEVELOPMENT_KEY_ID } from '../../shared/jwt/config.ts';
import { createCa, type IssuedCertificate, issueCertificate } from '../../tools/certs/local-ca.ts';
import { type DpopKey, generateDpopKey } from '../../tools/dpop/dpop-key.ts';
import { createDpopProof } from '../../tools/dpop/proof.ts';
import {
  generateSigningKey,
  localIssuerEntry,
  type RunningIssuer,
  signingKeyFromJwk,
  startLocalIssuer,
} from '../../tools/issuer/local-issuer.ts';
import { publishedIssuerEntry } from '../../tools/issuer/published-issuer.ts';
import { SAMPLE_DPOP_PUBLIC_URLS } from '../../tools/local/services.ts';
import { bundleEnvironment } from '../support/bundles.ts';
import { startFaultyDynamo, startTestDynamo, type TestDynamo } from '../support/dynalite.ts';
import { emfProblems } from '../support/emf.ts';
import { loggedReason, outcomeOf } from '../support/outcome.ts';

const DOMAIN = 'abcdef1234.execute-api.us-east-1.amazonaws.com';
const URL = `https://${DOMAIN}/v1/orders`;
/** A REST API on a custom domain with base path `shop` (the event path keeps the base path). */
const CUSTOM_DOMAIN_RULE = {
  domainName: 'api.example.com',
  eventPathPrefix: '/shop',
  publicBaseUrl: 'https://api.example.com/shop',
};

interface EventOptions {
  readonly authorization?: string;
  readonly proofs?: readonly string[];
  readonly method?: string;
  readonly path?: string;
  readonly domainName?: string;
  readonly stage?: string;
  readonly clientCertPem?: string;
}

/** A REST REQUEST event for the DPoP API (OrdersDpopApi), as API Gateway sends it. */
function restEvent(o: EventOptions): Record<string, unknown> {
  const method = o.method ?? 'GET';
  const eventPath = o.path ?? '/orders';
  const headers: Record<string, string[]> = { Host: [o.domainName ?? DOMAIN] };
  if (o.authorization !== undefined) headers.Authorization = [o.authorization];
  if (o.proofs !== undefined && o.proofs.length > 0) headers.DPoP = [...o.proofs];
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1/${method}/orders`,
    resource: '/orders',
    path: eventPath,
    httpMethod: method,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v[v.length - 1]])),
    multiValueHeaders: headers,
    queryStringParameters: null,
    requestContext: {
      resourcePath: '/orders',
      httpMethod: method,
      domainName: o.domainName ?? DOMAIN,
      stage: o.stage ?? 'v1',
      requestId: randomUUID(),
      identity: {
        sourceIp: '203.0.113.10',
        ...(o.clientCertPem === undefined ? {} : { clientCert: { clientCertPem: o.clientCertPem } }),
      },
    },
  };
}

let issuer: RunningIssuer;
let strict: RunningIssuer;
let dynamo: TestDynamo;
let key: DpopKey;
let other: DpopKey;
let alice: IssuedCertificate;
let mallory: IssuedCertificate;
let env: Record<string, string>;

beforeAll(async () => {
  issuer = await startLocalIssuer({ key: generateSigningKey() });
  strict = await startLocalIssuer({ key: generateSigningKey() });
  dynamo = await startTestDynamo();
  key = generateDpopKey('ES256');
  other = generateDpopKey('ES256');
  const ca = await createCa('DPoP test CA');
  alice = await issueCertificate(ca, { commonName: 'alice', kind: 'client' });
  mallory = await issueCertificate(ca, { commonName: 'mallory', kind: 'client' });
  env = {
    JWT_ISSUERS: JSON.stringify([
      { ...localIssuerEntry(issuer.url), dpop: 'allowed' },
      { ...localIssuerEntry(strict.url), dpop: 'required' },
    ]),
    POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
    DPOP_PUBLIC_URLS: JSON.stringify([...SAMPLE_DPOP_PUBLIC_URLS, CUSTOM_DOMAIN_RULE]),
    DPOP_REPLAY_TABLE: 'DpopReplayTable',
    DYNAMODB_ENDPOINT: dynamo.endpoint,
  };
}, 60_000);
afterAll(async () => {
  await issuer?.close();
  await strict?.close();
  await dynamo?.close();
});

const bound = (extra: { jkt?: boolean; cert?: IssuedCertificate } = { jkt: true }) =>
  issuer.mint({
    ...(extra.jkt === true ? { dpopJkt: key.thumbprint } : {}),
    ...(extra.cert === undefined ? {} : { certificateThumbprint: extra.cert.thumbprint }),
  });
const proof = (token: string, change: Partial<Parameters<typeof createDpopProof>[1]> = {}, by = key) =>
  createDpopProof(by, { method: 'GET', url: URL, accessToken: token, ...change });

describe('JwtAuthorizerFunction with DPoP and certificate-bound tokens (real bundle)', () => {
  let authorizer: ReturnType<typeof bundleEnvironment>;
  beforeAll(() => {
    authorizer = bundleEnvironment('JwtAuthorizerFunction', env);
  });
  afterAll(async () => {
    await authorizer.lambda.close();
  });

  const decide = async (event: Record<string, unknown>) => {
    const result = await authorizer.lambda.invoke(event);
    return [outcomeOf(result, event), loggedReason(result)];
  };

  it('allows a DPoP-bound token with a proof for this request, once', async () => {
    const token = bound();
    const event = restEvent({ authorization: `DPoP ${token}`, proofs: [proof(token)] });

    expect(await decide(event)).toEqual(['allow', 'allowed']);
    expect(await decide(event)).toEqual(['unauthorized', 'dpop_replayed']);
  });

  it('allows a proof for the public URL of a custom domain with a base path', async () => {
    const token = bound();
    const event = restEvent({
      authorization: `DPoP ${token}`,
      proofs: [proof(token, { url: 'https://api.example.com/shop/orders' })],
      domainName: 'api.example.com',
      path: '/shop/orders',
    });

    expect(await decide(event)).toEqual(['allow', 'allowed']);
  });

  it.each<[string, (token: string) => EventOptions, string]>([
    [
      'a proof for another URL',
      (t) => ({ proofs: [proof(t, { url: `${URL}/ord_1` })] }),
      'dpop_htu_mismatch',
    ],
    ['a proof for another method', (t) => ({ proofs: [proof(t, { method: 'POST' })] }), 'dpop_htm_mismatch'],
    ['a proof by another key (its own jwk)', (t) => ({ proofs: [proof(t, {}, other)] }), 'dpop_jkt_mismatch'],
    [
      'a proof with the bound jwk but signed by another key',
      (t) => ({ proofs: [proof(t, { header: { jwk: key.publicJwk } }, other)] }),
      'dpop_signature_invalid',
    ],
    ['a proof with the ath of another token', (t) => ({ proofs: [proof(`${t}x`)] }), 'dpop_ath_mismatch'],
    [
      'a proof issued too long ago',
      (t) => ({ proofs: [proof(t, { iat: Math.floor(Date.now() / 1000) - 300 })] }),
      'dpop_iat_stale',
    ],
    [
      'a proof issued in the future',
      (t) => ({ proofs: [proof(t, { iat: Math.floor(Date.now() / 1000) + 300 })] }),
      'dpop_iat_future',
    ],
    ['no proof', () => ({ proofs: [] }), 'dpop_proof_missing'],
    ['two proofs', (t) => ({ proofs: [proof(t), proof(t)] }), 'dpop_proof_multiple'],
    [
      'a proof without a signature',
      (t) => ({ proofs: [`${proof(t).split('.').slice(0, 2).join('.')}.`] }),
      'dpop_proof_malformed',
    ],
    [
      'a request from a domain no rule maps',
      (t) => ({ proofs: [proof(t)], domainName: 'evil.example' }),
      'dpop_htu_unmapped',
    ],
  ])('refuses a DPoP-bound token with %s (%s)', async (_case, change, reason) => {
    const token = bound();

    expect(await decide(restEvent({ authorization: `DPoP ${token}`, ...change(token) }))).toEqual([
      'unauthorized',
      reason,
    ]);
  });

  it.each<[string, () => EventOptions, string]>([
    [
      'a DPoP-bound token sent as a bearer token',
      () => ({ authorization: `Bearer ${bound()}` }),
      'token_dpop_bound_as_bearer',
    ],
    [
      'an unbound token sent with the DPoP scheme',
      () => {
        const t = issuer.mint({});
        return { authorization: `DPoP ${t}`, proofs: [proof(t)] };
      },
      'token_not_dpop_bound',
    ],
    [
      'a bearer token of an issuer requiring DPoP',
      () => ({ authorization: `Bearer ${strict.mint({})}` }),
      'dpop_required',
    ],
    [
      'a certificate-bound token with another certificate',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}`, clientCertPem: mallory.certificatePem }),
      'mtls_thumbprint_mismatch',
    ],
    [
      'a certificate-bound token without a certificate',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}` }),
      'mtls_certificate_missing',
    ],
    [
      'a certificate-bound token with an unreadable certificate (AWS sample CERT_CONTENT)',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}`, clientCertPem: 'CERT_CONTENT' }),
      'mtls_certificate_malformed',
    ],
    [
      'a token whose cnf names a binding Gatehouse cannot check',
      () => ({ authorization: `Bearer ${issuer.mint({ claims: { cnf: { jwk: key.publicJwk } } })}` }),
      'token_cnf_unsupported',
    ],
  ])('refuses %s (%s)', async (_case, make, reason) => {
    expect(await decide(restEvent(make()))).toEqual(['unauthorized', reason]);
  });

  it('allows a certificate-bound token with its certificate, and a plain bearer token of a DPoP-allowed issuer', async () => {
    expect(
      await decide(
        restEvent({ authorization: `Bearer ${bound({ cert: alice })}`, clientCertPem: alice.certificatePem }),
      ),
    ).toEqual(['allow', 'allowed']);
    expect(await decide(restEvent({ authorization: `Bearer ${issuer.mint({})}` }))).toEqual([
      'allow',
      'allowed',
    ]);
  });

  it('allows a token bound to both a key and a certificate only with both', async () => {
    const token = bound({ jkt: true, cert: alice });
    const withBoth = restEvent({
      authorization: `DPoP ${token}`,
      proofs: [proof(token)],
      clientCertPem: alice.certificatePem,
    });
    const withoutCert = restEvent({ authorization: `DPoP ${token}`, proofs: [proof(token)] });

    expect(await decide(withBoth)).toEqual(['allow', 'allowed']);
    expect(await decide(withoutCert)).toEqual(['unauthorized', 'mtls_certificate_missing']);
  });
});

describe('JwtAuthorizerFunction with DPoP off for every issuer (real bundle)', () => {
  // No DPoP settings at all: dpop.mjs is read on the first token with a `cnf` claim or the DPoP
  // scheme, for the binding checks alone; a certificate binding is checked as with DPoP on.
  let authorizer: ReturnType<typeof bundleEnvironment>;
  beforeAll(() => {
    authorizer = bundleEnvironment('JwtAuthorizerFunction', {
      JWT_ISSUERS: JSON.stringify([localIssuerEntry(issuer.url)]),
      POWERTOOLS_SERVICE_NAME: 'jwt-authorizer',
    });
  });
  afterAll(async () => {
    await authorizer.lambda.close();
  });

  const decide = async (event: Record<string, unknown>) => {
    const result = await authorizer.lambda.invoke(event);
    return [outcomeOf(result, event), loggedReason(result)];
  };

  it.each<[string, () => EventOptions, [string, string]]>([
    ['a plain bearer token', () => ({ authorization: `Bearer ${issuer.mint({})}` }), ['allow', 'allowed']],
    [
      'a certificate-bound token with its certificate',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}`, clientCertPem: alice.certificatePem }),
      ['allow', 'allowed'],
    ],
    [
      'a certificate-bound token with another certificate',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}`, clientCertPem: mallory.certificatePem }),
      ['unauthorized', 'mtls_thumbprint_mismatch'],
    ],
    [
      'a certificate-bound token without a certificate',
      () => ({ authorization: `Bearer ${bound({ cert: alice })}` }),
      ['unauthorized', 'mtls_certificate_missing'],
    ],
    [
      'a DPoP-bound token as a bearer token',
      () => ({ authorization: `Bearer ${bound()}` }),
      ['unauthorized', 'token_dpop_bound_as_bearer'],
    ],
    [
      'the DPoP scheme with a proof',
      () => {
        const token = bound();
        return { authorization: `DPoP ${token}`, proofs: [proof(token)] };
      },
      ['unauthorized', 'dpop_not_enabled'],
    ],
  ])('decides %s', async (_case, make, expected) => {
    expect(await decide(restEvent(make()))).toEqual(expected);
  });
});

describe('a DPoP proof replayed to several warm JwtAuthorizerFunction containers at once', () => {
  const CONTAINERS = 4;

  it('is accepted by exactly one; every other container refuses it as dpop_replayed', async () => {
    // Arrange: four real bundle processes (four Lambda containers) on the same replay table, warm.
    const containers = Array.from({ length: CONTAINERS }, () =>
      bundleEnvironment('JwtAuthorizerFunction', env),
    );
    try {
      for (const c of containers) expect(await c.lambda.warm()).toBeUndefined();
      const token = bound();
      const event = restEvent({ authorization: `DPoP ${token}`, proofs: [proof(token)] });

      // Act: the same captured proof to all of them at once.
      const results = await Promise.all(containers.map((c) => c.lambda.invoke(event)));

      // Assert
      const outcomes = results.map((r) => [outcomeOf(r, event), loggedReason(r)]);
      expect(outcomes.filter(([o]) => o === 'allow')).toHaveLength(1);
      expect(outcomes.filter(([, r]) => r === 'dpop_replayed')).toHaveLength(CONTAINERS - 1);
    } finally {
      await Promise.all(containers.map((c) => c.lambda.close()));
    }
  }, 120_000);
});

describe('JwtAuthorizerFunction when the replay table is throttled', () => {
  it('fails (500 → 503 via the gateway response), counts a DependencyFailure, and never allows', async () => {
    const faulty = await startFaultyDynamo('throttle');
    const fn = bundleEnvironment('JwtAuthorizerFunction', {
      ...env,
      DYNAMODB_ENDPOINT: faulty.endpoint,
      DPOP_REPLAY_BUDGET_MS: '1000',
    });
    try {
      const token = bound();
      const result = await fn.lambda.invoke(
        restEvent({ authorization: `DPoP ${token}`, proofs: [proof(token)] }),
      );

      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : result.error).toMatchObject({ errorType: 'AuthorizerFailureError' });
      const lines = fn
        .logs()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const metric = lines.find((l) => l.DependencyFailures === 1);
      expect(metric).toBeDefined();
      expect(emfProblems(metric as Record<string, unknown>)).toEqual([]);
      expect(fn.logs()).toContain('"reason":"dependency_failure"');
      expect(fn.logs()).toContain('replay_store_throttled');
    } finally {
      await fn.lambda.close();
      await faulty.close();
    }
  }, 60_000);
});

describe('JwtAuthorizerFunction cold starts', () => {
  const coldStart = async (variables: Record<string, string>) => {
    const fn = bundleEnvironment('JwtAuthorizerFunction', variables);
    const error = await fn.lambda.warm();
    await fn.lambda.close();
    return error;
  };

  it('fails when an issuer enables DPoP without its settings, naming each variable', async () => {
    const error = await coldStart({
      JWT_ISSUERS: JSON.stringify([{ ...localIssuerEntry(issuer.url), dpop: 'required' }]),
      DPOP_ALGORITHMS: 'HS256',
    });

    expect(error?.errorMessage).toMatch(
      /^ConfigError: .*DPOP_PUBLIC_URLS is required.*DPOP_ALGORITHMS must list/,
    );
    expect(error?.errorMessage).toContain('DPOP_REPLAY_TABLE is required');
  });

  it('fails on an unknown dpop setting, naming the variable and the field', async () => {
    const error = await coldStart({
      JWT_ISSUERS: JSON.stringify([{ ...localIssuerEntry(issuer.url), dpop: 'maybe' }]),
    });

    expect(error?.errorMessage).toContain('JWT_ISSUERS [0].dpop must be "required", "allowed" or "off"');
  });

  it('fails with the published development key outside local runs, and starts with it locally', async () => {
    const published = { JWT_ISSUERS: JSON.stringify([publishedIssuerEntry()]) };

    const deployed = await coldStart({ ...published, AWS_SAM_LOCAL: '' });
    const local = await coldStart(published);

    expect(deployed?.errorMessage).toContain(
      `JWT_ISSUERS [0].jwks holds the published development key (kid ${PUBLISHED_DEVELOPMENT_KEY_ID})`,
    );
    expect(local).toBeUndefined();
  });

  it('fails when a downloaded JWKS holds the published development key outside local runs', async () => {
    const privateJwk = generateSigningKey().privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const server = await startLocalIssuer({
      key: signingKeyFromJwk(privateJwk, PUBLISHED_DEVELOPMENT_KEY_ID),
    });
    try {
      const variables = { JWT_ISSUERS: JSON.stringify([localIssuerEntry(server.url)]) };
      const deployed = await coldStart({ ...variables, AWS_SAM_LOCAL: '' });
      const local = await coldStart(variables);

      expect(deployed?.errorMessage).toContain(
        `RefusedJwksError: the JWKS holds the key ${PUBLISHED_DEVELOPMENT_KEY_ID}, which is trusted only in local runs`,
      );
      expect(local).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('does not read the DPoP bundle when no issuer enables DPoP (its absence is harmless)', async () => {
    // The bearer-only function never imports dpop.mjs: the same bundle starts with DPoP settings
    // that would fail it, because nothing reads them.
    const error = await coldStart({
      JWT_ISSUERS: JSON.stringify([localIssuerEntry(issuer.url)]),
      DPOP_PUBLIC_URLS: 'not json',
      DPOP_ALGORITHMS: 'HS256',
    });

    expect(error).toBeUndefined();
  });
});
