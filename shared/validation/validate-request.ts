/**
 * The pure core of the request validator: a normalized proxy request and the precompiled table in,
 * either the validated request (typed parameters, parsed body) or a problem out.
 */
import type { HttpMethod, Route, RouteMatcher } from '../routes/route-table.ts';
import { type BodyLimits, bodyText, parseJsonBody } from './body.ts';
import { type RawValues, typedParameters } from './params.ts';
import { type Problem, type ProblemError, problem, schemaErrors } from './problem.ts';
import type { ProxyRequest } from './proxy-event.ts';
import type { OperationValidation, ValidationTable } from './table.ts';

/** A request that passed every check. */
export interface ValidatedRequest {
  readonly route: Route;
  readonly operation: OperationValidation;
  /** Typed, validated parameter values of the declared parameters only. */
  readonly params: {
    readonly path: Readonly<Record<string, unknown>>;
    readonly query: Readonly<Record<string, unknown>>;
    readonly header: Readonly<Record<string, unknown>>;
  };
  /** The body's media type essence and validated value, when a body was sent. */
  readonly body: { readonly mediaType: string; readonly value: unknown } | undefined;
}

export type ValidationOutcome =
  | { readonly ok: true; readonly request: ValidatedRequest }
  | {
      readonly ok: false;
      readonly problem: Problem;
      readonly allow?: readonly HttpMethod[];
      /** The matched route, when the request got that far (for logs and per-route metrics). */
      readonly route?: Route;
    };

/** What the validator needs. */
export interface ValidatorDeps {
  readonly matcher: RouteMatcher;
  readonly table: ValidationTable;
  readonly limits: BodyLimits;
}

function fail(reason: Parameters<typeof problem>[0], errors?: readonly ProblemError[]): ValidationOutcome {
  return { ok: false, problem: problem(reason, errors) };
}

/** Media type essence of a Content-Type, or undefined when it is not one or names another charset. */
export function mediaTypeOf(contentType: string): string | undefined {
  const [essence, ...params] = contentType.split(';');
  const type = essence?.trim().toLowerCase() ?? '';
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    // JSON is UTF-8 (RFC 8259 §8.1); any other declared charset is refused rather than misread.
    if (name === 'charset' && value?.replace(/"/g, '') !== 'utf-8') return undefined;
  }
  return type;
}

function pathParameters(
  request: ProxyRequest,
  route: Route,
  matched: Readonly<Record<string, string>> | undefined,
): RawValues | undefined {
  const out = new Map<string, string[]>();
  for (const m of route.path.matchAll(/\{([^{}]+)\}/g)) {
    const name = m[1] as string;
    const fromMatch = matched?.[name];
    let value: string | undefined;
    if (fromMatch !== undefined) {
      try {
        value = decodeURIComponent(fromMatch);
      } catch {
        return undefined;
      }
    } else value = request.pathParameters?.[name];
    if (value !== undefined) out.set(name, [value]);
  }
  return out;
}

/** Checks one request against the document. Never throws for any input. */
export function validateRequest(request: ProxyRequest, deps: ValidatorDeps): ValidationOutcome {
  try {
    return validateUnguarded(request, deps);
  } catch {
    // Generated code that throws (the build refuses the keywords known to) must never forward.
    return fail('internal_error');
  }
}

function validateUnguarded(request: ProxyRequest, deps: ValidatorDeps): ValidationOutcome {
  // The route: the template API Gateway matched when it is one of ours, else the concrete path.
  let route: Route | undefined;
  let matched: Readonly<Record<string, string>> | undefined;
  if (request.template !== undefined) route = deps.matcher.byTemplate(request.method, request.template);
  if (route === undefined) {
    const lookup = deps.matcher.lookup(request.method, request.path);
    if (lookup.kind === 'not_found') return fail('route_not_found');
    if (lookup.kind === 'method_not_allowed')
      return { ok: false, problem: problem('method_not_allowed'), allow: lookup.allowed };
    route = lookup.match.route;
    matched = lookup.match.params;
  }
  const outcome = validateForRoute(request, deps, route, matched);
  return outcome.ok ? outcome : { ...outcome, route };
}

function validateForRoute(
  request: ProxyRequest,
  deps: ValidatorDeps,
  route: Route,
  matched: Readonly<Record<string, string>> | undefined,
): ValidationOutcome {
  const operation = Object.hasOwn(deps.table, route.operationId) ? deps.table[route.operationId] : undefined;
  // Fail closed: a route without a compiled validator is never forwarded.
  if (operation === undefined) return fail('internal_error');

  const errors: ProblemError[] = [];
  const rawPath = pathParameters(request, route, matched);
  if (rawPath === undefined)
    return fail('parameter_invalid', [
      { pointer: '/path', keyword: 'format', message: 'must be percent-encoded UTF-8' },
    ]);
  const params = {
    path: typedParameters('path', operation.path, rawPath, errors),
    query: typedParameters('query', operation.query, request.query, errors),
    header: typedParameters('header', operation.header, request.headers, errors),
  };
  if (!operation.params(params)) errors.push(...schemaErrors(operation.params.errors));
  if (errors.length > 0) return fail('parameter_invalid', errors.slice(0, 10));

  const text = bodyText(request.body, request.isBase64Encoded, deps.limits.maxBytes);
  if (!text.ok) return fail(text.reason);
  if (text.text === '') {
    if (operation.body?.required === true) return fail('body_required');
    return { ok: true, request: { route, operation, params, body: undefined } };
  }
  const contentType = request.headers.get('content-type');
  const mediaType = contentType?.length === 1 ? mediaTypeOf(contentType[0] as string) : undefined;
  const validate = mediaType === undefined ? undefined : operation.body?.media[mediaType];
  if (validate === undefined || mediaType === undefined) return fail('media_type_unsupported');
  const parsed = parseJsonBody(text.text, deps.limits.maxDepth);
  if (!parsed.ok) return fail(parsed.reason);
  if (!validate(parsed.value)) return fail('body_invalid', schemaErrors(validate.errors));
  return { ok: true, request: { route, operation, params, body: { mediaType, value: parsed.value } } };
}
