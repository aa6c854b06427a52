import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters, stored beside each hash so they can be raised later without a reset. */
export interface ScryptParams {
  /** CPU/memory cost (a power of two). */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelization. */
  readonly p: number;
  /** Derived key length in bytes. */
  readonly keylen: number;
}

/**
 * Default cost: N=2^15, r=8 (32 MiB, ~50–100 ms on a Lambda core). OWASP's floor for scrypt is
 * N=2^17 for interactive logins; an authorizer answers every request (with a per-container cache of
 * verified credentials), so it uses a lower N and relies on lockout against online guessing.
 */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 32768, r: 8, p: 1, keylen: 32 });

/** The key derivation, a parameter so tests can count calls (the dummy path must call it too). */
export type DeriveFn = (password: string, salt: Buffer, params: ScryptParams) => Promise<Buffer>;

/** node:crypto scrypt, asynchronous (libuv thread pool) so one login does not block the event loop. */
export const scryptDerive: DeriveFn = (password, salt, params) =>
  new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes plus slack, or node refuses large N.
    const maxmem = 256 * params.N * params.r;
    scrypt(password, salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });

/** A decoded stored hash: `scrypt$N=..,r=..,p=..,l=..$<salt>$<hash>` (base64url). */
interface StoredHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Encodes a hash for storage. */
function encode(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `scrypt$N=${params.N},r=${params.r},p=${params.p},l=${params.keylen}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Decodes a stored hash, or undefined when it is not one this code understands. */
export function decodePasswordHash(stored: string): StoredHash | undefined {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+),l=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (m === null) return undefined;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]), keylen: Number(m[4]) };
  // Bounds keep a tampered record from making the function allocate gigabytes.
  const powerOfTwo = (params.N & (params.N - 1)) === 0;
  if (!powerOfTwo || params.N < 2 ** 10 || params.N > 2 ** 20 || params.r < 1 || params.r > 32)
    return undefined;
  if (params.p < 1 || params.p > 16 || params.keylen < 16 || params.keylen > 64) return undefined;
  const hash = Buffer.from(m[6] as string, 'base64url');
  if (hash.length !== params.keylen) return undefined;
  return { params, salt: Buffer.from(m[5] as string, 'base64url'), hash };
}

/** Checks and hashes passwords; one instance per function (it holds the dummy hash). */
export interface PasswordHasher {
  /** A new salted hash for storage. */
  hash(password: string, params?: ScryptParams): Promise<string>;
  /** Whether the password matches the stored hash (false for an unreadable hash). */
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * Spends the same work as {@link verify} against a dummy hash and returns false: an unknown user
   * takes as long as a wrong password, so response times do not reveal which usernames exist.
   */
  verifyDummy(password: string): Promise<false>;
}

/** The scrypt hasher. `derive` and `params` are parameters for tests. */
export function createPasswordHasher(
  options: { derive?: DeriveFn; params?: ScryptParams } = {},
): PasswordHasher {
  const derive = options.derive ?? scryptDerive;
  const defaults = options.params ?? DEFAULT_SCRYPT;
  // The dummy needs no real password behind it: random bytes compare as "no match" in equal time.
  const dummy: StoredHash = { params: defaults, salt: randomBytes(16), hash: randomBytes(defaults.keylen) };
  const check = async (password: string, stored: StoredHash) => {
    const actual = await derive(password, stored.salt, stored.params);
    return actual.length === stored.hash.length && timingSafeEqual(actual, stored.hash);
  };
  return {
    async hash(password, params = defaults) {
      const salt = randomBytes(16);
      return encode(params, salt, await derive(password, salt, params));
    },
    async verify(password, stored) {
      const decoded = decodePasswordHash(stored);
      if (decoded === undefined) {
        await check(password, dummy);
        return false;
      }
      return check(password, decoded);
    },
    async verifyDummy(password) {
      await check(password, dummy);
      return false;
    },
  };
}

/** Usernames: what the store can key on and a log can show. Anything else is refused unread. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

/** The longest password read at all (scrypt of a huge input is a cheap way to burn CPU). */
export const MAX_PASSWORD_LENGTH = 1024;

export type BasicCredentials =
  | { readonly ok: true; readonly username: string; readonly password: string }
  | { readonly ok: false; readonly reason: 'basic_malformed' };

/** One strict decoder, reused: constructing one per request costs more than the decoding. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an RFC 7617 `Basic` credential (the part after the scheme). The user-id cannot contain a
 * colon (§2), so the first colon splits. Strict base64, UTF-8, no control characters.
 */
export function decodeBasic(encoded: string): BasicCredentials {
  const malformed = { ok: false, reason: 'basic_malformed' } as const;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return malformed;
  const bytes = Buffer.from(encoded, 'base64');
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return malformed;
  }
  const colon = text.indexOf(':');
  if (colon <= 0) return malformed;
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (!USERNAME_PATTERN.test(username) || /[\x00-\x1f\x7f]/.test(password)) return malformed;
  if (password === '' || password.length > MAX_PASSWORD_LENGTH) return malformed;
  return { ok: true, username, password };
}
