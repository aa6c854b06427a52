/**
 * What a DPoP or certificate-bound decision costs over a bearer one, warm, in one process:
 *
 *   npx tsx bench/dpop.ts
 *
 * The JWT authorizer's whole decision (REST REQUEST event in, IAM policy out) with the token
 * already verified (the verified-token cache: only the sender constraint differs between the
 * cases), our code bundled as the function is. DPoP: a fresh ES256 proof every iteration (a proof
 * is single-use), claimed in the in-memory replay store; in AWS the claim is a conditional PutItem
 * on DynamoDB instead, whose round trip comes on top. Figures: docs/performance.md#dpop.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Observer } from '../shared/observability/observer.ts';
import { createCa, issueCertificate } from '../tools/certs/local-ca.ts';
import { generateDpopKey } from '../tools/dpop/dpop-key.ts';
import { createDpopProof } from '../tools/dpop/proof.ts';
import { signJwt } from '../tools/issuer/sign.ts';
import { loadBundle } from './bundles.ts';
import { restAuthorizerEvent } from './events.ts';
import { type Measurement, measure } from './harness.ts';

type DpopOurs = typeof import('./dpop-ours.ts');

const ISSUER = 'https://bench-issuer.example';
const DOMAIN = 'abcdef1234.execute-api.us-east-1.amazonaws.com';
const URL = `https://${DOMAIN}/v1/orders/ord_12345678`;
/** More proofs than the measurement uses: each is used once. */
const PROOFS = 12_000;
const OPTIONS = { warmupMs: 300, samples: 30, sampleMs: 40 } as const;
const noopObserver: Observer = { decision() {}, warn() {} };

/** The benchmark's REST authorizer event (bench/events.ts), with the domain and a client certificate. */
function event(headers: Record<string, string>, clientCertPem?: string): Record<string, unknown> {
  const base = restAuthorizerEvent(headers);
  const context = base.requestContext as Record<string, unknown>;
  return {
    ...base,
    requestContext: {
      ...context,
      domainName: DOMAIN,
      identity: {
        ...(context.identity as Record<string, unknown>),
        ...(clientCertPem === undefined ? {} : { clientCert: { clientCertPem } }),
      },
    },
  };
}

function allowed(answer: unknown): boolean {
  return (
    (answer as { policyDocument?: { Statement?: { Effect?: string }[] } }).policyDocument?.Statement?.[0]
      ?.Effect === 'Allow'
  );
}

async function main(): Promise<void> {
  const ours = await loadBundle<DpopOurs>('bench/dpop-ours.ts', join('bench', 'dpop-ours'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...createPublicKey(privateKey).export({ format: 'jwk' }),
    kid: 'bench',
    alg: 'RS256',
    use: 'sig',
  };
  const config = ours.readJwtAuthorizerConfig({
    JWT_ISSUERS: JSON.stringify([
      { issuer: ISSUER, audience: 'bench', jwks: { keys: [jwk] }, dpop: 'allowed' },
    ]),
  });
  const verifier = ours.createTokenVerifier(config);
  await verifier.prefetch();
  const now = Math.floor(Date.now() / 1000);
  const key = generateDpopKey('ES256');
  const ca = await createCa('Bench CA');
  const cert = await issueCertificate(ca, { commonName: 'bench', kind: 'client' });
  const mint = (cnf?: Record<string, string>) =>
    signJwt(
      { alg: 'RS256', kid: 'bench', typ: 'JWT' },
      {
        iss: ISSUER,
        aud: 'bench',
        sub: 'u',
        scope: 'orders:read',
        iat: now,
        exp: now + 3600,
        ...(cnf ? { cnf } : {}),
      },
      privateKey,
    );
  const bearer = mint();
  const dpopToken = mint({ jkt: key.thumbprint });
  const certToken = mint({ 'x5t#S256': cert.thumbprint });

  const dpopVerifier = ours.createDpopVerifier({
    ...ours.DPOP_DEFAULTS,
    nonces: null,
    replay: ours.memoryReplayStore({ capacity: 100_000, now: Date.now }),
  });
  const rules = [
    { domainName: DOMAIN, stage: 'v1', eventPathPrefix: '', publicBaseUrl: `https://${DOMAIN}/v1` },
  ];
  const withDpop = ours.createSenderConstraintChecker({
    dpop: new Map([[ISSUER, { dpop: 'allowed' as const, verifier: dpopVerifier }]]),
    publicUrl: (r) => ours.publicRequestUrl(rules, r),
  });
  const authorizer = (senderConstraint: typeof withDpop) =>
    ours.createJwtAuthorizer({
      verifier,
      routes: ours.ROUTES,
      simpleResponses: false,
      clock: Date.now,
      observer: noopObserver,
      senderConstraint,
    });
  const bearerOnly = authorizer(ours.withoutDpop());
  const dpop = authorizer(withDpop);

  process.stderr.write(`bench/dpop: signing ${PROOFS} proofs\n`);
  const proofEvents = Array.from({ length: PROOFS }, () =>
    event({
      Authorization: `DPoP ${dpopToken}`,
      DPoP: createDpopProof(key, { method: 'GET', url: URL, accessToken: dpopToken }),
    }),
  );
  const bearerEvent = event({ Authorization: `Bearer ${bearer}` });
  const certEvent = event({ Authorization: `Bearer ${certToken}` }, cert.certificatePem);
  const oneProof = createDpopProof(key, { method: 'GET', url: URL, accessToken: dpopToken });
  let refused = 0;
  const count = (answer: unknown) => {
    if (!allowed(answer)) refused++;
  };
  // Warm the verified-token cache for every token: only the sender constraint differs below.
  for (const e of [bearerEvent, certEvent, proofEvents[PROOFS - 1] as Record<string, unknown>])
    count(await (e === certEvent ? bearerOnly(e) : e === bearerEvent ? bearerOnly(e) : dpop(e)));
  refused = 0;
  let next = 0;
  const rows: Measurement[] = [
    await measure(
      'bearer decision, repeated token (DPoP off: no sender constraint)',
      async () => count(await bearerOnly(bearerEvent)),
      OPTIONS,
    ),
    await measure(
      'certificate-bound decision, repeated token (SHA-256 of the certificate)',
      async () => count(await bearerOnly(certEvent)),
      OPTIONS,
    ),
    await measure(
      'DPoP decision, repeated token, fresh proof (in-memory replay store)',
      async () => {
        const e = proofEvents[next++];
        if (e === undefined) throw new Error('bench/dpop: out of proofs; raise PROOFS');
        count(await dpop(e));
      },
      OPTIONS,
    ),
    await measure(
      '  part: proof verification alone (no replay claim)',
      () =>
        dpopVerifier.verify(
          {
            proofs: [oneProof],
            method: 'GET',
            publicUrl: URL,
            accessToken: dpopToken,
            boundThumbprint: key.thumbprint,
          },
          Date.now(),
        ),
      OPTIONS,
    ),
  ];
  if (refused > 0) throw new Error(`bench/dpop: ${refused} decisions were not Allow`);
  const base = rows[0] as Measurement;
  process.stdout.write('| case | median | p99 | × bearer |\n| --- | ---: | ---: | ---: |\n');
  for (const r of rows)
    process.stdout.write(
      `| ${r.name} | ${(r.medianNs / 1000).toFixed(1)} µs | ${(r.p99Ns / 1000).toFixed(1)} µs | ${(r.medianNs / base.medianNs).toFixed(2)}× |\n`,
    );
  process.stdout.write(`\n${next} proofs used, every decision an Allow.\n`);
}

await main();
