/**
 * Server-issued DPoP nonces (RFC 9449 §8, §9) without shared state: a nonce is the number of a
 * time window plus an HMAC of it, so every Lambda container holding the secret issues and checks
 * the same nonces. A nonce is accepted in the window it was issued in and the next one, so it lives
 * between one and two windows. It limits how long a pre-computed proof is useful; it is no
 * replacement for the `jti` replay check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Shortest accepted secret, in bytes. */
export const MIN_NONCE_SECRET_BYTES = 32;
const LABEL = 'gatehouse-dpop-nonce-v1';
const MAC_BYTES = 16;
const NONCE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;

/** Issues and checks nonces. */
export interface NonceAuthority {
  /** The nonce to hand out at `nowMs` (send it in a `DPoP-Nonce` header). */
  issue(nowMs: number): string;
  /** Whether `nonce` was issued by a holder of the secrets in this window or the previous one. */
  accepts(nonce: string, nowMs: number): boolean;
}

/** Options of {@link createNonceAuthority}. */
export interface NonceOptions {
  /**
   * HMAC keys, at least 32 bytes each. The first issues nonces; all of them are accepted, so a
   * secret can be rotated by putting the new one first and dropping the old one a window later.
   */
  readonly secrets: readonly Buffer[];
  /** Length of one window in seconds. */
  readonly windowSeconds: number;
}

/** Thrown at init for unusable nonce options. */
export class NonceConfigError extends Error {
  override readonly name = 'NonceConfigError';
}

function mac(secret: Buffer, window: number): Buffer {
  return createHmac('sha256', secret).update(`${LABEL}:${window}`).digest().subarray(0, MAC_BYTES);
}

/** A stateless nonce authority. Refuses to start with a short secret or a nonsensical window. */
export function createNonceAuthority(options: NonceOptions): NonceAuthority {
  if (options.secrets.length === 0) throw new NonceConfigError('at least one nonce secret is required');
  if (options.secrets.some((s) => s.length < MIN_NONCE_SECRET_BYTES))
    throw new NonceConfigError(`every nonce secret must be at least ${MIN_NONCE_SECRET_BYTES} bytes`);
  if (!Number.isInteger(options.windowSeconds) || options.windowSeconds < 10 || options.windowSeconds > 3600)
    throw new NonceConfigError('the nonce window must be a whole number of seconds between 10 and 3600');
  const secrets = [...options.secrets];
  const windowMs = options.windowSeconds * 1000;
  const windowAt = (nowMs: number) => Math.floor(nowMs / windowMs);
  return {
    issue(nowMs) {
      const window = windowAt(nowMs);
      return `${window.toString(36)}.${mac(secrets[0] as Buffer, window).toString('base64url')}`;
    },
    accepts(nonce, nowMs) {
      const match = NONCE.exec(nonce);
      if (match === null) return false;
      const window = Number.parseInt(match[1] as string, 36);
      const current = windowAt(nowMs);
      if (window !== current && window !== current - 1) return false;
      const given = Buffer.from(match[2] as string, 'base64url');
      if (given.length !== MAC_BYTES) return false;
      // Every secret is checked (no early exit), so timing does not tell which one matched.
      let ok = false;
      for (const secret of secrets) ok = timingSafeEqual(given, mac(secret, window)) || ok;
      return ok;
    },
  };
}
