/**
 * The AWS edge of shared/secrets: one call, GetSecretValue, through shared/aws/json-call.ts
 * (Secrets Manager's JSON 1.1 protocol, SigV4-signed, node:https).
 *
 * Not @aws-sdk/client-secrets-manager: for one call it brings the SDK's core into the bundle, which
 * the request validator has no other use for (measured: 169,787 B of its minified bundle and about
 * 45 ms of cold start, docs/deploy.md#secrets). What the client did is kept: credentials from the
 * environment (Lambda sets them for the execution role), a connect and a request timeout, one
 * retry for throttling or a transient failure, and a hard deadline for the whole read.
 */
import type { AwsCredentials } from '../aws/credentials.ts';
import { awsJsonClient, SECRETS_MANAGER } from '../aws/json-call.ts';
import type { SecretsManagerSettings } from './config.ts';
import { cachedSecret, type SecretReader, SecretUnavailableError, type SecretValue } from './secret-value.ts';

/** The largest answer read: a secret value is at most 64 KiB, its JSON envelope a little more. */
export const MAX_SECRET_ANSWER_BYTES = 256 * 1024;

/**
 * Reads a secret's current (AWSCURRENT) string value through GetSecretValue; rejects with the
 * call's {@link AwsCallError}, or a {@link SecretUnavailableError} for a secret without a string.
 */
export function secretsManagerReader(
  settings: SecretsManagerSettings,
  credentials: AwsCredentials,
): SecretReader {
  const client = awsJsonClient({
    service: SECRETS_MANAGER,
    region: settings.region,
    endpoint: settings.endpoint,
    credentials,
    connectTimeoutMs: settings.connectTimeoutMs,
    requestTimeoutMs: settings.requestTimeoutMs,
    maxAttempts: settings.maxAttempts,
    maxResponseBytes: MAX_SECRET_ANSWER_BYTES,
    // A read happens once per TTL (minutes): an idle connection would be closed by then.
    keepAlive: false,
  });
  return {
    async read(secretId) {
      // The budget of the whole read, retries included: a server that accepts and never answers
      // cannot hold the function longer than budgetMs.
      const answer = await client.call(
        'GetSecretValue',
        { SecretId: secretId },
        { budgetMs: settings.budgetMs },
      );
      const value = answer.SecretString;
      if (typeof value !== 'string' || value === '')
        throw new SecretUnavailableError(`secret ${secretId} has no string value`);
      return value;
    },
  };
}

/** A Secrets Manager secret, cached and refreshed as `settings` say. */
export function secretsManagerSecret(
  settings: SecretsManagerSettings,
  secretId: string,
  options: {
    /** Smallest usable length of the value. */
    readonly minLength: number;
    /** What the read is signed with (the function's: shared/aws/credentials.ts). */
    readonly credentials: AwsCredentials;
    readonly onStale?: (error: unknown) => void;
    readonly clock?: () => number;
  },
): SecretValue {
  return cachedSecret(secretsManagerReader(settings, options.credentials), {
    secretId,
    ttlMs: settings.ttlMs,
    missIntervalMs: settings.missIntervalMs,
    retryMs: settings.retryMs,
    check: (value) =>
      value.length < options.minLength ? `is shorter than ${options.minLength} characters` : undefined,
    clock: options.clock ?? Date.now,
    ...(options.onStale === undefined ? {} : { onStale: options.onStale }),
  });
}
