/**
 * The responses API Gateway itself produces (the authorizer refused, throttled, integration failed
 * ...), with its default bodies, overridden by the template's gateway responses the way API Gateway
 * applies them: the response type's own override, else DEFAULT_4XX / DEFAULT_5XX, else the default.
 */
import type { GatewayResponseModel } from './model.ts';

/** Gateway response types the local gateway produces. */
export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'AUTHORIZER_FAILURE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INVALID_API_KEY'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'DEFAULT_5XX';

interface Default {
  readonly status: number;
  /** `$context.error.message` (null where API Gateway sends `{"message": null}`). */
  readonly message: string | null;
  /** API Gateway's own default template for this type. */
  readonly template: string;
  readonly errorType: string | undefined;
}

const MESSAGE = '{"message":$context.error.messageString}';

// Bodies and x-amzn-ErrorType values as API Gateway sends them (REST APIs).
const DEFAULTS: Record<GatewayResponseType, Default> = {
  UNAUTHORIZED: {
    status: 401,
    message: 'Unauthorized',
    template: MESSAGE,
    errorType: 'UnauthorizedException',
  },
  ACCESS_DENIED: {
    status: 403,
    message: 'User is not authorized to access this resource',
    // API Gateway's authorizer denial really is capitalised differently from every other body.
    template: '{"Message":$context.error.messageString}',
    errorType: 'AccessDeniedException',
  },
  AUTHORIZER_CONFIGURATION_ERROR: {
    status: 500,
    message: null,
    template: MESSAGE,
    errorType: 'AuthorizerConfigurationException',
  },
  AUTHORIZER_FAILURE: {
    status: 500,
    message: null,
    template: MESSAGE,
    errorType: 'AuthorizerFailureException',
  },
  MISSING_AUTHENTICATION_TOKEN: {
    status: 403,
    message: 'Missing Authentication Token',
    template: MESSAGE,
    errorType: 'MissingAuthenticationTokenException',
  },
  INVALID_API_KEY: { status: 403, message: 'Forbidden', template: MESSAGE, errorType: 'ForbiddenException' },
  THROTTLED: {
    status: 429,
    message: 'Too Many Requests',
    template: MESSAGE,
    errorType: 'TooManyRequestsException',
  },
  QUOTA_EXCEEDED: {
    status: 429,
    message: 'Limit Exceeded',
    template: MESSAGE,
    errorType: 'LimitExceededException',
  },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request Too Long', template: MESSAGE, errorType: undefined },
  INTEGRATION_FAILURE: {
    status: 504,
    message: 'Internal server error',
    template: MESSAGE,
    errorType: undefined,
  },
  INTEGRATION_TIMEOUT: {
    status: 504,
    message: 'Endpoint request timed out',
    template: MESSAGE,
    errorType: undefined,
  },
  // A Lambda proxy integration that fails or answers a malformed result.
  DEFAULT_5XX: { status: 502, message: 'Internal server error', template: MESSAGE, errorType: undefined },
};

/** The `$context` values a gateway response template may use. */
export interface ResponseContext {
  readonly requestId: string;
  readonly path: string;
  readonly resourcePath: string;
  readonly httpMethod: string;
  readonly stage: string;
  readonly apiId: string;
}

/** A response ready to write. */
export interface GatewayReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function render(
  template: string,
  type: GatewayResponseType,
  message: string | null,
  ctx: ResponseContext,
): string {
  const values: Record<string, string> = {
    'error.messageString': JSON.stringify(message),
    'error.message': message ?? '',
    'error.responseType': type,
    'error.validationErrorString': '',
    requestId: ctx.requestId,
    extendedRequestId: ctx.requestId,
    path: ctx.path,
    resourcePath: ctx.resourcePath,
    httpMethod: ctx.httpMethod,
    stage: ctx.stage,
    apiId: ctx.apiId,
  };
  // Only `$context.x` references are evaluated: gateway response templates rarely use more of VTL.
  return template.replace(
    /\$(?:\{context\.([A-Za-z.]+)\}|context\.([A-Za-z]+(?:\.[A-Za-z]+)*))/g,
    (all, a, b) => {
      const name = (a ?? b) as string;
      return values[name] ?? all;
    },
  );
}

/** Builds the gateway's response of `type`, applying the template's overrides. */
export function gatewayResponse(
  type: GatewayResponseType,
  overrides: Readonly<Record<string, GatewayResponseModel>>,
  ctx: ResponseContext,
  message?: string,
): GatewayReply {
  const base = DEFAULTS[type];
  const text = message ?? base.message;
  const override = overrides[type] ?? (base.status >= 500 ? overrides.DEFAULT_5XX : overrides.DEFAULT_4XX);
  const status = override?.statusCode ?? base.status;
  const [contentType, template] = Object.entries(override?.templates ?? {})[0] ?? [
    'application/json',
    base.template,
  ];
  const headers: Record<string, string> = { 'content-type': contentType };
  // Header names are case-insensitive: the template's `Content-Type` replaces the default one.
  for (const [name, value] of Object.entries(override?.headers ?? {})) headers[name.toLowerCase()] = value;
  if (base.errorType !== undefined) headers['x-amzn-errortype'] = base.errorType;
  return { status, headers, body: render(template, type, text, ctx) };
}

/** The message of an explicit deny (ACCESS_DENIED). */
export const EXPLICIT_DENY_MESSAGE = 'User is not authorized to access this resource with an explicit deny';
