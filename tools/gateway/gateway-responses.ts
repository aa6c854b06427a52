/**
 * The responses API Gateway (REST) itself produces (the authorizer refused, throttled, integration
 * failed ...), with its default bodies, overridden by the template's gateway responses the way API
 * Gateway applies them: the response type's own override, else DEFAULT_4XX / DEFAULT_5XX, else the
 * default (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 *
 * Header values are mapping expressions, evaluated per request: `'literal'`,
 * `method.request.header|querystring|path.X`, `context.X`, `stageVariables.X`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseParameters.html).
 * Body templates are "non-VTL" templates with simple substitution of `$context.X` and
 * `$stageVariables.X` (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html).
 * An expression or variable the gateway does not know is refused when the template is read.
 */
import { TemplateError } from '../template/template.ts';

/** Gateway response types the local gateway produces. */
export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'AUTHORIZER_FAILURE'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INVALID_SIGNATURE'
  | 'EXPIRED_TOKEN'
  | 'INVALID_API_KEY'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'BAD_REQUEST_PARAMETERS'
  | 'BAD_REQUEST_BODY'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'RESOURCE_NOT_FOUND'
  | 'DEFAULT_5XX';

/** One header value of a gateway response: a literal, or where it is taken from per request. */
export type MappingValue =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'request'; readonly location: 'header' | 'querystring' | 'path'; readonly name: string }
  | { readonly kind: 'context'; readonly name: string }
  | { readonly kind: 'stageVariable'; readonly name: string };

/** A gateway response override (`AWS::ApiGateway::GatewayResponse` or SAM `GatewayResponses`). */
export interface GatewayResponseModel {
  readonly statusCode: number | undefined;
  /** Response headers by name. */
  readonly headers: Readonly<Record<string, MappingValue>>;
  /** Body templates by content type. */
  readonly templates: Readonly<Record<string, string>>;
}

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
  INVALID_SIGNATURE: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    template: MESSAGE,
    errorType: 'InvalidSignatureException',
  },
  EXPIRED_TOKEN: {
    status: 403,
    message: 'The security token included in the request is expired',
    template: MESSAGE,
    errorType: 'ExpiredTokenException',
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
  BAD_REQUEST_PARAMETERS: { status: 400, message: null, template: MESSAGE, errorType: 'BadRequestException' },
  BAD_REQUEST_BODY: {
    status: 400,
    message: 'Invalid request body',
    template: MESSAGE,
    errorType: 'BadRequestException',
  },
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
  RESOURCE_NOT_FOUND: {
    status: 404,
    message: 'Not Found',
    template: MESSAGE,
    errorType: 'NotFoundException',
  },
  // A Lambda proxy integration that fails, times out or answers a malformed result.
  DEFAULT_5XX: { status: 502, message: 'Internal server error', template: MESSAGE, errorType: undefined },
};

/**
 * The `$context` variables a gateway response may use
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html);
 * `authorizer.*` names any key of the authorizer's context.
 */
export const CONTEXT_VARIABLES: ReadonlySet<string> = new Set([
  'accountId',
  'apiId',
  'awsEndpointRequestId',
  'domainName',
  'domainPrefix',
  'extendedRequestId',
  'httpMethod',
  'path',
  'protocol',
  'requestId',
  'requestTime',
  'requestTimeEpoch',
  'resourceId',
  'resourcePath',
  'stage',
  'xrayTraceId',
  'wafResponseCode',
  'webaclArn',
  'error.message',
  'error.messageString',
  'error.responseType',
  'error.validationErrorString',
  'identity.accountId',
  'identity.apiKey',
  'identity.apiKeyId',
  'identity.caller',
  'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType',
  'identity.cognitoIdentityId',
  'identity.cognitoIdentityPoolId',
  'identity.principalOrgId',
  'identity.sourceIp',
  'identity.user',
  'identity.userAgent',
  'identity.userArn',
]);

function knownContextVariable(name: string): boolean {
  return CONTEXT_VARIABLES.has(name) || /^authorizer\.[^.]+$/.test(name);
}

/** What a gateway response is evaluated against, per request. */
export interface ResponseContext {
  /** `$context` values by name without the prefix (`requestId`, `identity.sourceIp`, `authorizer.x`). */
  readonly variables: Readonly<Record<string, string | null | undefined>>;
  /** Stage variables. */
  readonly stageVariables: Readonly<Record<string, string>>;
  /** A method request parameter (header names case-insensitive); undefined when absent. */
  readonly requestParameter: (
    location: 'header' | 'querystring' | 'path',
    name: string,
  ) => string | undefined;
}

/** A response ready to write. */
export interface GatewayReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const VARIABLE =
  /\$(?:\{(context|stageVariables)\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\}|(context|stageVariables)\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*))/g;

/** Parses one header mapping expression; refuses what API Gateway would not accept. */
export function parseMappingValue(where: string, raw: unknown): MappingValue {
  const s = String(raw).trim();
  if (/^'.*'$/s.test(s)) return { kind: 'literal', value: s.slice(1, -1) };
  const request = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(s);
  if (request?.[1] !== undefined && request[2] !== undefined)
    return { kind: 'request', location: request[1] as 'header' | 'querystring' | 'path', name: request[2] };
  const context = /^context\.(.+)$/.exec(s);
  if (context?.[1] !== undefined) {
    if (!knownContextVariable(context[1]))
      throw new TemplateError(
        `${where}: context.${context[1]} is not a context variable the local gateway knows`,
      );
    return { kind: 'context', name: context[1] };
  }
  const stage = /^stageVariables\.(.+)$/.exec(s);
  if (stage?.[1] !== undefined) return { kind: 'stageVariable', name: stage[1] };
  throw new TemplateError(
    `${where}: ${JSON.stringify(s)} must be a 'quoted' literal or a method.request.*, context.* or stageVariables.* expression`,
  );
}

/** Reads one gateway response of the template, checking every expression it uses. */
export function readGatewayResponse(where: string, raw: Record<string, unknown>): GatewayResponseModel {
  const headers: Record<string, MappingValue> = {};
  const params = (raw.ResponseParameters ?? {}) as Record<string, unknown>;
  // SAM's `GatewayResponses` nests headers; CloudFormation names them `gatewayresponse.header.X`.
  for (const [key, value] of Object.entries(params)) {
    if (key === 'Headers') {
      for (const [name, v] of Object.entries((value ?? {}) as Record<string, unknown>))
        headers[name] = parseMappingValue(`${where}.ResponseParameters.Headers.${name}`, v);
      continue;
    }
    const m = /^gatewayresponse\.header\.(.+)$/i.exec(key);
    if (m?.[1] === undefined)
      throw new TemplateError(
        `${where}.ResponseParameters: ${key} is not a response header mapping the local gateway emulates`,
      );
    headers[m[1]] = parseMappingValue(`${where}.ResponseParameters.${key}`, value);
  }
  const templates: Record<string, string> = {};
  for (const [type, body] of Object.entries((raw.ResponseTemplates ?? {}) as Record<string, unknown>)) {
    const text = String(body);
    for (const m of text.matchAll(VARIABLE)) {
      const scope = m[1] ?? m[3];
      const name = (m[2] ?? m[4]) as string;
      if (scope === 'context' && !knownContextVariable(name))
        throw new TemplateError(
          `${where}.ResponseTemplates: $context.${name} is not a context variable the local gateway knows`,
        );
    }
    templates[type] = text;
  }
  return {
    statusCode: raw.StatusCode === undefined ? undefined : Number(raw.StatusCode),
    headers,
    templates,
  };
}

function render(
  template: string,
  variables: ResponseContext['variables'],
  stage: ResponseContext['stageVariables'],
): string {
  return template.replace(VARIABLE, (_all, s1, n1, s2, n2) => {
    const scope = (s1 ?? s2) as string;
    const name = (n1 ?? n2) as string;
    const value = scope === 'context' ? variables[name] : stage[name];
    return value ?? '';
  });
}

function evaluate(value: MappingValue, ctx: ResponseContext): string | undefined {
  switch (value.kind) {
    case 'literal':
      return value.value;
    case 'request':
      return ctx.requestParameter(value.location, value.name);
    case 'context':
      return ctx.variables[value.name] ?? undefined;
    case 'stageVariable':
      return ctx.stageVariables[value.name];
  }
}

/** The message a gateway response of this type carries by default. */
export function defaultMessage(type: GatewayResponseType): string | null {
  return DEFAULTS[type].message;
}

/** Builds the gateway's response of `type`, applying the template's overrides. */
export function gatewayResponse(
  type: GatewayResponseType,
  overrides: Readonly<Record<string, GatewayResponseModel>>,
  ctx: ResponseContext,
  message?: string,
  errorType?: string,
): GatewayReply {
  const base = DEFAULTS[type];
  const text = message ?? base.message;
  const override = overrides[type] ?? (base.status >= 500 ? overrides.DEFAULT_5XX : overrides.DEFAULT_4XX);
  const status = override?.statusCode ?? base.status;
  const [contentType, template] = Object.entries(override?.templates ?? {})[0] ?? [
    'application/json',
    base.template,
  ];
  const variables = {
    ...ctx.variables,
    'error.messageString': JSON.stringify(text),
    'error.message': text ?? '',
    'error.responseType': type,
    'error.validationErrorString': ctx.variables['error.validationErrorString'] ?? '',
  };
  const full: ResponseContext = { ...ctx, variables };
  const headers: Record<string, string> = { 'content-type': contentType };
  // Header names are case-insensitive: the template's `Content-Type` replaces the default one; a
  // mapping whose source is absent adds no header.
  for (const [name, value] of Object.entries(override?.headers ?? {})) {
    const v = evaluate(value, full);
    if (v !== undefined) headers[name.toLowerCase()] = v;
  }
  const amznErrorType = errorType ?? base.errorType;
  if (amznErrorType !== undefined) headers['x-amzn-errortype'] = amznErrorType;
  return { status, headers, body: render(template, variables, ctx.stageVariables) };
}

/** The message of an explicit deny (ACCESS_DENIED). */
export const EXPLICIT_DENY_MESSAGE = 'User is not authorized to access this resource with an explicit deny';
