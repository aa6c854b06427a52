/**
 * One Lambda proxy invocation with the limits API Gateway and Lambda put on it:
 * - the event (request payload) and the result (response payload) are at most 6 MB each
 *   (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): a larger event is
 *   refused before invoking, a larger result is a failed invocation;
 * - the integration timeout (REST: `TimeoutInMillis`, at most 29 s; HTTP APIs: 30 s,
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html) ends the wait while
 *   the function may still run, as in AWS;
 * - a function error or the function's own timeout is a failed invocation (REST: 502).
 */
import type { InvocationResult } from '../lambda/runtime.ts';

/** The largest synchronous Lambda payload, request or response: 6 MB. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/** What came of an integration call. */
export type IntegrationOutcome =
  | { readonly kind: 'ok'; readonly result: unknown }
  | { readonly kind: 'request_too_large'; readonly bytes: number }
  | { readonly kind: 'response_too_large'; readonly bytes: number }
  | { readonly kind: 'function_error'; readonly errorType: string; readonly errorMessage: string }
  | { readonly kind: 'integration_timeout'; readonly timeoutMs: number };

/** Invokes a function with the event, applying the payload limits and the integration timeout. */
export async function invokeIntegration(
  invoke: (event: unknown) => Promise<InvocationResult>,
  event: unknown,
  timeoutMs: number,
): Promise<IntegrationOutcome> {
  const requestBytes = Buffer.byteLength(JSON.stringify(event));
  if (requestBytes > LAMBDA_PAYLOAD_LIMIT_BYTES) return { kind: 'request_too_large', bytes: requestBytes };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([invoke(event), timedOut]).finally(() => clearTimeout(timer));
  if (result === 'timeout') return { kind: 'integration_timeout', timeoutMs };
  if (!result.ok) return { kind: 'function_error', ...result.error };
  const responseBytes = Buffer.byteLength(JSON.stringify(result.result ?? null));
  if (responseBytes > LAMBDA_PAYLOAD_LIMIT_BYTES) return { kind: 'response_too_large', bytes: responseBytes };
  return { kind: 'ok', result: result.result };
}

/** The line the gateway prints for a failed integration call (function logs stay the function's). */
export function failureNote(
  functionLogicalId: string,
  outcome: Exclude<IntegrationOutcome, { kind: 'ok' }>,
): string {
  switch (outcome.kind) {
    case 'request_too_large':
      return `gateway: ${functionLogicalId}: the event is ${outcome.bytes} bytes, over Lambda's 6 MB`;
    case 'response_too_large':
      return `gateway: ${functionLogicalId}: the result is ${outcome.bytes} bytes, over Lambda's 6 MB`;
    case 'integration_timeout':
      return `gateway: ${functionLogicalId}: no answer within the integration timeout (${outcome.timeoutMs} ms)`;
    case 'function_error':
      return `gateway: ${functionLogicalId} failed: ${outcome.errorType}: ${outcome.errorMessage}`;
  }
}
