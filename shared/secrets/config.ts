import { type Env, type EnvReader, readLoopbackEndpoint } from '../config/env.ts';

/**
 * Where a function's secret comes from. Deployed functions name a Secrets Manager secret
 * (`<NAME>_ARN`); local runs may give the value itself (`<NAME>`), which template.yaml never sets.
 */
export type SecretSetting =
  | { readonly source: 'plain'; readonly value: string }
  | { readonly source: 'secrets-manager'; readonly secretId: string };

/** How the functions talk to Secrets Manager and cache what they read. */
export interface SecretsManagerSettings {
  /** `AWS_REGION` (set by Lambda). */
  readonly region: string;
  /** `SECRETS_MANAGER_ENDPOINT`: a loopback Secrets Manager (local runs and tests only). */
  readonly endpoint: string | undefined;
  /** `SECRET_CACHE_TTL_SECONDS`: how long a value is used before it is read again. */
  readonly ttlMs: number;
  /** Shortest time between two re-reads caused by a value that did not verify. */
  readonly missIntervalMs: number;
  /** After a failed re-read the previous value is served; the next attempt waits this long. */
  readonly retryMs: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  /** Hard ceiling of one read, retries included. */
  readonly budgetMs: number;
}

// Secrets Manager accepts a secret's ARN or its name (letters, digits and /_+=.@-).
const SECRET_ID = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$/;

/**
 * Reads a secret's setting: the plain variable when it is present (local runs; an empty value
 * means none, or with `emptyIsUnset` that it is not set), else the `_ARN` variable. Undefined when
 * neither is set.
 */
export function readSecretSetting(
  r: EnvReader,
  env: Env,
  names: { readonly plain: string; readonly arn: string },
  minLength: number,
  options: {
    /**
     * An empty plain variable counts as absent: for a variable the template declares empty, so
     * that `sam local invoke --env-vars` may set it (the SAM CLI sets declared variables only).
     */
    readonly emptyIsUnset?: boolean;
  } = {},
): SecretSetting | undefined {
  const plain = env[names.plain];
  if (plain !== undefined && !(plain === '' && options.emptyIsUnset === true)) {
    const value = r.string(names.plain);
    if (value === undefined) return undefined;
    if (value.length < minLength) r.problem(names.plain, `must be at least ${minLength} characters`);
    if (value.startsWith('{{resolve:')) r.problem(names.plain, 'is an unresolved dynamic reference');
    return { source: 'plain', value };
  }
  const secretId = r.string(names.arn);
  if (secretId === undefined) return undefined;
  if (!SECRET_ID.test(secretId)) r.problem(names.arn, 'must be a Secrets Manager secret ARN or name');
  return { source: 'secrets-manager', secretId };
}

/** Reads the Secrets Manager client and cache settings; problems go to `r`. */
export function readSecretsManagerSettings(r: EnvReader): SecretsManagerSettings {
  const endpoint = readLoopbackEndpoint(r, 'SECRETS_MANAGER_ENDPOINT');
  const ttlMs = r.integer('SECRET_CACHE_TTL_SECONDS', 300, 1, 3600) * 1000;
  return {
    region: r.string('AWS_REGION', 'us-east-1') as string,
    endpoint,
    ttlMs,
    missIntervalMs: Math.min(ttlMs, 60_000),
    retryMs: 10_000,
    connectTimeoutMs: 500,
    requestTimeoutMs: 1000,
    maxAttempts: 2,
    budgetMs: 2000,
  };
}
