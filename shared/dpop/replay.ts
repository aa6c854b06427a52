/**
 * DPoP proof replay protection (RFC 9449 §11.1): a proof's `jti` is accepted once for its `htu`
 * while the proof could still be accepted (until its `iat` leaves the window).
 */
import { createHash } from 'node:crypto';

/** The outcome of claiming a proof. */
export type ClaimResult = 'fresh' | 'replayed';

/**
 * Where seen proofs are recorded. `claim` is atomic: of any number of concurrent claims of the same
 * `jti` and `htu`, exactly one is `fresh`. It rejects with {@link ReplayStoreUnavailableError} when
 * it cannot answer; the caller must then fail (5xx), never accept the proof.
 */
export interface ProofReplayStore {
  /**
   * Records the proof unless it was recorded before and has not expired.
   * @param jti the proof's `jti`
   * @param htu the normalised public URL the proof is for
   * @param expiresAt epoch milliseconds after which the proof is stale anyway (its `iat` + window)
   */
  claim(jti: string, htu: string, expiresAt: number): Promise<ClaimResult>;
}

/** Why a replay store could not answer. */
export type ReplayStoreFailure =
  | 'replay_store_full'
  | 'replay_store_unavailable'
  | 'replay_store_timeout'
  | 'replay_store_throttled'
  | 'replay_store_denied'
  | 'replay_store_missing';

/** The store could not answer: a dependency failure, never a reason to accept a proof. */
export class ReplayStoreUnavailableError extends Error {
  override readonly name = 'ReplayStoreUnavailableError';
  readonly reason: ReplayStoreFailure;

  constructor(reason: ReplayStoreFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * The record key of a proof: SHA-256 over `htu` and `jti`, so keys have a fixed size whatever the
 * client sent and the table holds no URL or client-chosen text. The `iat` is deliberately left
 * out: a `jti` is used once for the whole acceptance window, not once per `iat`.
 */
export function replayKey(jti: string, htu: string): string {
  return createHash('sha256').update(htu).update('\n').update(jti).digest('base64url');
}

/** Options of {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most proofs remembered at once. When every slot holds an unexpired proof, claims fail closed. */
  readonly capacity: number;
  /** The clock (epoch milliseconds). */
  readonly now: () => number;
}

/**
 * Remembers proofs in this process only.
 *
 * What it does NOT stop: a replay that reaches another Lambda container (every warm container
 * has its own memory, and API Gateway spreads requests across them), a replay after the container
 * was recycled or cold-started, and a replay to another deployment of the function. An attacker who
 * captured a proof can therefore use it roughly once per container within the `iat` window. Use it
 * for local development and single-process servers; use the DynamoDB store in AWS.
 *
 * When full of unexpired proofs it refuses new claims (`replay_store_full`) rather than forgetting
 * one that could then be replayed.
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions): ProofReplayStore {
  if (!Number.isInteger(options.capacity) || options.capacity < 1)
    throw new RangeError('memoryReplayStore: capacity must be a positive integer');
  // Insertion order is expiry order when every proof gets the same window, so the oldest entries
  // are swept first; a proof with a later expiry inserted earlier only delays the sweep.
  const seen = new Map<string, number>();
  const sweep = (now: number) => {
    for (const [key, expiresAt] of seen) {
      if (expiresAt > now) break;
      seen.delete(key);
    }
  };
  return {
    async claim(jti, htu, expiresAt) {
      const now = options.now();
      const key = replayKey(jti, htu);
      const previous = seen.get(key);
      if (previous !== undefined && previous > now) return 'replayed';
      sweep(now);
      if (seen.size >= options.capacity) {
        // Out-of-order expiries can hide behind a later one: one full pass before giving up.
        for (const [k, e] of seen) if (e <= now) seen.delete(k);
        if (seen.size >= options.capacity)
          throw new ReplayStoreUnavailableError(
            'replay_store_full',
            `the in-memory DPoP replay store holds ${options.capacity} unexpired proofs`,
          );
      }
      seen.delete(key);
      seen.set(key, expiresAt);
      return 'fresh';
    },
  };
}
