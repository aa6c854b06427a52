import type { PolicyResponse } from '../../shared/authz/answer.ts';
import { patternMatches } from '../../shared/policy/resource-pattern.ts';
import type { InvocationResult } from '../../tools/lambda/runtime.ts';

/** What API Gateway does with an authorizer's answer for one request. */
export type Outcome = 'allow' | 'deny' | 'unauthorized';

/** API Gateway's verdict for a policy answer on a method ARN: an explicit Deny wins, then any Allow. */
export function permits(response: PolicyResponse, arn: string): boolean {
  const hit = (effect: string) =>
    response.policyDocument.Statement.some(
      (s) => s.Effect === effect && s.Resource.some((r) => patternMatches(r, arn)),
    );
  return !hit('Deny') && hit('Allow');
}

/** The outcome of an authorizer invocation for its event (`error: ...` for a failure). */
export function outcomeOf(result: InvocationResult, event: Record<string, unknown>): Outcome | string {
  if (!result.ok)
    return result.error.errorMessage === 'Unauthorized'
      ? 'unauthorized'
      : `error: ${result.error.errorMessage}`;
  const value = result.result as Record<string, unknown>;
  if ('isAuthorized' in value) return value.isAuthorized === true ? 'allow' : 'deny';
  return permits(value as unknown as PolicyResponse, String(event.methodArn ?? event.routeArn))
    ? 'allow'
    : 'deny';
}

/** The reason of the decision an invocation logged last (from its log tail, as Lambda's `LogType: Tail`). */
export function loggedReason(result: { readonly logTail?: string }): string | undefined {
  return [...(result.logTail ?? '').matchAll(/"reason":"([a-z_]+)"/g)].at(-1)?.[1];
}
