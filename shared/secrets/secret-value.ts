/**
 * Secrets read at run time (docs/deploy.md#secrets): a value is cached for a TTL, re-read after it,
 * and re-read early (at most once per interval) when a caller reports that the value it used did
 * not verify, so a rotated secret is picked up without a deploy. Pure: the reader and the clock
 * come in as parameters.
 */

/** Reads the current string value of a secret (Secrets Manager in AWS; a fake in tests). */
export interface SecretReader {
  /** Resolves the secret's value; rejects when it cannot be read. */
  read(secretId: string): Promise<string>;
}

/** A secret as a function uses it. */
export interface SecretValue {
  /**
   * The current value: cached, re-read after the TTL. Rejects with {@link SecretUnavailableError}
   * only when no value was ever read; after that a failed re-read serves the previous value.
   */
  get(): Promise<string>;
  /**
   * Reports that a check with the current value failed (a hash or signature mismatch) and the
   * value may have changed: re-reads it, at most once per interval. Resolves true when the value
   * changed (the caller then checks again); never rejects.
   */
  refreshAfterMiss(): Promise<boolean>;
}

/** A secret could not be read and there is no earlier value to serve. Names the secret, never a value. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** How a cached secret behaves. */
export interface CachedSecretOptions {
  /** The secret's ARN or name. */
  readonly secretId: string;
  /** How long a value is used before it is read again. */
  readonly ttlMs: number;
  /** Shortest time between two re-reads triggered by {@link SecretValue.refreshAfterMiss}. */
  readonly missIntervalMs: number;
  /** After a failed re-read the previous value is served; the next attempt waits this long. */
  readonly retryMs: number;
  /** Refuses an unusable value (e.g. too short): returns why, or undefined when it is fine. */
  readonly check?: (value: string) => string | undefined;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** Told when a re-read failed and the previous value is still served. */
  readonly onStale?: (error: unknown) => void;
}

/** A value that never changes: a local run's plain value, or a test's. */
export function staticSecret(value: string): SecretValue {
  return { get: async () => value, refreshAfterMiss: async () => false };
}

/** A secret read through `reader`, cached as {@link CachedSecretOptions} says. */
export function cachedSecret(reader: SecretReader, options: CachedSecretOptions): SecretValue {
  let value: string | undefined;
  let expiresAt = Number.NEGATIVE_INFINITY;
  let lastMissRead = Number.NEGATIVE_INFINITY;
  let inflight: Promise<string> | undefined;

  async function readChecked(): Promise<string> {
    const read = await reader.read(options.secretId);
    const problem = options.check?.(read);
    if (problem !== undefined) throw new SecretUnavailableError(`secret ${options.secretId} ${problem}`);
    return read;
  }

  function load(): Promise<string> {
    // One read at a time: concurrent callers share it.
    inflight ??= readChecked()
      .then(
        (read) => {
          value = read;
          expiresAt = options.clock() + options.ttlMs;
          return read;
        },
        (err: unknown) => {
          if (value === undefined)
            throw err instanceof SecretUnavailableError
              ? err
              : new SecretUnavailableError(`secret ${options.secretId} could not be read`, { cause: err });
          expiresAt = options.clock() + options.retryMs;
          options.onStale?.(err);
          return value;
        },
      )
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  return {
    get() {
      return value !== undefined && options.clock() < expiresAt ? Promise.resolve(value) : load();
    },
    async refreshAfterMiss() {
      // A miss is caller-controlled (anyone can send a wrong key): rate-limited, so misses cannot
      // turn into a flood of reads.
      const now = options.clock();
      if (now - lastMissRead < options.missIntervalMs) return false;
      lastMissRead = now;
      const before = value;
      if (inflight === undefined) expiresAt = Number.NEGATIVE_INFINITY;
      try {
        return (await load()) !== before;
      } catch {
        return false;
      }
    },
  };
}
