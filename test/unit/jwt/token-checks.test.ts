import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IssuerConfig } from '../../../shared/jwt/config.ts';
import { isCanonicalBase64url, postcheck, precheck, scopesOf } from '../../../shared/jwt/token-checks.ts';

const ISSUER: IssuerConfig = {
  issuer: 'https://idp',
  audience: ['api'],
  jwksUri: 'https://idp/jwks',
  algorithms: ['RS256', 'ES256'],
  dpop: 'off',
};
const issuers = new Map([[ISSUER.issuer, ISSUER]]);
const seg = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const token = (header: unknown, payload: unknown = { iss: 'https://idp' }) =>
  `${seg(header)}.${seg(payload)}.c2ln`;
const good = { alg: 'RS256', kid: 'k1', typ: 'at+jwt' };

describe('precheck', () => {
  it('passes a well-formed token and names its issuer and algorithm', () => {
    const result = precheck(token(good), issuers, 'at+jwt');
    expect(result.ok && [result.value.issuer.issuer, result.value.algorithm]).toEqual([
      'https://idp',
      'RS256',
    ]);
  });

  it.each([
    ['a token with two parts', 'abc.def', 'token_malformed'],
    ['a header that is not JSON', `${seg('nope')}.${seg({ iss: 'https://idp' })}.x`, 'token_malformed'],
    ['a header that is a JSON array', token([1]), 'token_malformed'],
    ['non-canonical base64url', `${seg(good)}=.${seg({ iss: 'https://idp' })}.x`, 'token_malformed'],
    ['duplicate header members', token('{"alg":"RS256","kid":"k1","alg":"none"}'), 'json_duplicate_key'],
    [
      'duplicate payload members',
      token(good, '{"iss":"https://idp","sub":"a","sub":"admin"}'),
      'json_duplicate_key',
    ],
    ['a crit header', token({ ...good, crit: ['exp'] }), 'header_crit'],
    ['a jku header', token({ ...good, jku: 'https://evil/jwks' }), 'header_key_reference'],
    ['an x5u header', token({ ...good, x5u: 'https://evil/cert' }), 'header_key_reference'],
    ['an embedded jwk', token({ ...good, jwk: { kty: 'RSA' } }), 'header_key_reference'],
    ['an x5c chain', token({ ...good, x5c: ['MII'] }), 'header_key_reference'],
    ['a wrong typ', token({ ...good, typ: 'JWT' }), 'typ_invalid'],
    ['no typ when one is required', token({ alg: 'RS256', kid: 'k1' }), 'typ_invalid'],
    ['an unknown issuer', token(good, { iss: 'https://evil' }), 'issuer_unknown'],
    ['no issuer', token(good, {}), 'issuer_unknown'],
    ['alg none', token({ ...good, alg: 'none' }), 'alg_not_allowed'],
    ['HS256', token({ ...good, alg: 'HS256' }), 'alg_not_allowed'],
    ['an algorithm the issuer does not allow', token({ ...good, alg: 'EdDSA' }), 'alg_not_allowed'],
    ['no kid', token({ alg: 'RS256', typ: 'at+jwt' }), 'kid_missing'],
    ['a non-canonical signature', `${token(good).slice(0, -4)}c2lnZB`, 'token_malformed'],
    ['a padded signature', `${token(good)}=`, 'token_malformed'],
    ['a signature with a character outside base64url', `${token(good).slice(0, -1)}+`, 'token_malformed'],
    ['a string exp', token(good, { iss: 'https://idp', exp: '2000000000' }), 'token_malformed'],
    ['a numeric aud', token(good, { iss: 'https://idp', aud: 7 }), 'token_malformed'],
    ['a list scope', token(good, { iss: 'https://idp', scope: ['a'] }), 'token_malformed'],
    ['a numeric sub', token(good, { iss: 'https://idp', sub: 1 }), 'token_malformed'],
    ['four parts', `${token(good)}.x`, 'token_malformed'],
  ])('refuses %s', (_name, value, reason) => {
    expect(precheck(value, issuers, 'at+jwt')).toEqual({ ok: false, reason });
  });

  it('accepts the media-type form of typ (RFC 9068)', () => {
    expect(precheck(token({ ...good, typ: 'application/AT+JWT' }), issuers, 'at+jwt').ok).toBe(true);
  });
});

describe('isCanonicalBase64url', () => {
  it('agrees with decoding and re-encoding on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'AQgw_-=+/. aZ09'.split('')), maxLength: 12 }),
        (text) => {
          const reencoded = Buffer.from(text, 'base64url').toString('base64url') === text && text !== '';
          expect(isCanonicalBase64url(text)).toBe(reencoded);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees on the encodings of arbitrary bytes and their one-character changes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom(...'AQgw_-B'.split('')),
        (bytes, at, c) => {
          const encoded = Buffer.from(bytes).toString('base64url');
          const i = at % encoded.length;
          const changed = `${encoded.slice(0, i)}${c}${encoded.slice(i + 1)}`;
          expect(isCanonicalBase64url(encoded)).toBe(true);
          expect(isCanonicalBase64url(changed)).toBe(
            Buffer.from(changed, 'base64url').toString('base64url') === changed,
          );
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('postcheck', () => {
  const now = 1_800_000_000;
  const limits = { clockSkewSeconds: 30, maxLifetimeSeconds: 3600 };
  const claims = (c: Record<string, unknown>) => ({ sub: 'u', iat: now - 10, exp: now + 600, ...c });

  it('passes a current token', () => {
    expect(postcheck(claims({}), now, limits)).toBeUndefined();
  });

  it.each([
    ['no exp', { exp: undefined }, 'exp_missing'],
    ['a non-numeric exp', { exp: '1' }, 'claim_invalid'],
    ['exp past the skew', { exp: now - 31 }, 'token_expired'],
    ['nbf in the future', { nbf: now + 31 }, 'token_not_yet_valid'],
    ['iat in the future beyond the skew', { iat: now + 31 }, 'iat_in_future'],
    ['a lifetime over the maximum', { iat: now - 10, exp: now + 3600 }, 'lifetime_too_long'],
    [
      'exp far in the future without iat',
      { iat: undefined, exp: now + 10 * 365 * 86400 },
      'lifetime_too_long',
    ],
    ['no sub', { sub: undefined }, 'sub_missing'],
  ])('refuses %s', (_name, overrides, reason) => {
    expect(postcheck(claims(overrides), now, limits)).toBe(reason);
  });

  it('tolerates exp and iat within the skew', () => {
    expect(postcheck(claims({ exp: now - 29, iat: now - 100 }), now, limits)).toBeUndefined();
    expect(postcheck(claims({ iat: now + 29 }), now, limits)).toBeUndefined();
  });
});

describe('scopesOf', () => {
  it.each([
    [{ scope: 'a b  c' }, ['a', 'b', 'c']],
    [{ scp: ['a', 'b'] }, ['a', 'b']],
    [{ scp: 'a b' }, ['a', 'b']],
    [{ scope: 'a', scp: ['a', 'b', 7, 'c d'] }, ['a', 'b']],
    [{}, []],
  ])('reads %j as %j', (payload, expected) => {
    expect(scopesOf(payload)).toEqual(expected);
  });
});
