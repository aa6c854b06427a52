/**
 * Path parameters bound to the caller (docs/tenant-binding.md): `x-gatehouse-bind` on a path
 * parameter of the API document makes a route usable only with the caller's own value in that
 * position (a JWT claim such as `custom:tenant_id`, or the `tenant` attribute of an API key or
 * Basic user). The authorizers write that value into their policies as a literal, so API Gateway
 * refuses other values itself; the request validator checks it again from the authorizer context.
 *
 * A value goes into a policy only when it cannot widen the IAM pattern it is written into: pure,
 * shared by both authorizers and the validator.
 */

/** Credential attributes a path parameter can be bound to (KeyAuthorizerFunction). */
export const CREDENTIAL_ATTRIBUTES = ['tenant'] as const;
export type CredentialAttribute = (typeof CREDENTIAL_ATTRIBUTES)[number];

/** Where a caller's bound values come from: the JWT authorizer reads claims, the key authorizer credentials. */
export type BindingSource = 'claim' | 'credential';

/** A path parameter bound to the caller, as the generated route table carries it. */
export interface PathBinding {
  /** The path parameter's name; a whole segment of the route's path. */
  readonly param: string;
  /** The JWT claim holding the caller's value (exact name, may contain `:`); absent: JWT callers have none. */
  readonly claim?: string;
  /** The credential attribute holding the caller's value; absent: API keys and Basic users have none. */
  readonly credential?: CredentialAttribute;
  /** The parameter schema's `pattern` (ECMAScript, Unicode mode as ajv compiles it). */
  readonly pattern?: string;
  /** The parameter schema's `enum`. */
  readonly enum?: readonly string[];
  readonly minLength?: number;
  /** The longest value the schema admits (at most {@link BOUND_VALUE_MAX_LENGTH}). */
  readonly maxLength: number;
}

/** Why a caller has no usable value for a binding (403; docs/tenant-binding.md#reason-codes). */
export type BindingProblem =
  /** The claim (or credential attribute) is absent. */
  | 'tenant_claim_missing'
  /** It holds characters that could widen an IAM pattern or change the path (`*`, `?`, `/`, `%`, ...). */
  | 'tenant_claim_unsafe'
  /** It is not a string, or is outside the parameter's schema. */
  | 'tenant_claim_invalid';

/** Why a verified caller may not use a bound route for this request. */
export type BindingRefusal = BindingProblem | 'tenant_mismatch';

/** A caller's value for one bound parameter: usable in a policy, or why not. */
export type BoundValue =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: BindingProblem };

/** A caller's values, by bound parameter name. */
export type BoundValues = Readonly<Record<string, BoundValue>>;

/** The longest value a binding takes. */
export const BOUND_VALUE_MAX_LENGTH = 128;

/**
 * The only characters a bound value may have: RFC 3986 unreserved characters. This leaves out IAM's
 * wildcards (`*`, `?`), `/` (another segment; IAM's `*` spans it), `%` (encoded forms of anything),
 * `$`, `{` and `}` (policy variables), `:`, whitespace, control and non-ASCII characters.
 */
const UNRESERVED = /^[A-Za-z0-9._~-]{1,128}$/;

/** The authorizer context key carrying a bound value (`bind_tenantId`). */
export const BOUND_CONTEXT_PREFIX = 'bind_';

/** True when a value can be written into a policy as a literal path segment. */
export function isSafeBoundValue(value: string): boolean {
  // `.` and `..` are dot segments: URL handling removes them, so they never name a segment.
  return UNRESERVED.test(value) && value !== '.' && value !== '..';
}

const compiled = new WeakMap<PathBinding, RegExp>();

function patternOf(binding: PathBinding): RegExp | undefined {
  if (binding.pattern === undefined) return undefined;
  let re = compiled.get(binding);
  if (re === undefined) {
    re = new RegExp(binding.pattern, 'u');
    compiled.set(binding, re);
  }
  return re;
}

/** Checks a caller's raw value (a claim, an attribute) for a binding. */
export function checkBoundValue(binding: PathBinding, raw: unknown): BoundValue {
  if (raw === undefined || raw === null) return { ok: false, reason: 'tenant_claim_missing' };
  if (typeof raw !== 'string') return { ok: false, reason: 'tenant_claim_invalid' };
  if (!isSafeBoundValue(raw)) return { ok: false, reason: 'tenant_claim_unsafe' };
  const inSchema =
    raw.length <= binding.maxLength &&
    raw.length >= (binding.minLength ?? 0) &&
    (binding.enum === undefined || binding.enum.includes(raw)) &&
    (patternOf(binding)?.test(raw) ?? true);
  return inSchema ? { ok: true, value: raw } : { ok: false, reason: 'tenant_claim_invalid' };
}

/** One binding per bound parameter name of a table (the build makes them agree across routes). */
export function tableBindings(
  routes: readonly { readonly bindings?: readonly PathBinding[] }[],
): readonly PathBinding[] {
  const byParam = new Map<string, PathBinding>();
  for (const route of routes)
    for (const b of route.bindings ?? []) if (!byParam.has(b.param)) byParam.set(b.param, b);
  return [...byParam.values()];
}

/**
 * A caller's values for every bound parameter of a table, read from its claims (`source` claim) or
 * its credential's attributes (`credential`). A binding that names nothing for the source is missing.
 */
export function resolveBoundValues(
  bindings: readonly PathBinding[],
  source: BindingSource,
  read: (name: string) => unknown,
): BoundValues {
  const out: Record<string, BoundValue> = {};
  for (const b of bindings) {
    const name = source === 'claim' ? b.claim : b.credential;
    out[b.param] = checkBoundValue(b, name === undefined ? undefined : read(name));
  }
  return out;
}

/** The bound values that are usable, as authorizer context entries (`bind_tenantId: "acme"`). */
export function boundContext(bound: BoundValues | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (bound === undefined) return out;
  for (const [param, v] of Object.entries(bound)) if (v.ok) out[`${BOUND_CONTEXT_PREFIX}${param}`] = v.value;
  return out;
}

/** True when the caller has a usable value for every binding of the route (or it has none). */
export function bindingsUsable(
  route: { readonly bindings?: readonly PathBinding[] },
  bound?: BoundValues,
): boolean {
  const bindings = route.bindings;
  if (bindings === undefined) return true;
  for (const b of bindings) if (bound?.[b.param]?.ok !== true) return false;
  return true;
}

/**
 * Whether a request to a bound route carries the caller's own values: `params` are the path's
 * values as the route matcher read them (percent-encoding kept, as in the method ARN the policy is
 * evaluated against). Undefined when the binding holds.
 */
export function bindingRefusal(
  route: { readonly bindings?: readonly PathBinding[] },
  params: Readonly<Record<string, string>>,
  bound: BoundValues | undefined,
): BindingRefusal | undefined {
  for (const b of route.bindings ?? []) {
    const mine = bound?.[b.param];
    if (mine === undefined) return 'tenant_claim_missing';
    if (!mine.ok) return mine.reason;
    if (params[b.param] !== mine.value) return 'tenant_mismatch';
  }
  return undefined;
}
