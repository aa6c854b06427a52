/**
 * The API's resource policy (`Auth.ResourcePolicy` of a SAM Api), evaluated before any authorizer as
 * API Gateway does: statements on `execute-api:Invoke`, resources written `execute-api:/stage/METHOD/path`,
 * and the source-IP conditions (`IpAddress` / `NotIpAddress` on `aws:SourceIp`). Pure.
 */
import { sourceIpAllowed } from '../../shared/credentials/cidr.ts';
import { patternMatches } from '../../shared/policy/resource-pattern.ts';
import { TemplateError } from '../template/template.ts';

/** One source-IP condition of a statement. */
export interface IpCondition {
  readonly operator: 'IpAddress' | 'NotIpAddress';
  readonly cidrs: readonly string[];
}

/** One statement of a resource policy, reduced to what is evaluated locally. */
export interface ResourceStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  /** Resources as written (`execute-api:/*` or full ARNs). */
  readonly resources: readonly string[];
  readonly ipConditions: readonly IpCondition[];
  /** Some condition this evaluator does not know (VPC endpoints, ...). */
  readonly unsupportedCondition: boolean;
  /**
   * Who the statement is about: `any` (`Principal: '*'`), or the AWS principals it names (ARNs or
   * account ids). An anonymous caller is only ever matched by `any`.
   */
  readonly principals?: 'any' | readonly string[];
}

/** The signed caller of an IAM route, as the resource policy sees it. */
export interface PolicyCaller {
  readonly arn: string;
  readonly accountId: string;
}

/** Outcome of the resource policy for one request. */
export type ResourcePolicyOutcome = 'allow' | 'explicit_deny' | 'no_allow';

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function principalsOf(value: unknown): 'any' | string[] {
  if (value === undefined || value === '*') return 'any';
  const aws = (value as Record<string, unknown>).AWS;
  if (aws === '*') return 'any';
  return strings(aws);
}

const STATEMENT_KEYS = ['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'];

/**
 * Reads the statements of SAM's `Auth.ResourcePolicy` (CustomStatements, IpRangeWhitelist/Blacklist).
 * Anything else (VPC and account lists, `NotAction`, `NotPrincipal`, ...) is refused: the local
 * gateway would otherwise answer differently from API Gateway without saying so.
 */
export function readResourcePolicy(
  policy: unknown,
  where = 'Auth.ResourcePolicy',
): ResourceStatement[] | undefined {
  if (typeof policy !== 'object' || policy === null) return undefined;
  const p = policy as Record<string, unknown>;
  const unknownKeys = Object.keys(p).filter(
    (k) => !['CustomStatements', 'IpRangeWhitelist', 'IpRangeBlacklist'].includes(k),
  );
  if (unknownKeys.length > 0)
    throw new TemplateError(
      `${where}: ${unknownKeys.join(', ')} not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
    );
  const out: ResourceStatement[] = [];
  const custom = p.CustomStatements;
  for (const raw of Array.isArray(custom) ? custom : custom === undefined ? [] : [custom]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const s = raw as Record<string, unknown>;
    const extra = Object.keys(s).filter((k) => !STATEMENT_KEYS.includes(k));
    if (extra.length > 0)
      throw new TemplateError(
        `${where}.CustomStatements: ${extra.join(', ')} not emulated by the local gateway (docs/local-gateway.md#not-emulated)`,
      );
    const ipConditions: IpCondition[] = [];
    let unsupportedCondition = false;
    for (const [operator, body] of Object.entries(
      (s.Condition as Record<string, unknown> | undefined) ?? {},
    )) {
      const keys = Object.entries((body as Record<string, unknown>) ?? {});
      if (
        (operator === 'IpAddress' || operator === 'NotIpAddress') &&
        keys.every(([k]) => k === 'aws:SourceIp')
      )
        ipConditions.push({ operator, cidrs: keys.flatMap(([, v]) => strings(v)) });
      else unsupportedCondition = true;
    }
    out.push({
      effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
      actions: strings(s.Action),
      resources: strings(s.Resource),
      ipConditions,
      unsupportedCondition,
      principals: principalsOf(s.Principal),
    });
  }
  // SAM's shorthands become an Allow for the listed ranges (whitelist) or a Deny (blacklist).
  const allowList = strings(p.IpRangeWhitelist);
  if (allowList.length > 0) {
    const all = ['execute-api:/*'];
    out.push({
      effect: 'Allow',
      actions: ['execute-api:Invoke'],
      resources: all,
      ipConditions: [{ operator: 'IpAddress', cidrs: allowList }],
      unsupportedCondition: false,
    });
  }
  const denyList = strings(p.IpRangeBlacklist);
  if (denyList.length > 0) {
    out.push({
      effect: 'Deny',
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      ipConditions: [{ operator: 'IpAddress', cidrs: denyList }],
      unsupportedCondition: false,
    });
  }
  return out.length > 0 ? out : undefined;
}

function principalMatches(s: ResourceStatement, caller: PolicyCaller | undefined): boolean {
  const principals = s.principals ?? 'any';
  if (principals === 'any') return true;
  if (caller === undefined) return false;
  return principals.some(
    (p) => p === caller.arn || p === caller.accountId || p === `arn:aws:iam::${caller.accountId}:root`,
  );
}

function conditionsHold(s: ResourceStatement, sourceIp: string): boolean {
  // Fail closed: a condition we cannot evaluate makes a Deny apply and an Allow not apply.
  if (s.unsupportedCondition) return s.effect === 'Deny';
  return s.ipConditions.every((c) => {
    const inRange = c.cidrs.length > 0 && sourceIpAllowed(sourceIp, c.cidrs);
    return c.operator === 'IpAddress' ? inRange : !inRange;
  });
}

/**
 * Evaluates the policy for a request. `apiArnPrefix` is `arn:aws:execute-api:{region}:{account}:{apiId}`,
 * which `execute-api:/...` resources are relative to. `caller` is the signed principal of an IAM
 * route (undefined: anonymous, matched only by `Principal: '*'`).
 */
export function evaluateResourcePolicy(
  statements: readonly ResourceStatement[],
  methodArn: string,
  apiArnPrefix: string,
  sourceIp: string,
  caller?: PolicyCaller,
): ResourcePolicyOutcome {
  let allowed = false;
  for (const s of statements) {
    if (!principalMatches(s, caller)) continue;
    if (!s.actions.some((a) => patternMatches(a.toLowerCase(), 'execute-api:invoke'))) continue;
    const resources = s.resources.map((r) =>
      r.startsWith('execute-api:/') ? `${apiArnPrefix}/${r.slice('execute-api:/'.length)}` : r,
    );
    if (!resources.some((r) => patternMatches(r, methodArn))) continue;
    if (!conditionsHold(s, sourceIp)) continue;
    if (s.effect === 'Deny') return 'explicit_deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'no_allow';
}
