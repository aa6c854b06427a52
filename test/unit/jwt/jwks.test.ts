import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  filterJwks,
  JwksFetcher,
  JwksUnavailableError,
  MAX_JWKS_BYTES,
  parseJwksDocument,
} from '../../../shared/jwt/jwks.ts';
import { type JwksServer, startJwksServer } from '../../support/jwks-server.ts';
import { testKey } from '../../support/keys.ts';

const rsa = testKey('RS256', 'good-rsa');
const ec = testKey('ES256', 'good-ec');
const ed = testKey('EdDSA', 'good-ed');
const weak = testKey('RS256-1024', 'weak-rsa');

describe('filterJwks', () => {
  it('keeps strong signature keys', () => {
    const { jwks, dropped } = filterJwks({ keys: [rsa.jwk, ec.jwk, ed.jwk] });
    expect(jwks.keys.map((k) => k.kid)).toEqual(['good-rsa', 'good-ec', 'good-ed']);
    expect(dropped).toEqual([]);
  });

  it.each([
    ['a 1024-bit RSA key', weak.jwk, 'rsa_modulus_too_small'],
    ['RSA with e = 1', { ...rsa.jwk, kid: 'e1', e: 'AQ' }, 'rsa_exponent_not_65537'],
    ['RSA with e = 3', { ...rsa.jwk, kid: 'e3', e: 'Aw' }, 'rsa_exponent_not_65537'],
    ['an encryption key', { ...rsa.jwk, kid: 'enc', use: 'enc' }, 'use_not_sig'],
    ['key_ops without verify', { ...rsa.jwk, kid: 'ops', key_ops: ['encrypt'] }, 'key_ops_without_verify'],
    ['a symmetric key', { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }, 'symmetric_key'],
    ['a published private key', { ...rsa.jwk, kid: 'priv', d: 'AAAA' }, 'private_key_material'],
    ['a multi-prime private member', { ...rsa.jwk, kid: 'oth', oth: [] }, 'private_key_material'],
    ['a key without kid', { ...rsa.jwk, kid: undefined }, 'kid_missing'],
    ['an unsupported curve', { ...ec.jwk, kid: 'k1', crv: 'secp256k1' }, 'curve_unsupported'],
    ['an unknown key type', { kty: 'XYZ', kid: 'x' }, 'kty_unsupported'],
  ])('drops %s', (_name, key, reason) => {
    const { jwks, dropped } = filterJwks({ keys: [rsa.jwk, key] });
    expect(jwks.keys.map((k) => k.kid)).toEqual(['good-rsa']);
    expect(dropped.map((d) => d.reason)).toEqual([reason]);
  });

  it('drops both keys that share a kid', () => {
    const { jwks, dropped } = filterJwks({ keys: [rsa.jwk, { ...ec.jwk, kid: 'good-rsa' }, ed.jwk] });
    expect(jwks.keys.map((k) => k.kid)).toEqual(['good-ed']);
    expect(dropped).toEqual([
      { kid: 'good-rsa', reason: 'kid_duplicate' },
      { kid: 'good-rsa', reason: 'kid_duplicate' },
    ]);
  });

  it('refuses a document without a keys array', () => {
    expect(() => filterJwks({ key: [] })).toThrow(JwksUnavailableError);
  });

  it('refuses a JWKS document with duplicate members', () => {
    const body = new TextEncoder().encode('{"keys":[],"keys":[{"kty":"oct"}]}');
    expect(() => parseJwksDocument(body.buffer as ArrayBuffer, () => {})).toThrow(/json_duplicate_key/);
  });
});

describe('JwksFetcher', () => {
  let server: JwksServer;
  beforeAll(async () => {
    server = await startJwksServer([rsa.jwk]);
  });
  afterAll(() => server.close());

  it('downloads a JWKS from a loopback http URL', async () => {
    server.setMode('ok');
    const body = await new JwksFetcher(1000).fetch(server.jwksUri);
    expect(JSON.parse(Buffer.from(body).toString())).toEqual({ keys: [rsa.jwk] });
  });

  it('refuses plain http to a non-loopback host without connecting', async () => {
    await expect(new JwksFetcher(1000).fetch('http://idp.example.com/jwks')).rejects.toThrow(
      /must use https/,
    );
  });

  it.each([
    ['error-500', /answered 500/],
    ['forbidden-403', /answered 403/],
  ] as const)('fails on a %s answer', async (mode, message) => {
    server.setMode(mode);
    await expect(new JwksFetcher(1000).fetch(server.jwksUri)).rejects.toThrow(message);
  });

  it('gives up within its time budget when the server never answers', async () => {
    server.setMode('hang');
    const started = performance.now();
    await expect(new JwksFetcher(200).fetch(server.jwksUri)).rejects.toThrow(JwksUnavailableError);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses a document larger than the cap', async () => {
    server.setMode('ok');
    server.setKeys([{ kty: 'RSA', kid: 'x'.repeat(MAX_JWKS_BYTES) }]);
    await expect(new JwksFetcher(1000).fetch(server.jwksUri)).rejects.toThrow(/larger than/);
    server.setKeys([rsa.jwk]);
  });
});
