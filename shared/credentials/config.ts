import { type Env, EnvReader, readLoopbackEndpoint, readTableName } from '../config/env.ts';
import {
  readSecretSetting,
  readSecretsManagerSettings,
  type SecretsManagerSettings,
} from '../secrets/config.ts';
import { KEY_ENVIRONMENTS, type KeyEnvironment } from './api-key.ts';
import type { LockoutPolicy } from './store.ts';

/** Everything the key authorizer reads from its environment, checked once at init. */
export interface KeyAuthorizerConfig {
  /** DynamoDB table holding keys and users (`CREDENTIALS_TABLE`). */
  readonly tableName: string;
  /** AWS region of the table (`AWS_REGION`, set by Lambda). */
  readonly region: string;
  /** Local-only endpoint of the embedded DynamoDB (`DYNAMODB_ENDPOINT`, loopback http(s) only). */
  readonly endpoint: string | undefined;
  /** The environment keys must be minted for (`API_KEY_ENVIRONMENT`). */
  readonly keyEnvironment: KeyEnvironment;
  /** HMAC pepper for key hashes given as a value (`API_KEY_PEPPER`, local runs); undefined = none. */
  readonly pepper: string | undefined;
  /** The Secrets Manager secret holding the pepper (`API_KEY_PEPPER_SECRET_ARN`, deployed functions). */
  readonly pepperSecretId: string | undefined;
  /** How the pepper is read from Secrets Manager and cached. */
  readonly secretsManager: SecretsManagerSettings;
  /**
   * REST requests from a credential without a usage key of its own are refused, 403
   * `usage_key_missing` (`USAGE_KEY_REQUIRED`; the template sets it for OrdersKeyApi).
   */
  readonly usageKeyRequired: boolean;
  /** HTTP API payload 2.0: answer with simple responses (true) or IAM policies (false). */
  readonly simpleResponses: boolean;
  /**
   * The longest any credential state (a key, a user, a verified Basic credential, an unknown
   * username) is reused in a warm environment (`CREDENTIAL_CACHE_TTL_SECONDS`); 0 = never.
   */
  readonly cacheTtlMs: number;
  /** How long an unknown key id is remembered, at most {@link cacheTtlMs}. */
  readonly negativeCacheTtlMs: number;
  /** Capacity of each in-memory cache. */
  readonly cacheSize: number;
  /** Socket connect timeout for DynamoDB. */
  readonly connectTimeoutMs: number;
  /** Time for one DynamoDB HTTP request. */
  readonly requestTimeoutMs: number;
  /** Hard ceiling for one store operation, retries included; also bounded by the time left. */
  readonly budgetMs: number;
  /** Attempts per DynamoDB call. */
  readonly maxAttempts: number;
  readonly lockout: LockoutPolicy;
}

/** Reads and checks the key authorizer's variables; throws a ConfigError naming each bad one. */
export function readKeyAuthorizerConfig(env: Env): KeyAuthorizerConfig {
  const r = new EnvReader(env);
  const tableName = readTableName(r, 'CREDENTIALS_TABLE');

  const endpoint = readLoopbackEndpoint(r, 'DYNAMODB_ENDPOINT');

  const keyEnvironment = r.string('API_KEY_ENVIRONMENT', 'live') as string;
  if (!(KEY_ENVIRONMENTS as readonly string[]).includes(keyEnvironment))
    r.problem('API_KEY_ENVIRONMENT', `must be one of ${KEY_ENVIRONMENTS.join(', ')}`);

  // A plain value wins (local runs; empty = no pepper); deployed functions read the secret.
  const pepper = readSecretSetting(r, env, { plain: 'API_KEY_PEPPER', arn: 'API_KEY_PEPPER_SECRET_ARN' }, 16);

  // One API Gateway key per tier made every client of a tier share one quota; each credential now
  // carries its own. A leftover setting would mean a deployer expects something that no longer is.
  if (r.string('USAGE_PLAN_KEYS') !== undefined)
    r.problem(
      'USAGE_PLAN_KEYS',
      'is no longer read: each key and user carries its own usage key (docs/key-authorizer.md#per-client-quotas); remove it',
    );

  const requestTimeoutMs = r.integer('DYNAMODB_TIMEOUT_MS', 800, 50, 10_000);
  const budgetMs = r.integer('DYNAMODB_BUDGET_MS', 2000, 100, 20_000);
  // Lambda does not tell a function its timeout before an invocation (then the remaining time
  // bounds every call); local emulators (SAM CLI, the runtime interface emulator, our local
  // runtime) set AWS_LAMBDA_FUNCTION_TIMEOUT, and there a budget that cannot fit is refused.
  const timeoutSeconds = r.integer('AWS_LAMBDA_FUNCTION_TIMEOUT', 0, 1, 900);
  if (timeoutSeconds > 0) {
    const limit = `the function timeout (${timeoutSeconds * 1000} ms, AWS_LAMBDA_FUNCTION_TIMEOUT)`;
    if (budgetMs >= timeoutSeconds * 1000) r.problem('DYNAMODB_BUDGET_MS', `must be below ${limit}`);
    if (requestTimeoutMs >= timeoutSeconds * 1000) r.problem('DYNAMODB_TIMEOUT_MS', `must be below ${limit}`);
  }
  const cacheTtlSeconds = r.integer('CREDENTIAL_CACHE_TTL_SECONDS', 30, 0, 300);
  const negativeTtlSeconds = r.integer(
    'CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS',
    Math.min(5, cacheTtlSeconds),
    0,
    60,
  );
  if (negativeTtlSeconds > cacheTtlSeconds)
    r.problem(
      'CREDENTIAL_NEGATIVE_CACHE_TTL_SECONDS',
      `must not exceed CREDENTIAL_CACHE_TTL_SECONDS (${cacheTtlSeconds}), which bounds all credential state`,
    );
  const config: KeyAuthorizerConfig = {
    tableName,
    region: r.string('AWS_REGION', 'us-east-1') as string,
    endpoint,
    keyEnvironment: keyEnvironment as KeyEnvironment,
    pepper: pepper?.source === 'plain' ? pepper.value : undefined,
    pepperSecretId: pepper?.source === 'secrets-manager' ? pepper.secretId : undefined,
    secretsManager: readSecretsManagerSettings(r),
    usageKeyRequired: r.boolean('USAGE_KEY_REQUIRED', false),
    simpleResponses: r.boolean('HTTP_API_SIMPLE_RESPONSES', true),
    cacheTtlMs: cacheTtlSeconds * 1000,
    negativeCacheTtlMs: negativeTtlSeconds * 1000,
    cacheSize: r.integer('CREDENTIAL_CACHE_SIZE', 1000, 0, 100_000),
    connectTimeoutMs: Math.min(requestTimeoutMs, 500),
    requestTimeoutMs,
    budgetMs,
    maxAttempts: r.integer('DYNAMODB_MAX_ATTEMPTS', 2, 1, 5),
    lockout: {
      maxFailures: r.integer('BASIC_MAX_FAILURES', 5, 1, 100),
      windowMs: r.integer('BASIC_FAILURE_WINDOW_SECONDS', 900, 10, 86_400) * 1000,
      lockMs: r.integer('BASIC_LOCKOUT_SECONDS', 900, 10, 86_400) * 1000,
    },
  };
  r.done();
  return Object.freeze(config);
}
