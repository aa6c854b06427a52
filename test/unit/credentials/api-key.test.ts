import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  hashSecret,
  mintApiKey,
  PepperMissingError,
  parseApiKey,
  secretMatches,
} from '../../../shared/credentials/api-key.ts';

describe('API key format', () => {
  it('mints keys that parse back to their key id and secret', () => {
    // Arrange
    const minted = mintApiKey('live');

    // Act
    const parsed = parseApiKey(minted.key, 'live');

    // Assert
    expect(minted.key).toMatch(API_KEY_PATTERN);
    expect(minted.key.startsWith('gatehouse_live_')).toBe(true);
    expect(parsed).toEqual({ ok: true, keyId: minted.keyId, secret: minted.secret });
  });

  it('keeps the key id and changes the secret when rotating', () => {
    const first = mintApiKey('test');
    const second = mintApiKey('test', first.keyId);
    expect(second.keyId).toBe(first.keyId);
    expect(second.secret).not.toBe(first.secret);
  });

  it('carries at least 128 random bits in the secret', () => {
    // 43 base62 characters hold 256 bits; distinct mints never collide.
    const secrets = new Set(Array.from({ length: 200 }, () => mintApiKey('live').secret));
    expect(secrets.size).toBe(200);
    expect([...secrets][0]?.length).toBe(43);
  });

  it.each([
    ['', 'key_malformed'],
    ['junk', 'key_malformed'],
    ['Bearer abc', 'key_malformed'],
    ['gatehouse_prod_AAAAAAAAAAAA_0123456789abcdefghijABCDEFGHIJ0123456789abc_000000', 'key_malformed'],
    ['gatehouse_live_AAAAAAAAAAAA_0123456789abcdefghijABCDEFGHIJ0123456789abc_000000', 'key_checksum'],
  ])('refuses %j as %s', (value, reason) => {
    expect(parseApiKey(value, 'live')).toEqual({ ok: false, reason });
  });

  it('refuses a well-formed key of the other environment', () => {
    expect(parseApiKey(mintApiKey('test').key, 'live')).toEqual({ ok: false, reason: 'key_environment' });
  });

  it('detects any single-character change through the checksum or the shape', () => {
    const { key } = mintApiKey('live');
    fc.assert(
      fc.property(fc.nat(key.length - 1), fc.constantFrom(...'0123456789abcXYZ_-'), (index, char) => {
        fc.pre(key[index] !== char);
        const changed = key.slice(0, index) + char + key.slice(index + 1);
        expect(parseApiKey(changed, 'live').ok).toBe(false);
      }),
    );
  });
});

describe('secret hashes', () => {
  it('matches the secret it was made from, with and without a pepper', () => {
    expect(secretMatches('s3cret', hashSecret('s3cret', undefined), undefined)).toBe(true);
    expect(secretMatches('s3cret', hashSecret('s3cret', 'pepper-0123456789'), 'pepper-0123456789')).toBe(
      true,
    );
  });

  it('does not match another secret or another pepper', () => {
    expect(secretMatches('other', hashSecret('s3cret', undefined), undefined)).toBe(false);
    expect(secretMatches('s3cret', hashSecret('s3cret', 'pepper-0123456789'), 'pepper-9876543210')).toBe(
      false,
    );
  });

  it('stores the algorithm beside the digest and never the secret', () => {
    const stored = hashSecret('s3cret-value', 'pepper-0123456789');
    expect(stored).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('s3cret-value');
  });

  it('throws PepperMissingError for a peppered hash when no pepper is configured', () => {
    const stored = hashSecret('s3cret', 'pepper-0123456789');
    expect(() => secretMatches('s3cret', stored, undefined)).toThrow(PepperMissingError);
  });

  it('does not match a hash of an unknown algorithm', () => {
    expect(secretMatches('s3cret', 'md5:abc', undefined)).toBe(false);
  });
});
