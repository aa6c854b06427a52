import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../tools/paths.ts';

/** Reads a JSON fixture relative to the project root. */
export function readEvent(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, path), 'utf8')) as Record<string, unknown>;
}

const FIXTURES = 'test/fixtures/apigw-events';
const API = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/v1';

/** The AWS sample authorizer events, one per shape. */
export const SAMPLE_EVENTS = {
  'rest-token': `${FIXTURES}/powertools-typescript/apigw-rest/authorizer-token.json`,
  'rest-token (aws-lambda-go)': `${FIXTURES}/aws-lambda-go/apigw-custom-auth-request.json`,
  'rest-request': `${FIXTURES}/powertools-typescript/apigw-rest/authorizer-request.json`,
  'rest-request (aws-lambda-go)': `${FIXTURES}/aws-lambda-go/apigw-custom-auth-request-type-request.json`,
  'http-v2': `${FIXTURES}/powertools-python/apiGatewayAuthorizerV2Event.json`,
  'http-v2 (aws-lambda-go)': `${FIXTURES}/aws-lambda-go/apigw-v2-custom-authorizer-v2-request.json`,
  'http-v2 (powertools-typescript)': `${FIXTURES}/powertools-typescript/apigw-http/authorizer-request.json`,
  'http-v1': `${FIXTURES}/aws-lambda-go/apigw-v2-custom-authorizer-v1-request.json`,
  websocket: `${FIXTURES}/powertools-python/apiGatewayAuthorizerWebSocketEvent.json`,
} as const;

/**
 * An AWS sample event retargeted at a demo route with the given Authorization value (or none):
 * the ARN, method, path and the credential fields are replaced; everything else stays as AWS wrote it.
 */
export function retarget(
  sample: Record<string, unknown>,
  options: {
    method?: string;
    path?: string;
    template?: string;
    authorization?: string | string[] | undefined;
  },
): Record<string, unknown> {
  const event = structuredClone(sample) as Record<string, unknown> & {
    requestContext?: Record<string, unknown>;
  };
  const method = options.method ?? 'GET';
  const path = options.path ?? '/orders';
  const template = options.template ?? path;
  const values =
    options.authorization === undefined
      ? []
      : Array.isArray(options.authorization)
        ? options.authorization
        : [options.authorization];
  const stripAuth = (headers: unknown) =>
    Object.fromEntries(
      Object.entries((headers ?? {}) as Record<string, unknown>).filter(
        ([k]) => k.toLowerCase() !== 'authorization',
      ),
    );
  if (event.type === 'TOKEN') {
    event.methodArn = `${API}/${method}${path}`;
    if (values[0] === undefined) delete event.authorizationToken;
    else event.authorizationToken = values[0];
    return event;
  }
  const isWebSocket = String(event.methodArn ?? '').includes('$connect');
  if (event.version === '2.0') {
    event.routeArn = `${API}/${method}${path}`;
    event.routeKey = `${method} ${template}`;
    event.rawPath = path;
    event.headers = {
      ...stripAuth(event.headers),
      ...(values.length > 0 ? { authorization: values.join(',') } : {}),
    };
    if (event.requestContext) {
      event.requestContext.routeKey = `${method} ${template}`;
      event.requestContext.http = { ...(event.requestContext.http as object), method, path };
    }
    event.identitySource = values.length > 0 ? [values.join(',')] : [];
    return event;
  }
  if (!isWebSocket) {
    event.methodArn = `${API}/${method}${path}`;
    event.httpMethod = method;
    event.path = path;
    event.resource = template;
    if (event.requestContext) {
      event.requestContext.resourcePath = template;
      event.requestContext.httpMethod = method;
    }
  }
  event.headers = {
    ...stripAuth(event.headers),
    ...(values.length > 0 ? { Authorization: values[values.length - 1] } : {}),
  };
  if (event.multiValueHeaders !== undefined || values.length > 1) {
    event.multiValueHeaders = {
      ...stripAuth(event.multiValueHeaders),
      ...(values.length > 0 ? { Authorization: values } : {}),
    };
  }
  delete event.authorizationToken;
  delete event.identitySource;
  return event;
}
