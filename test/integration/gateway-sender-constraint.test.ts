// DPoP and mutual TLS through the local gateway, end to end over real sockets: the real template
// (OrdersDpopApi behind the JWT authorizer as an uncached REQUEST authorizer), the real bundles, the
// replay table in the embedded DynamoDB, and `--mtls` HTTPS with client certificates handed on as
// API Gateway hands them (REST and HTTP APIs, both payload versions).
import { mkdtempSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type IssuedCertificate, issueCertificate, readCa } from '../../tools/certs/local-ca.ts';
import { type DpopKey, generateDpopKey } from '../../tools/dpop/dpop-key.ts';
import { createDpopProof } from '../../tools/dpop/proof.ts';
import { type RunningGateway, startGateway } from '../../tools/gateway/gateway.ts';

const JWT = 'JwtAuthorizerFunction';
/** The template's OrdersDpopApi UNAUTHORIZED challenge (static: API Gateway cannot vary it). */
const CHALLENGE = 'Bearer, DPoP algs="ES256 ES384 ES512 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA"';

describe('local gateway: OrdersDpopApi (DPoP, REQUEST authorizer, never cached)', () => {
  let gateway: RunningGateway;
  const access: string[] = [];
  let base: string;
  let key: DpopKey;
  let token: string;
  const call = (url: string, headers: Record<string, string>) => fetch(url, { headers });
  const proof = (url: string, method = 'GET', accessToken = token) =>
    createDpopProof(key, { method, url, accessToken });

  beforeAll(async () => {
    gateway = await startGateway({
      port: 0,
      issuerPort: 0,
      inMemory: true,
      accessLog: (line) => access.push(line),
      functionLog: () => undefined,
      info: () => undefined,
    });
    base = gateway.urls.OrdersDpopApi as string;
    key = generateDpopKey('ES256');
    token = gateway.services.issuer?.mint({ scope: 'orders:read', dpopJkt: key.thumbprint }) as string;
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
  });

  it('invokes the authorizer for each request: the same token with two proofs is two invocations, both served', async () => {
    // Arrange
    const before = gateway.invocations(JWT);

    // Act
    const first = await call(`${base}/orders`, {
      Authorization: `DPoP ${token}`,
      DPoP: proof(`${base}/orders`),
    });
    const second = await call(`${base}/orders`, {
      Authorization: `DPoP ${token}`,
      DPoP: proof(`${base}/orders`),
    });

    // Assert
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(gateway.invocations(JWT) - before).toBe(2);
  });

  it('refuses a replayed proof with 401 and the static challenge of the template, after asking the authorizer', async () => {
    // Arrange
    const headers = { Authorization: `DPoP ${token}`, DPoP: proof(`${base}/orders`) };
    expect((await call(`${base}/orders`, headers)).status).toBe(200);
    const before = gateway.invocations(JWT);

    // Act
    const replay = await call(`${base}/orders`, headers);

    // Assert
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(replay.headers.get('content-type')).toBe('application/problem+json');
    // What API Gateway cannot send is not sent locally either.
    expect(replay.headers.get('dpop-nonce')).toBeNull();
    expect(gateway.invocations(JWT) - before).toBe(1);
    expect(access.at(-1)).toContain('dpop_replayed');
  });

  it.each([
    ['a proof for another path', () => proof(`${base}/orders/ord_1`), 'dpop_htu_mismatch'],
    ['a proof for another method', () => proof(`${base}/orders`, 'POST'), 'dpop_htm_mismatch'],
    [
      'a proof with the ath of another token',
      () => proof(`${base}/orders`, 'GET', `${token}x`),
      'dpop_ath_mismatch',
    ],
  ])('refuses %s with 401 (%s)', async (_case, make, reason) => {
    const res = await call(`${base}/orders`, { Authorization: `DPoP ${token}`, DPoP: make() });

    expect(res.status).toBe(401);
    expect(access.at(-1)).toContain(reason);
  });

  it('refuses the DPoP-bound token as a bearer token', async () => {
    const res = await call(`${base}/orders`, { Authorization: `Bearer ${token}` });

    expect(res.status).toBe(401);
    expect(access.at(-1)).toContain('token_dpop_bound_as_bearer');
  });

  it('serves plain bearer tokens of an issuer that allows DPoP', async () => {
    const bearer = gateway.services.issuer?.mint({ scope: 'orders:read' }) as string;

    expect((await call(`${base}/orders`, { Authorization: `Bearer ${bearer}` })).status).toBe(200);
  });

  it('never accepts a proof on the cached HTTP API: no public URL rule covers it (a cached answer would let replays through)', async () => {
    // Arrange
    const http = gateway.urls.OrdersHttpApi as string;

    // Act
    const res = await call(`${http}/orders`, {
      Authorization: `DPoP ${token}`,
      DPoP: proof(`${http}/orders`),
    });

    // Assert
    expect(res.status).toBe(401);
    expect(access.at(-1)).toContain('dpop_htu_unmapped');
  });

  it('refuses the DPoP scheme on OrdersApi (TOKEN authorizer) before invoking it', async () => {
    // Arrange
    const before = gateway.invocations(JWT);

    // Act
    const res = await call(`${gateway.urls.OrdersApi}/orders`, {
      Authorization: `DPoP ${token}`,
      DPoP: proof(`${gateway.urls.OrdersApi}/orders`),
    });

    // Assert: its validation expression admits Bearer only.
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(gateway.invocations(JWT)).toBe(before);
  });
});

/** One HTTPS request with an optional client certificate; resolves to status and body. */
function tlsGet(
  url: string,
  options: { ca: string; cert?: IssuedCertificate; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: options.ca,
        ...(options.cert === undefined
          ? {}
          : { cert: options.cert.certificatePem, key: options.cert.privateKeyPem }),
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('local gateway --mtls: HTTPS with client certificates, passed on as clientCert', () => {
  let gateway: RunningGateway;
  let ca: string;
  let alice: IssuedCertificate;
  let mallory: IssuedCertificate;
  let stranger: IssuedCertificate;
  const access: string[] = [];

  beforeAll(async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'gatehouse-mtls-'));
    gateway = await startGateway({
      port: 0,
      issuerPort: 0,
      inMemory: true,
      mtls: { certsDir },
      accessLog: (line) => access.push(line),
      functionLog: () => undefined,
      info: () => undefined,
    });
    const local = readCa(certsDir);
    if (local === undefined) throw new Error('the gateway made no CA');
    ca = local.certificatePem;
    alice = await issueCertificate(local, { commonName: 'alice', kind: 'client' });
    mallory = await issueCertificate(local, { commonName: 'mallory', kind: 'client' });
    // Signed by a CA the gateway does not trust.
    stranger = await issueCertificate(await createCa('Stranger CA'), { commonName: 'alice', kind: 'client' });
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
  });

  it('serves every API over HTTPS, and made the CA and server certificate it needed', () => {
    expect(gateway.apis.every((a) => a.url.startsWith('https://127.0.0.1:'))).toBe(true);
    expect(gateway.tls?.created.map((f) => f.split('/').at(-1))).toEqual(['ca.pem', 'server.pem']);
  });

  it.each([
    ['no client certificate', undefined],
    ['a certificate of another CA', () => stranger],
  ])('refuses the TLS handshake with %s (no HTTP request is ever made)', async (_case, cert) => {
    const url = `${gateway.urls.OrdersDpopApi}/health`;

    await expect(tlsGet(url, { ca, ...(cert === undefined ? {} : { cert: cert() }) })).rejects.toThrow();
  });

  it('allows a certificate-bound token with its certificate and refuses it with another (mtls_thumbprint_mismatch)', async () => {
    // Arrange
    const url = `${gateway.urls.OrdersDpopApi}/orders`;
    const token = gateway.services.issuer?.mint({
      scope: 'orders:read',
      certificateThumbprint: alice.thumbprint,
    }) as string;
    const headers = { Authorization: `Bearer ${token}` };

    // Act
    const own = await tlsGet(url, { ca, cert: alice, headers });
    const other = await tlsGet(url, { ca, cert: mallory, headers });

    // Assert
    expect([own.status, other.status]).toEqual([200, 401]);
    expect(access.at(-1)).toContain('mtls_thumbprint_mismatch');
  });

  it('refuses a certificate-bound token on OrdersApi: a TOKEN authorizer never sees the certificate', async () => {
    const token = gateway.services.issuer?.mint({ certificateThumbprint: alice.thumbprint }) as string;

    const res = await tlsGet(`${gateway.urls.OrdersApi}/orders`, {
      ca,
      cert: alice,
      headers: { Authorization: `Bearer ${token}` },
    });

    expect(res.status).toBe(401);
    expect(access.at(-1)).toContain('mtls_certificate_missing');
  });
});

describe('local gateway --mtls: the clientCert API Gateway hands a function', () => {
  const runs: RunningGateway[] = [];
  let ca: string;
  let alice: IssuedCertificate;
  const expected = () => ({
    clientCertPem: alice.certificatePem.trim(),
    subjectDN: 'CN=alice',
    issuerDN: 'CN=Gatehouse Local CA',
    serialNumber: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2})*$/),
    validity: {
      notBefore: expect.stringMatching(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/),
      notAfter: expect.stringMatching(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/),
    },
  });
  const start = async (template: string, certsDir: string) => {
    const gateway = await startGateway({
      template,
      port: 0,
      issuerPort: 0,
      inMemory: true,
      mtls: { certsDir },
      accessLog: () => undefined,
      functionLog: () => undefined,
      info: () => undefined,
    });
    runs.push(gateway);
    return gateway;
  };
  let certsDir: string;

  beforeAll(async () => {
    certsDir = mkdtempSync(join(tmpdir(), 'gatehouse-mtls-shape-'));
    const local = await createCa();
    const { writeIssued } = await import('../../tools/certs/local-ca.ts');
    writeIssued(certsDir, 'ca', local);
    ca = local.certificatePem;
    alice = await issueCertificate(local, { commonName: 'alice', kind: 'client' });
  });
  afterAll(async () => {
    for (const g of runs) await g.close();
  });

  it('REST API: requestContext.identity.clientCert', async () => {
    const gateway = await start('test/fixtures/gateway/rest-fidelity.yaml', certsDir);

    const res = await tlsGet(`${gateway.urls.FidelityApi}/items/1`, { ca, cert: alice });

    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).requestContext.identity.clientCert).toEqual(expected());
  }, 120_000);

  it('HTTP API payload 2.0: requestContext.authentication.clientCert; payload 1.0: requestContext.identity.clientCert', async () => {
    const gateway = await start('test/fixtures/gateway/http-api.yaml', certsDir);
    const base = gateway.urls.ProbeHttpApi as string;

    const v2 = await tlsGet(`${base}/files/a.txt`, { ca, cert: alice });
    const v1 = await tlsGet(`${base}/legacy`, { ca, cert: alice, headers: { 'x-token': 'allow' } });

    expect([v2.status, v1.status]).toEqual([200, 200]);
    expect(JSON.parse(v2.body).requestContext.authentication.clientCert).toEqual(expected());
    expect(JSON.parse(v1.body).requestContext.identity.clientCert).toEqual(expected());
  }, 120_000);
});
