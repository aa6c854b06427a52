/** The AWS edge of shared/secrets: GetSecretValue through the AWS SDK. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerSettings } from './config.ts';
import { cachedSecret, type SecretReader, type SecretValue } from './secret-value.ts';

/** A Secrets Manager client with tight timeouts and bounded retries, so an outage fails fast. */
export function createSecretsManagerClient(settings: SecretsManagerSettings): SecretsManagerClient {
  return new SecretsManagerClient({
    region: settings.region,
    maxAttempts: settings.maxAttempts,
    // A plain object configures the default NodeHttpHandler without importing it.
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
    },
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
  });
}

/**
 * Reads a secret's current (AWSCURRENT) string value, within `budgetMs` retries included: the
 * SDK's socket timeouts do not end a call to a server that accepts and never answers, so the call
 * is aborted at the deadline and the read fails then whatever the socket does.
 */
export function secretsManagerReader(client: SecretsManagerClient, budgetMs: number): SecretReader {
  return {
    async read(secretId) {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`GetSecretValue of ${secretId} took longer than ${budgetMs} ms`));
        }, budgetMs);
      });
      try {
        const out = await Promise.race([
          client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: controller.signal }),
          deadline,
        ]);
        if (typeof out.SecretString !== 'string' || out.SecretString === '')
          throw new Error(`secret ${secretId} has no string value`);
        return out.SecretString;
      } finally {
        clearTimeout(timer);
      }
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
    readonly onStale?: (error: unknown) => void;
    readonly clock?: () => number;
  },
): SecretValue {
  return cachedSecret(secretsManagerReader(createSecretsManagerClient(settings), settings.budgetMs), {
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
