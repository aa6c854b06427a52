/**
 * How the functions call AWS: one operation of a JSON-protocol service (DynamoDB's awsJson1.0,
 * Secrets Manager's awsJson1.1) is a POST of JSON to `/` with `X-Amz-Target: <prefix>.<Operation>`,
 * SigV4-signed (./sigv4.ts), here sent over node:http(s) with a keep-alive agent.
 *
 * Not the AWS SDK's clients: `@aws-sdk/client-dynamodb` was ~194 KB of the credentials authorizer's
 * 241 KB bundle, 39–44 ms of its cold start to import and 26–32 ms more at its first request, for the
 * three operations the functions use (docs/performance.md#calling-aws). What the SDK client did for
 * them is kept: credentials from the environment, connect and request timeouts, retries with
 * jitter for throttling, 5xx answers and broken connections, and AWS's error types. Added: every
 * call has a time budget (the caller's, lowered to what its invocation has left) that retries and
 * backoff stay within, and answers are refused as they stream in past a size cap.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type AwsCredentials, signV4 } from './sigv4.ts';

/** A JSON-protocol AWS service, as the client addresses and signs it. */
export interface AwsJsonService {
  /** The service's SigV4 signing name (`dynamodb`). */
  readonly signingName: string;
  /** The first label of its regional endpoint (`dynamodb.<region>.amazonaws.com`). */
  readonly endpointPrefix: string;
  /** `X-Amz-Target` prefix (`DynamoDB_20120810`). */
  readonly targetPrefix: string;
  /** `application/x-amz-json-<version>`. */
  readonly jsonVersion: '1.0' | '1.1';
  /** Backoff base for a retry after a 5xx or a broken connection (the SDK's value for the service). */
  readonly retryBaseMs: number;
}

/** DynamoDB (awsJson1.0): GetItem, UpdateItem, PutItem, ... */
export const DYNAMODB: AwsJsonService = Object.freeze({
  signingName: 'dynamodb',
  endpointPrefix: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
  retryBaseMs: 25,
});

/** Secrets Manager (awsJson1.1): GetSecretValue. */
export const SECRETS_MANAGER: AwsJsonService = Object.freeze({
  signingName: 'secretsmanager',
  endpointPrefix: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
  retryBaseMs: 50,
});

/** Backoff base after throttling, and the longest pause (the SDK's standard retry strategy). */
const THROTTLING_RETRY_BASE_MS = 1000;
const MAX_RETRY_DELAY_MS = 20_000;
/** A retry is started only if at least this much of the budget is left after its pause. */
const MIN_ATTEMPT_MS = 50;

/** The service's endpoint in `region` (the China regions have their own DNS suffix). */
export function regionalEndpoint(service: AwsJsonService, region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service.endpointPrefix}.${region}.${suffix}`;
}

/** Why a call failed, as callers branch on it. */
export type AwsFailure =
  /** Throttled (ThrottlingException, ProvisionedThroughputExceededException, HTTP 429, ...). */
  | 'throttled'
  /** Refused the caller: no permission, or credentials or signature not accepted. */
  | 'access_denied'
  /** ResourceNotFoundException: the table or secret does not exist. */
  | 'not_found'
  /** A condition of the write did not hold (ConditionalCheckFailedException). */
  | 'conditional_check_failed'
  /** The service refused the request as malformed (ValidationException, ...). */
  | 'validation'
  /** The service answered with a server error (5xx). */
  | 'server_error'
  /** No answer: connection refused or reset, name not resolved, network unreachable. */
  | 'unavailable'
  /** No answer in time: connect or request timeout, the call's budget, or its caller gave up. */
  | 'timeout'
  /** The answer was larger than the client's cap; it was cut off unread. */
  | 'response_too_large'
  /** Anything else: another error type, or a 200 answer that is not a JSON object. */
  | 'error';

/** A failed call: `code` to branch on, `type` is AWS's error type (or the local cause's name). */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  readonly code: AwsFailure;
  /** `ThrottlingException`, `ConditionalCheckFailedException`, `ECONNRESET`, `TimeoutError`, ... */
  readonly type: string;
  /** The HTTP status of the answer, when there was one. */
  readonly status: number | undefined;
  /** Whether the same call may succeed if tried again. */
  readonly retryable: boolean;
  constructor(
    code: AwsFailure,
    type: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.type = type;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
  'TransactionInProgressException',
  'PriorRequestNotComplete',
  'SlowDown',
]);
const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'ExpiredToken',
  // Secrets Manager: KMS refused to decrypt the secret (the role lacks kms:Decrypt via the service).
  'DecryptionFailure',
]);
const INVALID = new Set([
  'ValidationException',
  'SerializationException',
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidRequestException',
  'MissingParameter',
]);
/** Status codes the SDK retries (other 5xx are reported as server errors, not retried). */
const RETRIED_STATUS = new Set([500, 502, 503, 504]);
/** Socket errors the SDK retries. */
const TRANSIENT_SOCKET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The failure an error answer stands for. */
export function failureOfAnswer(type: string, status: number): AwsFailure {
  if (THROTTLING.has(type) || status === 429) return 'throttled';
  if (DENIED.has(type) || status === 403) return 'access_denied';
  if (type === 'ResourceNotFoundException') return 'not_found';
  if (type === 'ConditionalCheckFailedException') return 'conditional_check_failed';
  if (INVALID.has(type)) return 'validation';
  if (status >= 500) return 'server_error';
  return 'error';
}

/**
 * AWS's error type from an answer: `__type` in the body, else `x-amzn-errortype`, without the
 * namespace (`com.amazonaws.dynamodb.v20120810#ThrottlingException`) or the URL the header may add
 * (`ValidationException:http://internal.amazon.com/...`).
 */
function errorTypeOf(answer: unknown, header: string | string[] | undefined, status: number): string {
  const raw = (answer as { __type?: unknown } | null)?.__type ?? header;
  if (typeof raw !== 'string' || raw === '') return `HTTP${status}`;
  return (raw.slice(raw.lastIndexOf('#') + 1).split(':')[0] as string) || `HTTP${status}`;
}

/** How a client reaches and calls one service. */
export interface AwsJsonClientOptions {
  readonly service: AwsJsonService;
  readonly region: string;
  /** Another endpoint than the region's (a local emulator); `https:` or `http:`. */
  readonly endpoint?: string | undefined;
  readonly credentials: AwsCredentials;
  /** Time to get a connection. */
  readonly connectTimeoutMs: number;
  /** Longest silence of the connection during one attempt (no byte sent or received). */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included; retries also have to fit in the call's budget. */
  readonly maxAttempts: number;
  /** Answers larger than this are refused as they arrive (the socket is closed). */
  readonly maxResponseBytes: number;
  /**
   * Keep connections open between calls (a warm function's next call skips the TCP and TLS
   * handshakes). Off for calls made once in minutes, which an idle server would close anyway.
   */
  readonly keepAlive: boolean;
  /** Jitter source, in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** One call's bounds. */
export interface CallOptions {
  /** Milliseconds the call may take, retries and their pauses included. */
  readonly budgetMs: number;
  /** Ends the call at once (its caller gave up). */
  readonly signal?: AbortSignal | undefined;
}

/** Something that runs a JSON-protocol operation: the client below, or an adapter in tests and tools. */
export interface AwsJsonCaller {
  /**
   * Runs `operation` with `input` (the service's JSON request) and resolves its JSON answer;
   * rejects with {@link AwsCallError}.
   */
  call(operation: string, input: object, options: CallOptions): Promise<Record<string, unknown>>;
}

/** A client of one service. */
export interface AwsJsonClient extends AwsJsonCaller {
  /** Closes the connections kept open. */
  close(): void;
}

/** A client of `options.service`, signing with `options.credentials`. */
export function awsJsonClient(options: AwsJsonClientOptions): AwsJsonClient {
  const { service, region, credentials } = options;
  const endpoint = new URL(options.endpoint ?? regionalEndpoint(service, region));
  const secure = endpoint.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const agent = secure
    ? new HttpsAgent({ keepAlive: options.keepAlive })
    : new HttpAgent({ keepAlive: options.keepAlive });
  const contentType = `application/x-amz-json-${service.jsonVersion}`;
  const random = options.random ?? Math.random;

  /** One attempt, ended by the call's deadline, the caller's signal, or its own timeouts. */
  function attempt(
    operation: string,
    body: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const headers = {
      host: endpoint.host,
      'content-type': contentType,
      'x-amz-target': `${service.targetPrefix}.${operation}`,
    };
    const signed = signV4(
      { method: 'POST', path: '/', headers, body },
      { service: service.signingName, region, credentials, date: new Date() },
    );
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: AwsCallError | undefined, answer?: Record<string, unknown>) => {
        if (settled) return;
        settled = true;
        clearTimeout(budgetTimer);
        clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(answer as Record<string, unknown>);
        else {
          // Destroyed, not returned to the pool: a connection in an unknown state is never reused.
          req.destroy();
          reject(err);
        }
      };
      const req = send({
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port === '' ? undefined : Number(endpoint.port),
        method: 'POST',
        path: '/',
        agent,
        headers: { ...headers, ...signed.headers, 'content-length': Buffer.byteLength(body) },
      });
      const onAbort = () =>
        finish(new AwsCallError('timeout', 'AbortError', `${operation}: the caller gave up waiting`));
      signal?.addEventListener('abort', onAbort);
      const budgetTimer = setTimeout(
        () => finish(new AwsCallError('timeout', 'TimeoutError', `${operation} ran out of time`)),
        Math.max(0, deadline - performance.now()),
      );
      const connectTimer = setTimeout(
        () =>
          finish(
            new AwsCallError('timeout', 'ConnectTimeout', `${operation}: no connection to ${endpoint.host}`, {
              retryable: true,
            }),
          ),
        options.connectTimeoutMs,
      );
      req.on('socket', (socket) => {
        // A kept-alive connection is there already; a new one counts from its handshake's end.
        if (socket.connecting)
          socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        else clearTimeout(connectTimer);
      });
      req.setTimeout(options.requestTimeoutMs, () =>
        finish(
          new AwsCallError('timeout', 'RequestTimeout', `${operation}: no answer in time`, {
            retryable: true,
          }),
        ),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'NetworkError';
        finish(
          new AwsCallError(
            code === 'ETIMEDOUT' ? 'timeout' : 'unavailable',
            code,
            `${operation}: ${endpoint.host} could not be reached (${code})`,
            { retryable: TRANSIENT_SOCKET.has(code), cause: err },
          ),
        );
      });
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const tooLarge = () =>
          new AwsCallError(
            'response_too_large',
            'ResponseTooLarge',
            `${operation}: the answer exceeds ${options.maxResponseBytes} bytes`,
            { status },
          );
        if (Number(res.headers['content-length'] ?? 0) > options.maxResponseBytes) {
          finish(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) finish(tooLarge());
          else chunks.push(chunk);
        });
        const cutShort = (cause?: unknown) =>
          finish(
            new AwsCallError('unavailable', 'ECONNRESET', `${operation}: the answer was cut short`, {
              status,
              retryable: true,
              cause,
            }),
          );
        res.on('error', cutShort);
        // Closed before its end (after `end` the attempt has settled and this changes nothing).
        res.on('close', () => cutShort());
        res.on('end', () => {
          let answer: unknown;
          try {
            answer = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
          } catch {
            answer = undefined;
          }
          if (status === 200) {
            if (typeof answer === 'object' && answer !== null && !Array.isArray(answer))
              finish(undefined, answer as Record<string, unknown>);
            else
              finish(
                new AwsCallError(
                  'error',
                  'MalformedAnswer',
                  `${operation}: the answer is not a JSON object`,
                  {
                    status,
                  },
                ),
              );
            return;
          }
          const type = errorTypeOf(answer, res.headers['x-amzn-errortype'], status);
          const code = failureOfAnswer(type, status);
          // Only the type: the service's message is not needed to act and may quote the request.
          finish(
            new AwsCallError(code, type, `${operation} failed: ${type}`, {
              status,
              retryable: code === 'throttled' || RETRIED_STATUS.has(status),
            }),
          );
        });
      });
      req.end(body);
      if (signal?.aborted) onAbort();
    });
  }

  return {
    async call(operation, input, { budgetMs, signal }) {
      if (!(budgetMs > 0)) throw new AwsCallError('timeout', 'TimeoutError', `no time left for ${operation}`);
      const deadline = performance.now() + budgetMs;
      const body = JSON.stringify(input);
      for (let n = 1; ; n++) {
        let failure: AwsCallError;
        try {
          const answer = await attempt(operation, body, deadline, signal);
          // A long synchronous stretch can delay the deadline's timer past it: a late answer is
          // refused, so nothing is ever decided on a call that took longer than its budget.
          if (performance.now() > deadline)
            throw new AwsCallError('timeout', 'TimeoutError', `${operation} ran out of time`);
          return answer;
        } catch (err) {
          failure = err as AwsCallError;
        }
        if (!failure.retryable || n >= options.maxAttempts) throw failure;
        // Full jitter, as the SDK's standard retry strategy: a random pause up to base × 2^(n-1).
        const base = failure.code === 'throttled' ? THROTTLING_RETRY_BASE_MS : service.retryBaseMs;
        const pause = Math.floor(random() * Math.min(base * 2 ** (n - 1), MAX_RETRY_DELAY_MS));
        if (deadline - performance.now() - pause < MIN_ATTEMPT_MS) throw failure;
        await new Promise((resolve) => setTimeout(resolve, pause));
        if (signal?.aborted) throw failure;
      }
    },
    close() {
      agent.destroy();
    },
  };
}
