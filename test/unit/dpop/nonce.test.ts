import { describe, expect, it } from 'vitest';
import { createNonceAuthority, NonceConfigError } from '../../../shared/dpop/nonce.ts';

const T = 1_750_000_000_000;
const secret = Buffer.alloc(32, 1);

describe('DPoP nonces', () => {
  const nonces = createNonceAuthority({ secrets: [secret], windowSeconds: 60 });

  it('accepts its own nonce in the window it was issued and the next, not later', () => {
    const nonce = nonces.issue(T);
    expect(nonces.accepts(nonce, T)).toBe(true);
    expect(nonces.accepts(nonce, T + 60_000)).toBe(true);
    expect(nonces.accepts(nonce, T + 120_000)).toBe(false);
  });

  it('refuses a nonce from the future, a tampered one and junk', () => {
    expect(nonces.accepts(nonces.issue(T + 60_000), T)).toBe(false);
    const [window, mac] = nonces.issue(T).split('.') as [string, string];
    expect(nonces.accepts(`${window}.${mac.slice(0, -2)}AA`, T)).toBe(false);
    expect(nonces.accepts(`${(Number.parseInt(window, 36) - 1).toString(36)}.${mac}`, T)).toBe(false);
    for (const junk of ['', '.', 'abc', `${window}.`, `${window}.${mac}.x`])
      expect(nonces.accepts(junk, T)).toBe(false);
  });

  it('is the same in every container holding the secret, and rotates', () => {
    const other = createNonceAuthority({ secrets: [secret], windowSeconds: 60 });
    expect(other.accepts(nonces.issue(T), T)).toBe(true);
    const rotated = createNonceAuthority({ secrets: [Buffer.alloc(32, 2), secret], windowSeconds: 60 });
    expect(rotated.accepts(nonces.issue(T), T)).toBe(true);
    expect(nonces.accepts(rotated.issue(T), T)).toBe(false);
  });

  it.each([
    ['no secret', { secrets: [], windowSeconds: 60 }],
    ['a short secret', { secrets: [Buffer.alloc(16)], windowSeconds: 60 }],
    ['a tiny window', { secrets: [secret], windowSeconds: 1 }],
  ])('refuses to start with %s', (_case, options) => {
    expect(() => createNonceAuthority(options)).toThrow(NonceConfigError);
  });
});
