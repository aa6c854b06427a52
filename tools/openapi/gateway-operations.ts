/**
 * What API Gateway must do for each operation of the API document, read from the document alone:
 * how the operation is authorized (no credentials, AWS SigV4, or the API's Lambda authorizer) and
 * which throttle it gets. The template's routes are generated from this (tools/template/template-routes.ts,
 * docs/deploy.md#routes-follow-the-document). Pure.
 */
import type { Route, RouteTable } from '../../shared/routes/route-table.ts';
import { deref, type OpenApiDocument, OpenApiError, operations } from './document.ts';

/**
 * How API Gateway authorizes an operation:
 * - `public`: no credentials (`security: []`, or `{}` among the requirements);
 * - `aws_iam`: an AWS SigV4 signature checked by API Gateway (a security scheme with API Gateway's
 *   extension `x-amazon-apigateway-authtype: awsSigv4`);
 * - `authorizer`: the API's default Lambda authorizer (every other requirement).
 */
export type GatewayAuthorization = 'public' | 'aws_iam' | 'authorizer';

/** API Gateway's extension that marks an `apiKey` security scheme as AWS SigV4 (IAM). */
export const AUTHTYPE_EXTENSION = 'x-amazon-apigateway-authtype';

/**
 * The extension naming an operation's throttle: `x-gatehouse-throttle: write` applies the
 * template's `WriteThrottlingRateLimit` / `WriteThrottlingBurstLimit` to that operation alone.
 */
export const THROTTLE_EXTENSION = 'x-gatehouse-throttle';

/** One operation of the document, as the template must serve it. */
export interface GatewayOperation {
  /** The operation's route, as the route table has it (same order as the table). */
  readonly route: Route;
  readonly authorization: GatewayAuthorization;
  /** The throttle name of {@link THROTTLE_EXTENSION} (`write`), when the operation has one. */
  readonly throttle?: string;
}

/** Whether a (dereferenced) security scheme is AWS SigV4: `type: apiKey` with `awsSigv4` (any case). */
export function isSigV4Scheme(scheme: unknown): boolean {
  if (typeof scheme !== 'object' || scheme === null) return false;
  const s = scheme as Record<string, unknown>;
  const authType = s[AUTHTYPE_EXTENSION];
  return s.type === 'apiKey' && typeof authType === 'string' && authType.toLowerCase() === 'awssigv4';
}

/**
 * The authorization of one operation from its `security` (or the document's). Throws an
 * OpenApiError for requirements an API Gateway method cannot express: a method has one
 * authorization type, so AWS SigV4 cannot be one alternative among other schemes.
 */
export function gatewayAuthorization(
  doc: OpenApiDocument,
  operation: { readonly operationId: string; readonly security?: unknown },
): GatewayAuthorization {
  const schemes = (doc.components?.securitySchemes ?? {}) as Record<string, unknown>;
  const requirements = (operation.security ?? doc.security ?? []) as unknown;
  if (!Array.isArray(requirements) || requirements.length === 0) return 'public';
  const names = requirements.map((r) =>
    typeof r === 'object' && r !== null ? Object.keys(r as Record<string, unknown>) : [],
  );
  // An empty requirement makes the operation public whatever the others say (routeTable agrees).
  if (names.some((n) => n.length === 0)) return 'public';
  const sigv4 = names.map((n) => n.map((name) => isSigV4Scheme(deref(doc, schemes[name]))));
  if (!sigv4.flat().some(Boolean)) return 'authorizer';
  if (!sigv4.every((flags) => flags.length === 1 && flags[0] === true))
    throw new OpenApiError(
      `${operation.operationId}: AWS SigV4 is one of several security alternatives; an API Gateway method has one authorization (AWS_IAM or a Lambda authorizer), so declare SigV4 alone`,
    );
  for (const [i, requirement] of requirements.entries()) {
    const scopes = Object.values(requirement as Record<string, unknown>)[0];
    if (Array.isArray(scopes) && scopes.length > 0)
      throw new OpenApiError(
        `${operation.operationId}: the AWS SigV4 requirement ${names[i]?.[0]} lists scopes; API Gateway checks the signature and IAM policies only, so scopes there would never be enforced`,
      );
  }
  return 'aws_iam';
}

function throttleOf(operationId: string, raw: Record<string, unknown>): string | undefined {
  const value = raw[THROTTLE_EXTENSION];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[a-z][a-z0-9]{0,31}$/i.test(value))
    throw new OpenApiError(
      `${operationId}: ${THROTTLE_EXTENSION} must name a throttle in letters and digits (e.g. write), got ${JSON.stringify(value)}`,
    );
  return value;
}

/** Every operation of the document with its authorization and throttle, in route table order. */
export function gatewayOperations(doc: OpenApiDocument, routes: RouteTable): GatewayOperation[] {
  const ops = operations(doc);
  if (ops.length !== routes.length) throw new Error('the route table is not the document’s');
  return ops.map((op, i) => {
    const route = routes[i] as Route;
    if (route.operationId !== op.operationId || route.method !== op.method)
      throw new Error('the route table is not the document’s');
    const raw = op.operation as Record<string, unknown>;
    const throttle = throttleOf(op.operationId, raw);
    return {
      route,
      authorization: gatewayAuthorization(doc, {
        operationId: op.operationId,
        ...(raw.security === undefined ? {} : { security: raw.security }),
      }),
      ...(throttle === undefined ? {} : { throttle }),
    };
  });
}
