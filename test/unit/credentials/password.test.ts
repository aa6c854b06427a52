import { describe, expect, it } from 'vitest';
import {
  createPasswordHasher,
  type DeriveFn,
  decodeBasic,
  decodePasswordHash,
  type ScryptParams,
  scryptDerive,
} from '../../../shared/credentials/password.ts';

const CHEAP: ScryptParams = { N: 1024, r: 8, p: 1, keylen: 32 };
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('scrypt password hashes', () => {
  it('verifies the password it was made from and refuses another', async () => {
    // Arrange
    const hasher = createPasswordHasher({ params: CHEAP });
    const stored = await hasher.hash('correct horse battery');

    // Act / Assert
    expect(await hasher.verify('correct horse battery', stored)).toBe(true);
    expect(await hasher.verify('correct horse battery!', stored)).toBe(false);
  });

  it('stores the cost parameters and salt beside the hash, so they can be raised later', async () => {
    const hasher = createPasswordHasher({ params: CHEAP });
    const stored = await hasher.hash('correct horse battery');
    expect(stored).toMatch(/^scrypt\$N=1024,r=8,p=1,l=32\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(decodePasswordHash(stored)?.params).toEqual(CHEAP);
    // A hash made with other parameters still verifies with a hasher whose defaults changed.
    expect(
      await createPasswordHasher({ params: { ...CHEAP, N: 2048 } }).verify('correct horse battery', stored),
    ).toBe(true);
  });

  it('salts: the same password hashes differently twice', async () => {
    const hasher = createPasswordHasher({ params: CHEAP });
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it.each([
    'scrypt$N=1000,r=8,p=1,l=32$c2FsdA$aGFzaA', // N not a power of two
    'scrypt$N=1073741824,r=8,p=1,l=32$c2FsdA$aGFzaA', // N absurdly large (memory bomb)
    'scrypt$N=1024,r=8,p=1,l=32$c2FsdA$aGFzaA', // hash length does not match l
    'bcrypt$2b$10$abc',
  ])('refuses an unreadable or dangerous stored hash %s', async (stored) => {
    expect(decodePasswordHash(stored)).toBeUndefined();
    expect(await createPasswordHasher({ params: CHEAP }).verify('whatever', stored)).toBe(false);
  });

  it('runs the same derivation, with the same parameters, for an unknown user (dummy hash)', async () => {
    // Arrange: count the derivations and their parameters on both paths.
    const calls: ScryptParams[] = [];
    const derive: DeriveFn = (password, salt, params) => {
      calls.push(params);
      return scryptDerive(password, salt, params);
    };
    const hasher = createPasswordHasher({ derive, params: CHEAP });
    const stored = await hasher.hash('the real password');
    calls.length = 0;

    // Act
    const known = await hasher.verify('a wrong password', stored);
    const unknown = await hasher.verifyDummy('a wrong password');

    // Assert
    expect([known, unknown]).toEqual([false, false]);
    expect(calls).toEqual([CHEAP, CHEAP]);
  });

  it('spends comparable time on a wrong password and on an unknown user (loose bound)', async () => {
    const hasher = createPasswordHasher({ params: { N: 16384, r: 8, p: 1, keylen: 32 } });
    const stored = await hasher.hash('the real password');
    const time = async (run: () => Promise<boolean>) => {
      const started = performance.now();
      for (let i = 0; i < 3; i++) await run();
      return performance.now() - started;
    };
    const wrong = await time(() => hasher.verify('a wrong password', stored));
    const unknown = await time(() => hasher.verifyDummy('a wrong password'));
    // Same work on both paths: neither takes less than a third of the other, even on a busy box.
    expect(unknown).toBeGreaterThan(wrong / 3);
    expect(wrong).toBeGreaterThan(unknown / 3);
  });
});

describe('HTTP Basic credentials (RFC 7617)', () => {
  it('splits at the first colon: the password may contain colons', () => {
    expect(decodeBasic(b64('alice:pa:ss:word'))).toEqual({
      ok: true,
      username: 'alice',
      password: 'pa:ss:word',
    });
  });

  it('decodes UTF-8 passwords', () => {
    expect(decodeBasic(b64('alice:pässwörd'))).toEqual({ ok: true, username: 'alice', password: 'pässwörd' });
  });

  it.each([
    ['no colon', b64('alice')],
    ['empty user', b64(':password')],
    ['empty password', b64('alice:')],
    ['not base64', 'alice:password'],
    ['bad padding', 'YWxpY2U6cGFzc3dvcmQ'],
    ['invalid UTF-8', Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')],
    ['control character', b64('alice:pass\nword')],
    ['username with a space', b64('al ice:password')],
    ['huge password', b64(`alice:${'x'.repeat(2000)}`)],
  ])('refuses %s as basic_malformed', (_name, encoded) => {
    expect(decodeBasic(encoded)).toEqual({ ok: false, reason: 'basic_malformed' });
  });
});
