/**
 * The AWS credentials a function signs its calls with: the execution role's session, which Lambda
 * puts in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`. Read once at init,
 * as the SDK's own environment provider reads them once: the variables of a running process do not
 * change.
 */
import { ConfigError, type Env } from '../config/env.ts';
import type { AwsCredentials } from './sigv4.ts';

export type { AwsCredentials };

/** What loopback emulators (dynalite, the local fakes) are signed with: they check no signature. */
export const LOOPBACK_CREDENTIALS: AwsCredentials = Object.freeze({
  accessKeyId: 'local',
  secretAccessKey: 'local',
});

/** The credentials in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, if set. */
export function credentialsFromEnv(env: Env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * The function's credentials, at init. When they are missing and the function calls AWS itself
 * (`loopbackOnly` false), the cold start fails with a {@link ConfigError} naming the variables,
 * rather than every call failing later: Lambda always sets them, except where it hands out
 * credentials another way (SnapStart's container credentials endpoint), which these functions do
 * not read. When every endpoint the function calls is a local one, placeholder credentials do.
 */
export function lambdaCredentials(env: Env, options: { readonly loopbackOnly: boolean }): AwsCredentials {
  const credentials = credentialsFromEnv(env);
  if (credentials !== undefined) return credentials;
  if (options.loopbackOnly) return LOOPBACK_CREDENTIALS;
  throw new ConfigError([
    'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required: the function signs its DynamoDB and ' +
      'Secrets Manager calls with the credentials Lambda sets for its execution role ' +
      '(docs/deploy.md#how-the-functions-call-aws)',
  ]);
}
