import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenKey, VerifiedTokenCache } from '../../../shared/jwt/token-cache.ts';

describe('VerifiedTokenCache', () => {
  it('answers only for the very token stored under a key', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set(7, 'header.payload.tail', 'claims', 2_000);

    expect(cache.get(7, 'header.payload.tail', 1_000)).toBe('claims');
    expect(cache.get(7, 'header.forged.tail', 1_000)).toBeUndefined();
    expect(cache.get(7, 'header.payload.tail', 1_000)).toBe('claims');
  });

  it('stops answering at the expiry time', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set(1, 't', 'v', 2_000);
    expect(cache.get(1, 't', 1_999)).toBe('v');
    expect(cache.get(1, 't', 2_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps a recently used entry over an unused one when full (second chance)', () => {
    const cache = new VerifiedTokenCache<number>(2);
    cache.set(1, 'ta', 1, 10_000);
    cache.set(2, 'tb', 2, 10_000);
    cache.get(1, 'ta', 0);
    cache.set(3, 'tc', 3, 10_000);

    expect(cache.get(1, 'ta', 0)).toBe(1);
    expect(cache.get(2, 'tb', 0)).toBeUndefined();
    expect(cache.get(3, 'tc', 0)).toBe(3);
  });

  it('caches nothing with capacity 0', () => {
    const cache = new VerifiedTokenCache<number>(0);
    cache.set(1, 'ta', 1, 10_000);
    expect(cache.get(1, 'ta', 0)).toBeUndefined();
  });

  it('never holds more than its capacity, whatever the sequence of sets and gets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 200 }),
        (capacity, ops) => {
          const cache = new VerifiedTokenCache<number>(capacity);
          for (const [isSet, n] of ops) {
            if (isSet) cache.set(n, `t${n}`, n, 10_000);
            else {
              const got = cache.get(n, `t${n}`, 0);
              if (got !== undefined) expect(got).toBe(n);
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
          }
        },
      ),
    );
  });

  it('keys a token by the end of its signature only', () => {
    const signature = 'A'.repeat(300) + 'x'.repeat(43);
    expect(tokenKey(`h1.p1.${signature}`)).toBe(tokenKey(`h2.p2.${signature}`));
    expect(tokenKey(`h.p.${signature}`)).not.toBe(tokenKey(`h.p.${signature.slice(0, -1)}y`));
  });
});
