import { createHash, createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Gatehouse API keys: `gatehouse_<env>_<keyId>_<secret>_<checksum>`.
 *
 * - `gatehouse_` names the project and `<env>` (`live` / `test`) the environment, so a secret scanner
 *   can recognize a key with one regular expression and tell a production leak from a test one;
 * - `<keyId>`: 12 base62 characters (~71 bits), public, the DynamoDB lookup key;
 * - `<secret>`: 32 random bytes (256 bits) in 43 base62 characters; only its hash is stored;
 * - `<checksum>`: CRC32 of everything before it, 6 base62 characters, as GitHub's token format does:
 *   a typo is refused without a database read, and a secret scanner can tell a real key from a
 *   look-alike string. It is no defence: anyone can compute it, so a forged key with a valid
 *   checksum still costs a read (bounded by the unknown-id cache and the API's rate limits).
 * Base62 keeps the key one "word" (double-click selects it) and `_` an unambiguous separator.
 */
export const API_KEY_PREFIX = 'gatehouse';

/** Environments a key can be minted for. */
export const KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type KeyEnvironment = (typeof KEY_ENVIRONMENTS)[number];

export const KEY_ID_LENGTH = 12;
export const SECRET_BYTES = 32;
const SECRET_LENGTH = 43; // ceil(256 / log2(62))
const CHECKSUM_LENGTH = 6; // 62^6 > 2^32

/** Every well-formed key, any environment (for secret scanners and docs). */
export const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}_(live|test)_([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})_([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

/** A key id on its own (CLI arguments, records). */
export const KEY_ID_PATTERN = new RegExp(`^[0-9A-Za-z]{${KEY_ID_LENGTH}}$`);

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Fixed-width base62 of a non-negative integer. */
function base62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, '0');
}

function checksumOf(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

/** Uniform random base62 characters (rejection sampling: bytes >= 248 would bias the modulo). */
function randomBase62(length: number, random: (n: number) => Buffer): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** A freshly minted key: the full key (shown once) and the parts that are stored. */
export interface MintedKey {
  /** The complete key to hand to the client. Never stored, never logged. */
  readonly key: string;
  readonly keyId: string;
  /** The secret part, to be hashed. */
  readonly secret: string;
}

/** Mints a key; `keyId` is kept when rotating. `random` is a parameter for tests. */
export function mintApiKey(
  environment: KeyEnvironment,
  keyId?: string,
  random: (n: number) => Buffer = randomBytes,
): MintedKey {
  const id = keyId ?? randomBase62(KEY_ID_LENGTH, random);
  const secret = base62(BigInt(`0x${random(SECRET_BYTES).toString('hex')}`), SECRET_LENGTH);
  const body = `${API_KEY_PREFIX}_${environment}_${id}_${secret}`;
  return { key: `${body}_${checksumOf(body)}`, keyId: id, secret };
}

/** Why a presented key was refused without a lookup (401). */
export type KeyFormatProblem = 'key_malformed' | 'key_checksum' | 'key_environment';

export type ParsedKey =
  | { readonly ok: true; readonly keyId: string; readonly secret: string }
  | { readonly ok: false; readonly reason: KeyFormatProblem };

/** Value of one base62 character (-1 for any other character). */
const BASE62_VALUE = new Int8Array(128).fill(-1);
for (let n = 0; n < ALPHABET.length; n++) BASE62_VALUE[ALPHABET.charCodeAt(n)] = n;

/** The number a base62 checksum stands for (6 characters: below 2^53, so exact). */
function checksumValue(text: string): number {
  let value = 0;
  for (let n = 0; n < text.length; n++) value = value * 62 + (BASE62_VALUE[text.charCodeAt(n)] as number);
  return value;
}

/**
 * Checks a presented key's shape, checksum and environment. Pure and cheap: a typo or junk never
 * reaches DynamoDB. A forged key with a computed checksum does (see the format notes above).
 */
export function parseApiKey(value: string, environment: KeyEnvironment): ParsedKey {
  const match = API_KEY_PATTERN.exec(value);
  if (match === null) return { ok: false, reason: 'key_malformed' };
  // Compared as numbers: decoding six characters is cheaper than encoding the CRC with BigInt.
  if (checksumValue(match[4] as string) !== crc32(value.slice(0, value.length - CHECKSUM_LENGTH - 1)))
    return { ok: false, reason: 'key_checksum' };
  if (match[1] !== environment) return { ok: false, reason: 'key_environment' };
  return { ok: true, keyId: match[2] as string, secret: match[3] as string };
}

/** How a secret's hash was computed (stored beside it, so a pepper can be introduced later). */
export type SecretHashAlgorithm = 'sha256' | 'hmac-sha256';

/** A stored secret hash: `<algorithm>:<base64url digest>`. */
export function hashSecret(secret: string, pepper: string | undefined): string {
  if (pepper === undefined) return `sha256:${createHash('sha256').update(secret).digest('base64url')}`;
  return `hmac-sha256:${createHmac('sha256', pepper).update(secret).digest('base64url')}`;
}

/** Thrown when a stored hash needs a pepper the function was not given (a configuration fault: 500). */
export class PepperMissingError extends Error {
  override readonly name = 'PepperMissingError';
}

/**
 * SHA-256 of a secret, base64url: the form `sha256:` hashes are stored in. One-shot `crypto.hash`
 * (no hash object per call): it is what a warm authorizer spends on every request it has seen before.
 */
export function secretDigest(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

/** Whether two strings are equal, in a time that depends on their length only (no early exit). */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let n = 0; n < a.length; n++) difference |= a.charCodeAt(n) ^ b.charCodeAt(n);
  return difference === 0;
}

/** A stored secret hash, decoded once, that presented secrets are checked against. */
export interface SecretHash {
  /**
   * Whether `secret` hashes to the stored digest, compared in constant time. `digest` is the
   * secret's {@link secretDigest}, which the caller has computed already.
   */
  matches(secret: string, digest: string): boolean;
}

const NEVER: SecretHash = Object.freeze({ matches: () => false });

/**
 * Decodes a stored hash once: checking a `sha256:` hash then costs nothing beyond the digest the
 * caller has, an `hmac-sha256:` hash one HMAC. An unknown algorithm matches nothing; a peppered hash
 * without the pepper throws {@link PepperMissingError}.
 */
export function compileSecretHash(stored: string, pepper: string | undefined): SecretHash {
  const colon = stored.indexOf(':');
  const algorithm = stored.slice(0, colon) as SecretHashAlgorithm;
  if (algorithm === 'hmac-sha256' && pepper === undefined)
    throw new PepperMissingError(
      'a key hash needs the pepper (API_KEY_PEPPER_SECRET_ARN, or API_KEY_PEPPER in local runs), which is not set',
    );
  if (algorithm !== 'sha256' && algorithm !== 'hmac-sha256') return NEVER;
  const expected = Buffer.from(stored.slice(colon + 1), 'base64url');
  if (algorithm === 'sha256') {
    const canonical = expected.toString('base64url');
    return { matches: (_secret, digest) => constantTimeEqual(digest, canonical) };
  }
  return {
    matches(secret) {
      const actual = createHmac('sha256', pepper as string)
        .update(secret)
        .digest();
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}

/**
 * Whether `secret` matches a stored hash. The digests are compared in constant time, so the
 * comparison time says nothing about how many leading bytes matched.
 */
export function secretMatches(secret: string, stored: string, pepper: string | undefined): boolean {
  return compileSecretHash(stored, pepper).matches(secret, secretDigest(secret));
}
