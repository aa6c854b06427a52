/**
 * The request validator: event → normalized request → validation → forward → proxy response.
 * Every refusal is an RFC 9457 problem; every outcome is one decision record.
 */
import type { Observer } from '../observability/observer.ts';
import type { RouteMatcher, ValidatorRoute } from '../routes/route-table.ts';
import type { UpstreamRequest, UpstreamResult } from '../upstream/forward.ts';
import type { BodyLimits } from './body.ts';
import type { ResponseValidation } from './config.ts';
import { type Problem, type ProblemReason, problem } from './problem.ts';
import { type ProxyResponse, proxyResponse, readProxyEvent } from './proxy-event.ts';
import type { OperationValidation, ValidationTable } from './table.ts';
import { upstreamQuery, writeBody } from './upstream-body.ts';
import { mediaTypeOf, validateRequest } from './validate-request.ts';

/** What the validator is built from. */
export interface RequestValidatorDeps {
  readonly matcher: RouteMatcher<ValidatorRoute>;
  readonly table: ValidationTable;
  readonly limits: BodyLimits;
  readonly forward: (request: UpstreamRequest) => Promise<UpstreamResult>;
  readonly responseValidation: ResponseValidation;
  readonly observer: Observer;
  /** Milliseconds, for latency. */
  readonly now?: () => number;
}

/** The problem+json response for a problem. */
export function problemResponse(
  version: '1.0' | '2.0',
  p: Problem,
  extraHeaders: readonly (readonly [string, string])[] = [],
): ProxyResponse {
  const { reason: _reason, ...body } = p;
  return proxyResponse(
    version,
    p.status,
    [['content-type', 'application/problem+json'], ['cache-control', 'no-store'], ...extraHeaders],
    JSON.stringify(body),
    false,
  );
}

const TEXTUAL = /^(?:text\/|application\/(?:[a-z0-9.+-]+\+)?(?:json|xml)$|application\/problem\+json$)/;

function responseMatches(
  operation: OperationValidation,
  status: number,
  contentType: string | null,
  body: Buffer,
) {
  const byStatus =
    operation.responses[String(status)] ??
    operation.responses[`${String(status)[0]}XX`] ??
    operation.responses.default;
  const mediaType = contentType === null ? undefined : mediaTypeOf(contentType);
  const validate = byStatus === undefined || mediaType === undefined ? undefined : byStatus[mediaType];
  if (validate === undefined) return true;
  try {
    return validate(JSON.parse(body.toString('utf8')));
  } catch {
    return false;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8 (else it goes back base64-encoded, byte for byte). */
function utf8(bytes: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Builds the Lambda handler. */
export function createRequestValidator(
  deps: RequestValidatorDeps,
): (event: unknown) => Promise<ProxyResponse> {
  const now = deps.now ?? (() => performance.now());
  return async (event) => {
    const started = now();
    const request = readProxyEvent(event);
    const record = (
      effect: 'invalid' | 'forwarded' | 'error',
      reason: string,
      status: number,
      route: string | undefined,
    ) =>
      deps.observer.decision({
        requestId: request.requestId,
        route,
        effect,
        reason,
        principal: request.identity.principal || undefined,
        status,
        latencyMs: now() - started,
        cacheHit: false,
      });
    const refuse = (reason: ProblemReason, route: string | undefined, p: Problem = problem(reason)) => {
      record(p.status >= 500 ? 'error' : 'invalid', reason, p.status, route);
      return problemResponse(request.version, p);
    };

    const outcome = validateRequest(request, deps);
    if (!outcome.ok) {
      const p = outcome.problem;
      const route = outcome.route === undefined ? undefined : `${outcome.route.method} ${outcome.route.path}`;
      record(p.status >= 500 ? 'error' : 'invalid', p.reason, p.status, route);
      const allow = outcome.allow === undefined ? [] : ([['allow', outcome.allow.join(', ')]] as const);
      return problemResponse(request.version, p, allow);
    }
    const valid = outcome.request;
    const routeName = `${valid.route.method} ${valid.route.path}`;
    const query = upstreamQuery(valid.rawQuery);
    const body = valid.body === undefined ? undefined : writeBody(valid.body, deps.table.readers);
    const result = await deps.forward({
      method: valid.route.method,
      template: valid.route.path,
      pathParams: valid.rawPath,
      querySpecs: query.specs,
      query: query.values,
      headerSpecs: valid.operation.parameters.filter((p) => p.in === 'header'),
      headers: request.headers,
      body: body === undefined ? undefined : { mediaType: body.contentType, text: body.content },
      identity: request.identity,
    });
    if (!result.ok) return refuse(result.reason, routeName);

    const contentType = result.headers.find(([n]) => n === 'content-type')?.[1] ?? null;
    if (
      deps.responseValidation !== 'off' &&
      !responseMatches(valid.operation, result.status, contentType, result.body)
    ) {
      deps.observer.warn('backend answer does not match the document', {
        route: routeName,
        status: result.status,
      });
      if (deps.responseValidation === 'strict') return refuse('upstream_response_invalid', routeName);
    }
    record('forwarded', 'forwarded', result.status, routeName);
    const text =
      contentType !== null && TEXTUAL.test(mediaTypeOf(contentType) ?? '') ? utf8(result.body) : undefined;
    return proxyResponse(
      request.version,
      result.status,
      result.headers,
      text ?? result.body.toString('base64'),
      text === undefined,
    );
  };
}
