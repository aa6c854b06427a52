import { createSecretKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJwtAuthorizerConfig } from '../../../shared/jwt/config.ts';
import { JwksUnavailableError } from '../../../shared/jwt/jwks.ts';
import { createTokenVerifier } from '../../../shared/jwt/verifier.ts';
import { signJwt } from '../../../tools/issuer/sign.ts';
import { closedPortUrl, type JwksServer, startJwksServer } from '../../support/jwks-server.ts';
import { type TestKey, testKey } from '../../support/keys.ts';

const ISS = 'https://idp.test';
const rsa = testKey('RS256');
const ec = testKey('ES256');
const ed = testKey('EdDSA');
const now = () => Math.floor(Date.now() / 1000);

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISS,
    sub: 'user-1',
    aud: 'orders',
    iat: now() - 5,
    exp: now() + 300,
    scope: 'orders:read',
    ...extra,
  };
}

function sign(key: TestKey, payload = claims(), header: Record<string, unknown> = {}): string {
  return signJwt({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }, payload, key.privateKey);
}

describe('createTokenVerifier', () => {
  let server: JwksServer;
  const config = (jwksUri: string, extra: Record<string, string> = {}) =>
    readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([
        { issuer: ISS, audience: 'orders', jwksUri, algorithms: ['RS256', 'ES256', 'EdDSA'] },
      ]),
      JWT_CLOCK_SKEW_SECONDS: '0',
      ...extra,
    });

  beforeAll(async () => {
    server = await startJwksServer([rsa.jwk, ec.jwk, ed.jwk]);
  });
  afterAll(() => server.close());

  it.each([
    ['RS256', rsa],
    ['ES256', ec],
    ['EdDSA', ed],
  ])('verifies a valid %s token', async (_alg, key) => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const result = await verifier.verify(sign(key), Date.now());
    expect(result.ok && [result.claims.sub, result.cached]).toEqual(['user-1', false]);
  });

  it('answers a repeated token from the cache without verifying again', async () => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const token = sign(rsa);
    await verifier.verify(token, Date.now());
    const again = await verifier.verify(token, Date.now());
    expect(again.ok && again.cached).toBe(true);
  });

  it('stops answering a cached token from the cache once it expires', async () => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const token = sign(rsa, claims({ exp: now() + 60 }));
    expect((await verifier.verify(token, Date.now())).ok).toBe(true);
    // 61 s later the cache entry is past exp; aws-jwt-verify then refuses the token on its own clock
    // only after real time passes, so the cache must be the one refusing to answer.
    const later = await verifier.verify(token, Date.now() + 61_000);
    expect(later.ok && later.cached).not.toBe(true);
  });

  it.each([
    ['a bad signature', () => `${sign(rsa).slice(0, -6)}AAAAAA`, 'signature_invalid'],
    [
      'a signature by another key with the same kid',
      () => sign({ ...testKey('RS256'), kid: rsa.kid }),
      'signature_invalid',
    ],
    ['an expired token', () => sign(rsa, claims({ exp: now() - 10, iat: now() - 100 })), 'token_expired'],
    ['a wrong audience', () => sign(rsa, claims({ aud: 'other' })), 'audience_invalid'],
    ['no exp', () => sign(rsa, claims({ exp: undefined })), 'exp_missing'],
    ['iat in the future', () => sign(rsa, claims({ iat: now() + 120 })), 'iat_in_future'],
    [
      'a lifetime too long',
      () => sign(rsa, claims({ iat: now() - 5, exp: now() + 2 * 86400 })),
      'lifetime_too_long',
    ],
    ['an unknown kid', () => sign({ ...rsa, kid: 'nobody' }), 'kid_unknown'],
    ['a crit header', () => sign(rsa, claims(), { crit: ['b64'] }), 'header_crit'],
    [
      'a jwk header pointing at an attacker key',
      () => sign(testKey('RS256'), claims(), { jwk: testKey('RS256').jwk }),
      'header_key_reference',
    ],
    [
      'alg none',
      () =>
        `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
      'alg_not_allowed',
    ],
    [
      'HS256 signed with the RSA public key as secret',
      () =>
        signJwt(
          { alg: 'HS256', kid: rsa.kid },
          claims(),
          createSecretKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }) as Buffer),
          'HS256',
        ),
      'alg_not_allowed',
    ],
    [
      'an ES256 header on an RSA key',
      () => signJwt({ alg: 'ES256', kid: rsa.kid }, claims(), ec.privateKey),
      'alg_not_allowed',
    ],
  ])('refuses %s', async (_name, make, reason) => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    expect(await verifier.verify(make(), Date.now())).toEqual({ ok: false, reason });
  });

  it('refuses a zero-valued ES256 signature (psychic signature)', async () => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const [h, p] = sign(ec).split('.');
    const zero = Buffer.alloc(64).toString('base64url');
    expect(await verifier.verify(`${h}.${p}.${zero}`, Date.now())).toEqual({
      ok: false,
      reason: 'signature_invalid',
    });
  });

  it.each([
    ['one byte short', (sig: Buffer) => sig.subarray(1)],
    ['one byte long', (sig: Buffer) => Buffer.concat([sig, Buffer.from([0])])],
    [
      'DER-shaped',
      (sig: Buffer) =>
        Buffer.concat([
          Buffer.from([0x30, 0x44, 0x02, 0x20]),
          sig.subarray(0, 32),
          Buffer.from([0x02, 0x20]),
          sig.subarray(32),
        ]),
    ],
  ])('refuses (401, not a failure) an ES256 signature that is %s', async (_name, mangle) => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const [h, p, s] = sign(ec).split('.') as [string, string, string];
    const forged = mangle(Buffer.from(s, 'base64url')).toString('base64url');
    expect(await verifier.verify(`${h}.${p}.${forged}`, Date.now())).toEqual({
      ok: false,
      reason: 'signature_invalid',
    });
  });

  it('refuses tokens signed by a weak key the JWKS publishes, and reports the key dropped', async () => {
    const weak = testKey('RS256-1024');
    const dropped: string[] = [];
    const local = await startJwksServer([weak.jwk, rsa.jwk]);
    const verifier = createTokenVerifier(config(local.jwksUri), {
      events: { onKeysDropped: (d) => dropped.push(...d.map((x) => x.reason)) },
    });
    expect(await verifier.verify(sign(weak), Date.now())).toEqual({ ok: false, reason: 'kid_unknown' });
    expect(dropped).toContain('rsa_modulus_too_small');
    expect((await verifier.verify(sign(rsa), Date.now())).ok).toBe(true);
    await local.close();
  });

  it('bounds JWKS downloads under a flood of unknown kids, and known keys keep working', async () => {
    const local = await startJwksServer([rsa.jwk]);
    const verifier = createTokenVerifier(config(local.jwksUri));
    expect(await verifier.prefetch()).toEqual([]);
    const before = local.requests();
    for (let i = 0; i < 50; i++) {
      expect(await verifier.verify(sign({ ...rsa, kid: `junk-${i}` }), Date.now())).toEqual({
        ok: false,
        reason: 'kid_unknown',
      });
    }
    expect(local.requests() - before).toBeLessThanOrEqual(1);
    expect((await verifier.verify(sign(rsa), Date.now())).ok).toBe(true);
    await local.close();
  });

  it('throws (never allows, never denies) when the keys cannot be had, and recovers on a later call', async () => {
    const local = await startJwksServer([rsa.jwk]);
    local.setMode('error-500');
    const verifier = createTokenVerifier(config(local.jwksUri));
    expect(await verifier.prefetch()).toEqual([ISS]);
    await expect(verifier.verify(sign(rsa), Date.now())).rejects.toThrow(JwksUnavailableError);
    local.setMode('ok');
    expect((await verifier.verify(sign(rsa), Date.now())).ok).toBe(true);
    await local.close();
  });

  it.each(['hang', 'not-json', 'forbidden-403'] as const)(
    'throws within its budget when the JWKS endpoint is %s',
    async (mode) => {
      const local = await startJwksServer([rsa.jwk]);
      local.setMode(mode);
      const verifier = createTokenVerifier(config(local.jwksUri, { JWT_JWKS_TIMEOUT_MS: '300' }));
      const started = performance.now();
      await expect(verifier.verify(sign(rsa), Date.now())).rejects.toThrow(JwksUnavailableError);
      expect(performance.now() - started).toBeLessThan(3000);
      await local.close();
    },
  );

  it('throws when the JWKS host refuses connections', async () => {
    const verifier = createTokenVerifier(config(await closedPortUrl()));
    await expect(verifier.verify(sign(rsa), Date.now())).rejects.toThrow(JwksUnavailableError);
  });

  it('answers from the cache only the very token it verified, not one sharing its signature', async () => {
    const verifier = createTokenVerifier(config(server.jwksUri));
    const token = sign(rsa);
    expect((await verifier.verify(token, Date.now())).ok).toBe(true);
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims({ scope: 'orders:admin' }))).toString('base64url')}.${sig}`;

    expect(await verifier.verify(forged, Date.now())).toEqual({ ok: false, reason: 'signature_invalid' });
    expect(await verifier.verify(token, Date.now())).toMatchObject({ ok: true, cached: true });
  });

  it('refuses a token whose header algorithm does not suit the key type, even when the JWK names no alg', async () => {
    const { alg: _alg, ...rsaWithoutAlg } = rsa.jwk;
    const local = await startJwksServer([{ ...rsaWithoutAlg, kid: 'no-alg' }]);
    const verifier = createTokenVerifier(config(local.jwksUri));
    const token = signJwt({ alg: 'ES256', kid: 'no-alg', typ: 'at+jwt' }, claims(), ec.privateKey);
    expect(await verifier.verify(token, Date.now())).toEqual({ ok: false, reason: 'alg_not_allowed' });
    await local.close();
  });
});

describe('seeded keys (jwks / jwksFile)', () => {
  const seededConfig = (jwksUri: string, keys: readonly Readonly<Record<string, unknown>>[]) =>
    readJwtAuthorizerConfig({
      JWT_ISSUERS: JSON.stringify([{ issuer: ISS, audience: 'orders', jwksUri, jwks: { keys } }]),
      JWT_CLOCK_SKEW_SECONDS: '0',
    });

  it('verifies without downloading the JWKS', async () => {
    const local = await startJwksServer([rsa.jwk]);
    const verifier = createTokenVerifier(seededConfig(local.jwksUri, [rsa.jwk]));
    expect(await verifier.prefetch()).toEqual([]);
    expect((await verifier.verify(sign(rsa), Date.now())).ok).toBe(true);
    expect(local.requests()).toBe(0);
    await local.close();
  });

  it('downloads once for an unknown kid, so a rotated-in key works', async () => {
    const next = testKey('ES256', 'rotated-in');
    const local = await startJwksServer([rsa.jwk, next.jwk]);
    const verifier = createTokenVerifier(seededConfig(local.jwksUri, [rsa.jwk]));
    await verifier.prefetch();

    expect((await verifier.verify(sign(next), Date.now())).ok).toBe(true);
    expect(local.requests()).toBe(1);
    for (let i = 0; i < 20; i++)
      expect(await verifier.verify(sign({ ...rsa, kid: `junk-${i}` }), Date.now())).toEqual({
        ok: false,
        reason: 'kid_unknown',
      });
    expect(local.requests()).toBe(2);
    await local.close();
  });

  it('reports the seeded keys it left out', async () => {
    const dropped: string[] = [];
    const verifier = createTokenVerifier(
      seededConfig(await closedPortUrl(), [rsa.jwk, testKey('RS256-1024').jwk]),
      {
        events: { onKeysDropped: (d) => dropped.push(...d.map((x) => x.reason)) },
      },
    );
    expect(await verifier.prefetch()).toEqual([]);
    expect(dropped).toEqual(['rsa_modulus_too_small']);
  });
});

describe('Cognito user pools behind an emulator (jwksUri, issuer override)', () => {
  let server: JwksServer;
  beforeAll(async () => {
    server = await startJwksServer([rsa.jwk]);
  });
  afterAll(() => server.close());

  const cognitoClaims = (iss: string, extra: Record<string, unknown> = {}) => ({
    iss,
    sub: 'user-1',
    token_use: 'access',
    client_id: 'app1',
    iat: now() - 5,
    exp: now() + 300,
    scope: 'orders:read',
    ...extra,
  });

  it.each([
    [
      'moto (AWS issuer, local keys)',
      { userPoolId: 'us-east-1_Moto123' },
      'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Moto123',
    ],
    [
      'cognito-local (its own issuer)',
      { userPoolId: 'local_AbC123', issuer: 'http://localhost:9229/local_AbC123' },
      'http://localhost:9229/local_AbC123',
    ],
  ])('verifies tokens of %s with the Cognito checks', async (_name, pool, iss) => {
    const verifier = createTokenVerifier(
      readJwtAuthorizerConfig({
        JWT_ISSUERS: JSON.stringify([
          { ...pool, tokenUse: 'access', clientId: 'app1', jwksUri: server.jwksUri },
        ]),
      }),
    );
    const token = (extra: Record<string, unknown> = {}) =>
      signJwt({ alg: 'RS256', kid: rsa.kid }, cognitoClaims(iss, extra), rsa.privateKey);

    expect(await verifier.verify(token(), Date.now())).toMatchObject({ ok: true });
    expect(await verifier.verify(token({ client_id: 'other-app' }), Date.now())).toEqual({
      ok: false,
      reason: 'client_id_invalid',
    });
    expect(await verifier.verify(token({ token_use: 'id' }), Date.now())).toEqual({
      ok: false,
      reason: 'token_use_invalid',
    });
    expect(await verifier.verify(token({ token_use: undefined }), Date.now())).toEqual({
      ok: false,
      reason: 'token_use_invalid',
    });
  });
});
