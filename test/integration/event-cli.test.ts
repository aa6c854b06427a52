// `npm run event` prints sample events with fresh tokens that events/env.json trusts, for
// `sam local invoke -e -`; `npm run invoke` reads the same `-e -` from stdin.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint } from '../../shared/dpop/jwk.ts';
import { accessTokenHash } from '../../shared/dpop/proof.ts';
import { certificateThumbprint } from '../../shared/mtls/certificate-binding.ts';
import { LOCAL_AUDIENCE } from '../../tools/issuer/local-issuer.ts';
import { PUBLISHED_ISSUER } from '../../tools/issuer/published-issuer.ts';
import { samEnvVars } from '../../tools/local/sam-env-vars.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';

function run(
  script: string,
  args: readonly string[],
  stdin = '',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

/** The issuer entry events/env.json gives the JWT authorizer. */
function envJsonIssuer(): { issuer: string; audience: string; jwks: Jwks } {
  const env = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events/env.json'), 'utf8')) as {
    JwtAuthorizerFunction: { JWT_ISSUERS: string };
  };
  const issuers = JSON.parse(env.JwtAuthorizerFunction.JWT_ISSUERS) as {
    issuer: string;
    audience: string;
    jwks: Jwks;
  }[];
  expect(issuers).toHaveLength(1);
  return issuers[0] as { issuer: string; audience: string; jwks: Jwks };
}

describe('events/env.json', () => {
  it('is what the published development issuer generates (key, issuer, audience)', () => {
    // Act
    const committed = readFileSync(join(PROJECT_ROOT, 'events/env.json'), 'utf8');

    // Assert: a mismatch means the key or the file changed alone; the expected content is the fix.
    expect(committed).toBe(`${JSON.stringify(samEnvVars(), null, 2)}\n`);
  });

  it('trusts an issuer that cannot resolve, through an inline JWKS of public keys only', () => {
    // Act
    const entry = envJsonIssuer();

    // Assert
    expect(entry.issuer).toBe(PUBLISHED_ISSUER);
    expect(new URL(entry.issuer).hostname.endsWith('.invalid')).toBe(true);
    expect(entry.audience).toBe(LOCAL_AUDIENCE);
    // Its tokens may also come with DPoP (the sender-constrained sample events).
    expect(Object.keys(entry)).toEqual(['issuer', 'audience', 'jwks', 'dpop']);
    expect((entry as { dpop?: unknown }).dpop).toBe('allowed');
    for (const key of entry.jwks.keys) expect(Object.keys(key)).not.toContain('d');
  });
});

describe('npm run event', () => {
  it('fills every token placeholder with a token that verifies against events/env.json alone', async () => {
    // Arrange: the verifier gets env.json's keys and nothing else (no JWKS download possible).
    const entry = envJsonIssuer();
    const verifier = JwtVerifier.create({ issuer: entry.issuer, audience: entry.audience, jwksUri: 'x' });
    verifier.cacheJwks(entry.jwks);

    // Act
    const result = await run('tools/event.ts', ['events/jwt-authorizer/allow.json']);

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('{{gatehouse:');
    const event = JSON.parse(result.out) as {
      headers: { Authorization: string };
      multiValueHeaders: { Authorization: string[] };
    };
    const token = event.headers.Authorization.replace(/^Bearer /, '');
    expect(event.multiValueHeaders.Authorization).toEqual([`Bearer ${token}`]);
    const payload = await verifier.verify(token);
    expect(payload).toMatchObject({ iss: PUBLISHED_ISSUER, scope: 'orders:read', sub: 'demo-user' });
  });

  it('keeps the placeholder options (an expired token for the expired event)', async () => {
    // Act
    const result = await run('tools/event.ts', ['events/jwt-authorizer/rest-expired-unauthorized.json']);

    // Assert
    expect(result.code).toBe(0);
    const event = JSON.parse(result.out) as { headers: Record<string, string> };
    const token = (Object.values(event.headers).find((v) => v.startsWith('Bearer ')) as string).slice(7);
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      exp: number;
    };
    expect(payload.exp).toBeLessThan(Date.now() / 1000);
  });

  it('fills a DPoP-bound token and its proof: the proof key is the one the token names, ath its hash', async () => {
    // Act
    const result = await run('tools/event.ts', ['events/jwt-authorizer/rest-dpop-allow.json']);

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('{{gatehouse:');
    const event = JSON.parse(result.out) as { headers: Record<string, string> };
    const token = (event.headers.Authorization as string).replace(/^DPoP /, '');
    const part = (jwt: string, i: number) =>
      JSON.parse(Buffer.from(jwt.split('.')[i] as string, 'base64url').toString()) as Record<string, unknown>;
    const proof = event.headers.DPoP as string;
    expect((part(token, 1).cnf as { jkt: string }).jkt).toBe(
      jwkThumbprint(part(proof, 0).jwk as Record<string, unknown>),
    );
    expect(part(proof, 1)).toMatchObject({
      htm: 'GET',
      htu: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com/v1/orders',
      ath: accessTokenHash(token),
    });
  });

  it('fills a client certificate and a token bound to it', async () => {
    // Act
    const result = await run('tools/event.ts', ['events/jwt-authorizer/rest-mtls-allow.json']);

    // Assert
    expect(result.code).toBe(0);
    const event = JSON.parse(result.out) as {
      headers: Record<string, string>;
      requestContext: { identity: { clientCert: { clientCertPem: string } } };
    };
    const token = (event.headers.Authorization as string).replace(/^Bearer /, '');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(claims.cnf['x5t#S256']).toBe(
      certificateThumbprint(event.requestContext.identity.clientCert.clientCertPem),
    );
  });

  it('reads the event from stdin with -', async () => {
    // Act
    const result = await run(
      'tools/event.ts',
      ['-'],
      readFileSync(join(PROJECT_ROOT, 'events/jwt-authorizer/http-v2-allow.json'), 'utf8'),
    );

    // Assert
    expect(result.code).toBe(0);
    expect(result.out).toContain('Bearer ey');
  });

  it('prints an event without placeholders unchanged', async () => {
    // Arrange
    const file = 'events/request-validator/rest-health-forwarded.json';

    // Act
    const result = await run('tools/event.ts', [file]);

    // Assert
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual(JSON.parse(readFileSync(join(PROJECT_ROOT, file), 'utf8')));
  });

  it.each([
    [['events/key-authorizer/rest-apikey-allow.json'], '{{gatehouse:apikey}} placeholder'],
    [['events/key-authorizer/rest-basic-allow.json'], '{{gatehouse:basic}} placeholder'],
    [
      ['events/jwt-authorizer/rest-dpop-replayed-unauthorized.json'],
      'has a replayed DPoP proof (replayed=1)',
    ],
    [['events/no-such-event.json'], 'event file events/no-such-event.json does not exist'],
    [[], "missing required argument 'event'"],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    // Act
    const result = await run('tools/event.ts', args);

    // Assert
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err.trimEnd().split('\n')).toHaveLength(1);
    expect(result.err).toContain(message);
  });
});

describe('npm run invoke -e -', () => {
  it('reads the event from stdin', async () => {
    // Act
    const result = await run(
      'tools/invoke.ts',
      ['JwtAuthorizerFunction', '-e', '-'],
      readFileSync(join(PROJECT_ROOT, 'events/jwt-authorizer/allow.json'), 'utf8'),
    );

    // Assert
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ principalId: 'demo-user' });
  });
});
