import { ConfigError, checkFetchUrl, type Env, EnvReader } from '../config/env.ts';
import {
  readSecretSetting,
  readSecretsManagerSettings,
  type SecretsManagerSettings,
} from '../secrets/config.ts';

/** What to do with backend answers that do not match the document's response schemas. */
export type ResponseValidation = 'off' | 'log' | 'strict';

/** The request validator's configuration, read once at init. */
export interface RequestValidatorConfig {
  /** UPSTREAM_URL: base URL of the backend (https; http only for loopback). */
  readonly upstreamUrl: string;
  /** UPSTREAM_SIGNING_SECRET: the HMAC key shared with the backend, as a value (local runs only). */
  readonly signingSecret: string | undefined;
  /** UPSTREAM_SIGNING_SECRET_ARN: the Secrets Manager secret holding it (deployed functions). */
  readonly signingSecretId: string | undefined;
  /** How the signing secret is read from Secrets Manager and cached. */
  readonly secretsManager: SecretsManagerSettings;
  /** UPSTREAM_TIMEOUT_MS: time allowed for the backend's whole answer. */
  readonly timeoutMs: number;
  /** MAX_BODY_BYTES: largest request body, after base64 decoding. */
  readonly maxBodyBytes: number;
  /** MAX_JSON_DEPTH: deepest JSON nesting in a request body. */
  readonly maxJsonDepth: number;
  /** MAX_RESPONSE_BYTES: largest backend answer passed back. */
  readonly maxResponseBytes: number;
  /** RESPONSE_VALIDATION: off, log (log and count mismatches) or strict (mismatch → 502). */
  readonly responseValidation: ResponseValidation;
}

/** Minimum signing secret length: 32 characters (256 bits of a random hex/base64 string, or more). */
export const MIN_SECRET_LENGTH = 32;

/** Reads and checks the configuration; throws a ConfigError naming every bad variable. */
export function readRequestValidatorConfig(env: Env): RequestValidatorConfig {
  const r = new EnvReader(env);
  const upstreamUrl = r.required('UPSTREAM_URL');
  if (upstreamUrl !== '') {
    const problem = checkFetchUrl(upstreamUrl);
    if (problem !== undefined) r.problem('UPSTREAM_URL', problem);
    else if (new URL(upstreamUrl).search !== '' || new URL(upstreamUrl).hash !== '')
      r.problem('UPSTREAM_URL', 'must not have a query or fragment');
  }
  // A plain value wins (local runs); deployed functions read the secret (docs/deploy.md#secrets).
  const signing = readSecretSetting(
    r,
    env,
    { plain: 'UPSTREAM_SIGNING_SECRET', arn: 'UPSTREAM_SIGNING_SECRET_ARN' },
    MIN_SECRET_LENGTH,
    // template.yaml declares UPSTREAM_SIGNING_SECRET empty for `sam local invoke --env-vars`.
    { emptyIsUnset: true },
  );
  if (signing === undefined)
    r.problem('UPSTREAM_SIGNING_SECRET_ARN', 'is required (UPSTREAM_SIGNING_SECRET in local runs)');
  const timeoutMs = r.integer('UPSTREAM_TIMEOUT_MS', 10_000, 100, 900_000);
  const maxBodyBytes = r.integer('MAX_BODY_BYTES', 1_048_576, 1, 6_291_456);
  const maxJsonDepth = r.integer('MAX_JSON_DEPTH', 32, 1, 1000);
  const maxResponseBytes = r.integer('MAX_RESPONSE_BYTES', 4_194_304, 1, 6_291_456);
  const responseValidation = (r.string('RESPONSE_VALIDATION', 'off') as string).toLowerCase();
  if (!['off', 'log', 'strict'].includes(responseValidation))
    r.problem('RESPONSE_VALIDATION', `must be off, log or strict, got ${JSON.stringify(responseValidation)}`);
  const secretsManager = readSecretsManagerSettings(r);
  r.done();
  return Object.freeze({
    upstreamUrl,
    signingSecret: signing?.source === 'plain' ? signing.value : undefined,
    signingSecretId: signing?.source === 'secrets-manager' ? signing.secretId : undefined,
    secretsManager,
    timeoutMs,
    maxBodyBytes,
    maxJsonDepth,
    maxResponseBytes,
    responseValidation: responseValidation as ResponseValidation,
  });
}

/**
 * RESPONSE_VALIDATION log/strict needs response validators, which are generated only when the
 * document setting asks for them (docs/openapi.md#the-document-setting): fail the cold start
 * rather than forward answers unchecked.
 */
export function checkResponseValidators(config: RequestValidatorConfig, generated: boolean): void {
  if (config.responseValidation !== 'off' && !generated)
    throw new ConfigError([
      `RESPONSE_VALIDATION is ${config.responseValidation} but the validators were generated without response validators (set "responseValidators": true in package.json "gatehouse", or run npm run generate -- --response-validators)`,
    ]);
}
