/**
 * API Gateway's evaluation of a Lambda authorizer's answer against one request, and the checks it
 * makes on the answer's shape. Pure. IAM semantics: an explicit Deny on a matching statement wins,
 * otherwise some Allow must match; `*` and `?` are wildcards (`patternMatches`).
 */
import { patternMatches } from '../../shared/policy/resource-pattern.ts';

/** A well-formed authorizer answer (REST / payload 1.0). */
export interface AuthorizerAnswer {
  readonly principalId: string;
  readonly statements: readonly PolicyStatement[];
  /** Context values as API Gateway passes them to a REST integration: strings. */
  readonly context: Readonly<Record<string, string>>;
  readonly usageIdentifierKey: string | undefined;
}

/** One statement of the policy, reduced to what API Gateway evaluates. */
export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** Result of evaluating an answer: `allow`, `explicit_deny` or `no_allow` (implicit deny). */
export type PolicyOutcome = 'allow' | 'explicit_deny' | 'no_allow';

function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * Checks the answer's shape as API Gateway does; `undefined` for a malformed answer (API Gateway
 * answers 500 AuthorizerConfigurationException and caches nothing).
 */
export function readAuthorizerAnswer(result: unknown): AuthorizerAnswer | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  if (typeof r.principalId !== 'string') return undefined;
  const doc = r.policyDocument;
  if (typeof doc !== 'object' || doc === null) return undefined;
  // IAM policy element names are case-sensitive: a document without `Statement` (misspelt,
  // `statement`) is malformed, and API Gateway answers 500 for it rather than reading an empty policy
  // (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
  if (!Object.hasOwn(doc, 'Statement')) return undefined;
  const rawStatements = (doc as Record<string, unknown>).Statement;
  if (typeof rawStatements !== 'object' || rawStatements === null) return undefined;
  const list = Array.isArray(rawStatements) ? rawStatements : [rawStatements];
  const statements: PolicyStatement[] = [];
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const s = raw as Record<string, unknown>;
    const effect = s.Effect;
    const actions = strings(s.Action);
    const resources = strings(s.Resource);
    if ((effect !== 'Allow' && effect !== 'Deny') || actions === undefined || resources === undefined)
      return undefined;
    statements.push({ effect, actions, resources });
  }
  const context: Record<string, string> = {};
  if (r.context !== undefined && r.context !== null) {
    if (typeof r.context !== 'object' || Array.isArray(r.context)) return undefined;
    for (const [k, v] of Object.entries(r.context as Record<string, unknown>)) {
      // REST APIs accept only primitive context values and hand them on as strings.
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
      context[k] = String(v);
    }
  }
  const key = r.usageIdentifierKey;
  if (key !== undefined && typeof key !== 'string') return undefined;
  return { principalId: r.principalId, statements, context, usageIdentifierKey: key };
}

function actionMatches(pattern: string): boolean {
  // IAM action names are case-insensitive.
  return patternMatches(pattern.toLowerCase(), 'execute-api:invoke');
}

/** Evaluates the policy against the request's method ARN. */
export function evaluatePolicy(statements: readonly PolicyStatement[], methodArn: string): PolicyOutcome {
  let allowed = false;
  for (const s of statements) {
    if (!s.actions.some(actionMatches)) continue;
    if (!s.resources.some((r) => patternMatches(r, methodArn))) continue;
    if (s.effect === 'Deny') return 'explicit_deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'no_allow';
}
