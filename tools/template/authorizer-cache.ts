/**
 * Checks that API Gateway keys each Gatehouse authorizer's cache as the route table's cache mode
 * needs (docs/policies.md#cache-modes). A cached answer is reused for every request whose identity
 * source values are the same: the key must hold at least what the answer was decided on.
 */
import type { CacheMode, PolicyPlanData } from '../../shared/policy/policy-compiler.ts';
import { serverlessApiKind, type Template } from './template.ts';

/** The authorizer functions whose answers come from the route table. */
export const GATEHOUSE_AUTHORIZERS = ['JwtAuthorizerFunction', 'KeyAuthorizerFunction'] as const;

/**
 * Context variables the identity sources must include, beside the credential, for an authorizer
 * whose results are cached: REST (`context.<name>`) or HTTP API (`$context.<name>`); `simple` is an
 * HTTP API authorizer with simple responses (a boolean, reused for every request of the key).
 */
export function requiredContext(
  mode: CacheMode,
  api: 'rest' | 'http',
  simple: boolean,
  routeKeysExact: boolean,
): readonly string[] {
  if (api === 'http') {
    if (simple) return routeKeysExact ? ['routeKey'] : ['httpMethod', 'path'];
    return mode === 'api' ? [] : mode === 'route' ? ['routeKey'] : ['httpMethod', 'path'];
  }
  return mode === 'api' ? [] : mode === 'route' ? ['httpMethod', 'resourcePath'] : ['httpMethod', 'path'];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The function an authorizer's `FunctionArn: !GetAtt X.Arn` names. */
function functionOf(authorizer: Json): string | undefined {
  const arn = authorizer.FunctionArn;
  if (!isObject(arn)) return undefined;
  const getAtt = arn['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

/** Whether results may be cached: `ReauthorizeEvery` 0 turns caching off; anything else may not. */
function mayCache(template: Template, identity: Json): boolean {
  const ttl = identity.ReauthorizeEvery;
  if (typeof ttl === 'number') return ttl > 0;
  if (isObject(ttl) && typeof ttl.Ref === 'string') {
    const parameter = template.Parameters?.[ttl.Ref];
    const max = (parameter as { MaxValue?: unknown } | undefined)?.MaxValue;
    return !(max === 0 || (parameter?.AllowedValues?.every((v) => Number(v) === 0) ?? false));
  }
  return true;
}

/**
 * Problems with the Gatehouse authorizers of a SAM template for the plan's cache mode: one line per
 * authorizer whose identity sources would let API Gateway reuse an answer beyond what it covers.
 */
export function checkAuthorizerCache(
  template: Template,
  plan: Pick<PolicyPlanData, 'mode' | 'routeKeysExact'>,
  functions: readonly string[] = GATEHOUSE_AUTHORIZERS,
): string[] {
  const problems: string[] = [];
  const globalAuth = isObject(template.Globals?.Api) ? (template.Globals.Api as Json).Auth : undefined;
  for (const [id, resource] of Object.entries(template.Resources)) {
    const api = serverlessApiKind(resource);
    if (api === undefined) continue;
    const auth = {
      ...(api === 'rest' && isObject(globalAuth) ? globalAuth : {}),
      ...(resource.Properties?.Auth as Json),
    };
    const authorizers = isObject(auth.Authorizers) ? auth.Authorizers : {};
    for (const [name, raw] of Object.entries(authorizers)) {
      if (!isObject(raw)) continue;
      const fn = functionOf(raw);
      if (fn === undefined || !functions.includes(fn)) continue;
      const identity = isObject(raw.Identity) ? raw.Identity : {};
      if (!mayCache(template, identity)) continue;
      const simple = api === 'http' && raw.EnableSimpleResponses === true;
      const needed = requiredContext(plan.mode, api, simple, plan.routeKeysExact);
      if (needed.length === 0) continue;
      const where = `${id} authorizer ${name} (${fn})`;
      const payload = raw.FunctionPayloadType ?? (api === 'rest' ? 'TOKEN' : 'REQUEST');
      if (api === 'rest' && payload !== 'REQUEST') {
        problems.push(
          `${where}: cache mode ${plan.mode} needs a REQUEST authorizer whose identity sources include ${needed.map((n) => `context.${n}`).join(' and ')} (a TOKEN authorizer's cache is keyed by the token alone), or ReauthorizeEvery: 0`,
        );
        continue;
      }
      const context = Array.isArray(identity.Context) ? identity.Context : [];
      const missing = needed.filter((n) => !context.includes(n));
      if (missing.length > 0) {
        const prefix = api === 'rest' ? 'context.' : '$context.';
        problems.push(
          `${where}: ${simple ? 'simple responses' : `cache mode ${plan.mode}`} need${simple ? '' : 's'} ${missing.map((n) => `${prefix}${n}`).join(' and ')} among the identity sources (Identity: Context: [${needed.join(', ')}]), or ReauthorizeEvery: 0`,
        );
      }
    }
  }
  return problems;
}
