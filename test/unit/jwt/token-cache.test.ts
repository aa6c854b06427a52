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

  it('makes room in a pair of slots by replacing the one used less recently', () => {
    // Capacity 2: one pair, every key lands in it.
    const cache = new VerifiedTokenCache<number>(2);
    cache.set(1, 'ta', 1, 10_000);
    cache.set(2, 'tb', 2, 10_000);
    cache.get(1, 'ta', 0);
    cache.set(3, 'tc', 3, 10_000);

    expect(cache.get(1, 'ta', 0)).toBe(1);
    expect(cache.get(2, 'tb', 0)).toBeUndefined();
    expect(cache.get(3, 'tc', 0)).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('keeps one entry per token when the same token is stored again', () => {
    const cache = new VerifiedTokenCache<number>(2);
    cache.set(1, 'ta', 1, 10_000);
    cache.set(1, 'ta', 2, 10_000);
    expect(cache.size).toBe(1);
    expect(cache.get(1, 'ta', 0)).toBe(2);
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
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3 })), {
          maxLength: 200,
        }),
        (capacity, ops) => {
          const cache = new VerifiedTokenCache<number>(capacity);
          let last: readonly [number, string] | undefined;
          for (const [isSet, n, variant] of ops) {
            // Several tokens share each key: only the very token stored may answer.
            const token = `t${n}-${variant}`;
            if (isSet) {
              cache.set(n, token, n * 10 + variant, 10_000);
              last = [n, token];
            } else {
              const got = cache.get(n, token, 0);
              if (got !== undefined) expect(got).toBe(n * 10 + variant);
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
            // The token stored last is always there.
            if (last !== undefined) expect(cache.get(last[0], last[1], 0)).toBeDefined();
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
