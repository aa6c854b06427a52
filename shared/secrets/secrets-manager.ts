/**
 * The AWS edge of shared/secrets: one call, GetSecretValue (Secrets Manager's JSON 1.1 protocol),
 * signed with SigV4 by @smithy/signature-v4 (the AWS SDK's own signer) and sent with node:http(s).
 *
 * Not @aws-sdk/client-secrets-manager: for one call it brings the SDK's core into the bundle, which
 * the request validator has no other use for (measured: 169,787 B of its minified bundle and about
 * 45 ms of cold start, docs/deploy.md#secrets), and pushes the credentials authorizer over its size
 * budget (docs/performance.md#bundles). What the client did for us is kept: credentials from the
 * environment (Lambda sets them for the execution role), a connect and a request timeout, one
 * retry for a transient failure, and a hard deadline for the whole read.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../aws/sha256.ts';
import type { Env } from '../config/env.ts';
import type { SecretsManagerSettings } from './config.ts';
import { cachedSecret, type SecretReader, type SecretValue } from './secret-value.ts';

/** AWS credentials as Lambda gives them to a function (its execution role's session). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The credentials in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, if set. */
export function credentialsFromEnv(env: Env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** A GetSecretValue that failed; `name` is Secrets Manager's error type (or the local cause). */
export class SecretsManagerError extends Error {
  /** Whether trying again may succeed (throttling, a server error, the network). */
  readonly retryable: boolean;
  constructor(name: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
    this.retryable = retryable;
  }
}

/** The largest answer read: a secret value is at most 64 KiB, its JSON envelope a little more. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Pause before the retry (the SDK's standard strategy starts at about 100 ms). */
const RETRY_DELAY_MS = 100;

/** Secrets Manager's endpoint in `region` (the China regions have their own DNS suffix). */
export function secretsManagerEndpoint(region: string): string {
  return `https://secretsmanager.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** Reads a secret's current (AWSCURRENT) string value through GetSecretValue. */
export function secretsManagerReader(
  settings: SecretsManagerSettings,
  credentials: () => AwsCredentials | undefined = () => credentialsFromEnv(process.env),
): SecretReader {
  const endpoint = new URL(settings.endpoint ?? secretsManagerEndpoint(settings.region));
  const secure = endpoint.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;

  async function signed(body: string) {
    const creds = credentials();
    if (creds === undefined)
      throw new SecretsManagerError(
        'CredentialsMissing',
        'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
        false,
      );
    const signer = new SignatureV4({
      service: 'secretsmanager',
      region: settings.region,
      credentials: creds,
      sha256: Sha256,
    });
    return signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === '' ? {} : { port: Number(endpoint.port) }),
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
  }

  /** One attempt, ended by `signal` (the whole read's deadline) or its own timeouts. */
  async function attempt(secretId: string, signal: AbortSignal): Promise<string> {
    const body = JSON.stringify({ SecretId: secretId });
    const request = await signed(body);
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const finish = (err: SecretsManagerError | undefined, value?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(value as string);
        else {
          reject(err);
          req.destroy();
        }
      };
      const req = send({
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port === '' ? undefined : Number(endpoint.port),
        method: 'POST',
        path: '/',
        headers: request.headers,
        // A connection of its own: a read happens once per TTL, nothing to keep alive between.
        agent: false,
      });
      const onAbort = () =>
        finish(
          new SecretsManagerError('TimeoutError', `GetSecretValue of ${secretId} ran out of time`, false),
        );
      signal.addEventListener('abort', onAbort);
      // No connection within the connect timeout, or no progress within the request timeout.
      const connectTimer = setTimeout(
        () =>
          finish(
            new SecretsManagerError('TimeoutError', 'Secrets Manager did not accept the connection', true),
          ),
        settings.connectTimeoutMs,
      );
      req.on('socket', (socket) => {
        const connected = () => clearTimeout(connectTimer);
        if (socket.connecting) socket.once(secure ? 'secureConnect' : 'connect', connected);
        else connected();
      });
      req.setTimeout(settings.requestTimeoutMs, () =>
        finish(new SecretsManagerError('TimeoutError', 'Secrets Manager did not answer in time', true)),
      );
      req.on('error', (err) =>
        finish(
          new SecretsManagerError('NetworkError', 'Secrets Manager could not be reached', true, {
            cause: err,
          }),
        ),
      );
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES)
            finish(
              new SecretsManagerError('AnswerTooLarge', 'the GetSecretValue answer is too large', false),
            );
          else chunks.push(chunk);
        });
        res.on('error', (err) =>
          finish(new SecretsManagerError('NetworkError', 'the answer was cut short', true, { cause: err })),
        );
        // Closed before its end (after `end`, the read has settled and this changes nothing).
        res.on('close', () =>
          finish(new SecretsManagerError('NetworkError', 'the answer was cut short', true)),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let answer: Record<string, unknown> = {};
          try {
            answer = JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as Record<string, unknown>;
          } catch {
            // Not JSON: judged by the status alone.
          }
          if (status === 200) {
            const value = answer.SecretString;
            if (typeof value === 'string' && value !== '') finish(undefined, value);
            else
              finish(
                new SecretsManagerError('NoSecretString', `secret ${secretId} has no string value`, false),
              );
            return;
          }
          // `__type` may carry a namespace: `com.amazonaws.secretsmanager#ThrottlingException`.
          const type = String(answer.__type ?? res.headers['x-amzn-errortype'] ?? `HTTP${status}`)
            .split('#')
            .pop()
            ?.split(':')[0] as string;
          const retryable = status >= 500 || status === 429 || /Throttl/.test(type);
          // Only the error type: the message is the service's, and is not needed to act.
          finish(new SecretsManagerError(type, `GetSecretValue of ${secretId} failed: ${type}`, retryable));
        });
      });
      req.end(body);
      if (signal.aborted) onAbort();
    });
  }

  return {
    async read(secretId) {
      // The deadline of the whole read, retries included: a server that accepts and never answers
      // cannot hold the function longer than budgetMs.
      const signal = AbortSignal.timeout(settings.budgetMs);
      for (let n = 1; ; n++) {
        try {
          return await attempt(secretId, signal);
        } catch (err) {
          const retry = err instanceof SecretsManagerError && err.retryable && n < settings.maxAttempts;
          if (!retry || signal.aborted) throw err;
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
          if (signal.aborted) throw err;
        }
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
    /** Where the signing credentials come from (default: the environment, as Lambda sets it). */
    readonly credentials?: () => AwsCredentials | undefined;
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
