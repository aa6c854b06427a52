/**
 * The pure core of the request validator: a normalized proxy request and the generated table in,
 * either the validated request (read parameters, parsed body) or a problem out.
 */
import {
  type HttpMethod,
  type RouteMatcher,
  takesWholeResource,
  type ValidatorRoute,
} from '../routes/route-table.ts';
import { type BodyLimits, bodyBytes, bodyText, parseJsonBody } from './body.ts';
import { isUtf8, matchMedia, parseContentType } from './media.ts';
import { cookiePairs, type RawValues, type ReadParameters, readParametersWith } from './params.ts';
import { type Problem, type ProblemError, problem, schemaErrors } from './problem.ts';
import type { ProxyRequest } from './proxy-event.ts';
import type { OperationValidation, ValidationTable } from './table.ts';
import { DEFAULT_NESTING } from './text-values.ts';
import type { ValidatedBody } from './upstream-body.ts';

export { mediaTypeOf } from './media.ts';

/** A request that passed every check. */
export interface ValidatedRequest<R extends ValidatorRoute = ValidatorRoute> {
  readonly route: R;
  readonly operation: OperationValidation;
  /** Read, validated values of the declared parameters only. */
  readonly params: ReadParameters;
  /** Path parameter values as received (percent-decoded), by name. */
  readonly rawPath: Readonly<Record<string, string>>;
  /** The query as received (every name declared and validated). */
  readonly rawQuery: RawValues;
  /** The validated body, when one was sent. */
  readonly body: ValidatedBody | undefined;
}

export type ValidationOutcome<R extends ValidatorRoute = ValidatorRoute> =
  | { readonly ok: true; readonly request: ValidatedRequest<R> }
  | {
      readonly ok: false;
      readonly problem: Problem;
      readonly allow?: readonly HttpMethod[];
      /** The matched route, when the request got that far (for logs and per-route metrics). */
      readonly route?: R;
    };

/** What the validator needs (`R`: the routes the matcher holds). */
export interface ValidatorDeps<R extends ValidatorRoute = ValidatorRoute> {
  readonly matcher: RouteMatcher<R>;
  readonly table: ValidationTable;
  readonly limits: BodyLimits;
}

function fail(
  reason: Parameters<typeof problem>[0],
  errors?: readonly ProblemError[],
): ValidationOutcome<never> {
  return { ok: false, problem: problem(reason, errors) };
}

function pathParameters(
  request: ProxyRequest,
  route: ValidatorRoute,
  matched: Readonly<Record<string, string>> | undefined,
): Map<string, string[]> | undefined {
  const out = new Map<string, string[]>();
  for (const m of route.path.matchAll(/\{([^{}]+)\}/g)) {
    const name = (m[1] as string).replace(/\+$/, '');
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
export function validateRequest<R extends ValidatorRoute>(
  request: ProxyRequest,
  deps: ValidatorDeps<R>,
): ValidationOutcome<R> {
  try {
    return validateUnguarded(request, deps);
  } catch {
    // Generated code that throws (the build refuses the keywords known to) must never forward.
    return fail('internal_error');
  }
}

function validateUnguarded<R extends ValidatorRoute>(
  request: ProxyRequest,
  deps: ValidatorDeps<R>,
): ValidationOutcome<R> {
  // The route: the template API Gateway matched when it is one of ours, else the concrete path.
  let route: R | undefined;
  let matched: Readonly<Record<string, string>> | undefined;
  if (request.template !== undefined) {
    const named = deps.matcher.byTemplate(request.method, request.template);
    // The resource names the operation only when the operation takes all of it: `/v1/{name}` also
    // takes `/v1/x:explain` beside a `/v1/{name}:predict` operation, so that goes by the path.
    if (named !== undefined && takesWholeResource(named)) route = named;
  }
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

function validateForRoute<R extends ValidatorRoute>(
  request: ProxyRequest,
  deps: ValidatorDeps<R>,
  route: R,
  matched: Readonly<Record<string, string>> | undefined,
): ValidationOutcome<R> {
  // Fail closed: a route whose validators are missing or cannot be loaded is never forwarded.
  const operation = deps.table.operation(`${route.method} ${route.path}`);
  if (operation === undefined) return fail('internal_error');

  const errors: ProblemError[] = [];
  const rawPath = pathParameters(request, route, matched);
  if (rawPath === undefined)
    return fail('parameter_invalid', [
      { pointer: '/path', keyword: 'format', message: 'must be percent-encoded UTF-8' },
    ]);
  // Bound path parameters, checked again from the authorizer's context (docs/tenant-binding.md)
  // before anything else about the request is said to a caller it may not belong to.
  for (const b of route.bindings ?? []) {
    const mine = request.identity.bound?.[b.param];
    if (mine === undefined || mine === '') return fail('tenant_binding_missing');
    if (rawPath.get(b.param)?.[0] !== mine) return fail('tenant_mismatch');
  }
  if (request.malformedQuery)
    return fail('parameter_invalid', [
      { pointer: '/query', keyword: 'format', message: 'must be percent-encoded UTF-8' },
    ]);
  const limits = { ...DEFAULT_NESTING, maxJsonDepth: deps.limits.maxDepth };
  const params = readParametersWith(
    deps.table.readers,
    operation.parameters,
    operation.shapes,
    {
      path: rawPath,
      query: request.query,
      header: request.headers,
      cookie: cookiePairs(request.headers.get('cookie')),
    },
    errors,
    limits,
  );
  if (!operation.params(params)) errors.push(...schemaErrors(operation.params.errors));
  if (errors.length > 0) return fail('parameter_invalid', errors.slice(0, 10));

  const validated = (body: ValidatedBody | undefined): ValidationOutcome<R> => ({
    ok: true,
    request: {
      route,
      operation,
      params,
      rawPath: Object.fromEntries([...rawPath].map(([k, v]) => [k, v[0] as string])),
      rawQuery: request.query,
      body,
    },
  });

  const empty = request.body === undefined || request.body === null || request.body === '';
  if (empty) {
    if (operation.body?.required === true) return fail('body_required');
    return validated(undefined);
  }
  const contentTypes = request.headers.get('content-type');
  const contentTypeHeader = contentTypes?.length === 1 ? (contentTypes[0] as string).trim() : undefined;
  const contentType = contentTypeHeader === undefined ? undefined : parseContentType(contentTypeHeader);
  const match =
    contentType === undefined ? undefined : matchMedia(operation.body?.media ?? {}, contentType.essence);
  if (contentTypeHeader === undefined || contentType === undefined || match === undefined)
    return fail('media_type_unsupported');
  const { media } = match;
  if (media.kind !== 'opaque' && !isUtf8(contentType)) return fail('media_type_unsupported');

  switch (media.kind) {
    case 'json': {
      const text = bodyText(request.body, request.isBase64Encoded, deps.limits.maxBytes);
      if (!text.ok) return fail(text.reason);
      const parsed = parseJsonBody(text.text, deps.limits.maxDepth);
      if (!parsed.ok) return fail(parsed.reason, parsed.errors);
      if (media.validate !== undefined && !media.validate(parsed.value))
        return fail('body_invalid', schemaErrors(media.validate.errors));
      return validated({ kind: 'json', mediaType: contentType.essence, value: parsed.value });
    }
    case 'form':
    case 'multipart': {
      // Read by the reader the generated table holds for the document (forms, multipart).
      const reader = deps.table.readers[media.kind];
      if (reader === undefined) return fail('internal_error');
      const read = reader.read({
        body: request.body as string,
        isBase64Encoded: request.isBase64Encoded,
        contentType,
        media,
        shapes: operation.shapes,
        maxBytes: deps.limits.maxBytes,
        limits,
      });
      return read.ok ? validated(read.body) : fail(read.reason, read.errors);
    }
    case 'opaque': {
      const bytes = bodyBytes(request.body, request.isBase64Encoded, deps.limits.maxBytes);
      if (!bytes.ok) return fail(bytes.reason);
      return validated({
        kind: 'opaque',
        mediaType: contentType.essence,
        contentType: contentTypeHeader,
        bytes: bytes.bytes,
      });
    }
  }
}
