/**
 * The `AWS_IAM` step of a route: SigV4 verification, then the caller's identity policy and the
 * API's resource policy evaluated together as API Gateway does
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
 * an explicit Deny in either refuses; a caller of the API's own account needs an Allow in either, a
 * caller of another account needs an Allow in both.
 */
import { evaluatePolicy } from './policy-evaluation.ts';
import { evaluateResourcePolicy, type ResourceStatement } from './resource-policy.ts';
import {
  type IamPrincipal,
  type LocalIamCredential,
  type SignedRequest,
  type SigV4Refusal,
  verifySigV4,
} from './sigv4.ts';

/** The outcome of the IAM step. */
export type IamOutcome =
  | { readonly ok: true; readonly principal: IamPrincipal; readonly accessKeyId: string }
  | {
      readonly ok: false;
      readonly responseType: 'MISSING_AUTHENTICATION_TOKEN' | 'INVALID_SIGNATURE' | 'ACCESS_DENIED';
      readonly errorType: string;
      readonly message: string;
      /** For the access log: `unauthorized` (not authenticated), `explicit_deny` or `no_allow`. */
      readonly result: 'unauthorized' | 'explicit_deny' | 'no_allow';
      /** For the access log: why the signature was refused (`signature_expired`...); absent for policy refusals. */
      readonly reason: SigV4Refusal['reason'] | undefined;
      readonly principal: IamPrincipal | undefined;
    };

/** Inputs of {@link authorizeIam}. */
export interface IamInput {
  readonly request: SignedRequest;
  readonly methodArn: string;
  readonly region: string;
  /** The API owner's account. */
  readonly accountId: string;
  readonly nowMs: number;
  readonly credential: (accessKeyId: string) => LocalIamCredential | undefined;
  /** The API's resource policy (REST APIs), with what it is evaluated against. */
  readonly resourcePolicy?: {
    readonly statements: readonly ResourceStatement[];
    readonly apiArnPrefix: string;
    readonly sourceIp: string;
  };
}

/** Authenticates and authorizes a request to an IAM route. */
export async function authorizeIam(input: IamInput): Promise<IamOutcome> {
  const verified = await verifySigV4(input.request, {
    region: input.region,
    nowMs: input.nowMs,
    credential: input.credential,
  });
  if (!verified.ok)
    return {
      ok: false,
      responseType: verified.responseType,
      errorType: verified.errorType,
      message: verified.message,
      result: 'unauthorized',
      reason: verified.reason,
      principal: undefined,
    };
  const { principal } = verified.credential;
  const identity = evaluatePolicy(verified.credential.statements, input.methodArn);
  const resource =
    input.resourcePolicy === undefined
      ? 'no_allow'
      : evaluateResourcePolicy(
          input.resourcePolicy.statements,
          input.methodArn,
          input.resourcePolicy.apiArnPrefix,
          input.resourcePolicy.sourceIp,
          { arn: principal.arn, accountId: principal.accountId },
        );
  const denied = (result: 'explicit_deny' | 'no_allow') => ({
    ok: false as const,
    responseType: 'ACCESS_DENIED' as const,
    errorType: 'AccessDeniedException',
    message: `User: ${principal.arn} is not authorized to perform: execute-api:Invoke on resource: ${input.methodArn}${result === 'explicit_deny' ? ' with an explicit deny' : ''}`,
    result,
    reason: undefined,
    principal,
  });
  if (identity === 'explicit_deny' || resource === 'explicit_deny') return denied('explicit_deny');
  const sameAccount = principal.accountId === input.accountId;
  const allowed = sameAccount
    ? identity === 'allow' || resource === 'allow'
    : identity === 'allow' && resource === 'allow';
  if (!allowed) return denied('no_allow');
  return { ok: true, principal, accessKeyId: verified.credential.accessKeyId };
}
