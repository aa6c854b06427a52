/**
 * API Gateway's basic request validation for REST routes with SAM's `RequestModel`
 * (`ValidateParameters`, `ValidateBody`) and `RequestParameters`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html):
 * required parameters must be present and non-blank ("Missing required request parameters: [p1]"),
 * and an `application/json` body (a request without `Content-Type` counts as one) must satisfy the
 * model's JSON schema ("Invalid request body"). Other content types have no model and pass through.
 *
 * The schemas are compiled once, at start-up, with Ajv in strict mode: a model using a keyword Ajv
 * would read differently from API Gateway's draft-04 validator (boolean `exclusiveMaximum`, `id`)
 * is refused there rather than checked loosely. `$context.error.validationErrorString` carries Ajv's
 * wording, not API Gateway's.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { TemplateError } from '../template/template.ts';
import type { ApiModel, RouteModel } from './model.ts';
import { headerValue } from './proxy-event.ts';

/** Why a request fails validation (400), or undefined. */
export type ValidationFailure =
  | { readonly type: 'BAD_REQUEST_PARAMETERS'; readonly message: string }
  | { readonly type: 'BAD_REQUEST_BODY'; readonly message: string; readonly details: string };

/** The validator of one API: compiled models by name. */
export interface RequestValidator {
  validate(
    route: RouteModel,
    request: {
      readonly rawHeaders: readonly string[];
      readonly query: string;
      readonly pathParameters: Readonly<Record<string, string>> | null;
      readonly body: Buffer;
    },
  ): ValidationFailure | undefined;
}

/** Compiles an API's models (only those a route validates with); refuses what it cannot check. */
export function createRequestValidator(api: ApiModel): RequestValidator {
  const ajv = new Ajv({ strict: true, allErrors: false });
  const compiled = new Map<string, ValidateFunction>();
  for (const route of api.routes) {
    const name = route.requestModel;
    if (name === undefined || !route.validateBody || compiled.has(name)) continue;
    const { $schema: _ignored, ...schema } = (api.models?.[name] ?? {}) as Record<string, unknown>;
    try {
      compiled.set(name, ajv.compile(schema));
    } catch (err) {
      throw new TemplateError(
        `${api.logicalId}.Models.${name}: the local gateway cannot check this schema as API Gateway would (${(err as Error).message}); docs/local-gateway.md#not-emulated`,
      );
    }
  }
  return {
    validate(route, request) {
      if (route.validateParameters) {
        const missing: string[] = [];
        const query = new URLSearchParams(request.query);
        for (const p of route.requestParameters ?? []) {
          if (!p.required) continue;
          const value =
            p.location === 'header'
              ? headerValue(request.rawHeaders, p.name)
              : p.location === 'querystring'
                ? (query.getAll(p.name).at(-1) ?? undefined)
                : request.pathParameters?.[p.name];
          if (value === undefined || value.trim() === '') missing.push(p.name);
        }
        if (missing.length > 0)
          return {
            type: 'BAD_REQUEST_PARAMETERS',
            message: `Missing required request parameters: [${missing.join(', ')}]`,
          };
      }
      const name = route.requestModel;
      if (!route.validateBody || name === undefined) return undefined;
      const contentType = (headerValue(request.rawHeaders, 'content-type') ?? 'application/json')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (contentType !== 'application/json') return undefined;
      const check = compiled.get(name) as ValidateFunction;
      if (request.body.length === 0)
        return route.requestModelRequired
          ? {
              type: 'BAD_REQUEST_BODY',
              message: 'Invalid request body',
              details: '[the request body is required]',
            }
          : undefined;
      let value: unknown;
      try {
        value = JSON.parse(request.body.toString('utf8'));
      } catch (err) {
        return {
          type: 'BAD_REQUEST_BODY',
          message: 'Invalid request body',
          details: `[${(err as Error).message}]`,
        };
      }
      if (check(value)) return undefined;
      const details = `[${(check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join(', ')}]`;
      return { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', details };
    },
  };
}
