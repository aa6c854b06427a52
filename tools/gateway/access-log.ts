/**
 * The gateway's access log: one JSON line per request. Built from a fixed set of fields so that no
 * header, query string, body, token or key can reach it.
 */
import type { AuthorizerResult } from './authorize.ts';
import type { GatewayResponseType } from './gateway-responses.ts';
import type { ResourcePolicyOutcome } from './resource-policy.ts';
import type { UsageOutcome } from './usage-plans.ts';

/** The fields of one access-log line. */
export interface AccessLogEntry {
  /** `x-amzn-RequestId` of the response, also `requestContext.requestId`. */
  requestId: string;
  /** Logical ID of the API. */
  api: string;
  method: string;
  /** `METHOD /resource/{param}` of the matched route (never the concrete path). */
  route: string | undefined;
  status: number;
  latencyMs: number;
  /** principalId the authorizer returned. */
  principal: string | undefined;
  /** What the authorizer step decided (`none` for routes without one). */
  authorizer: AuthorizerResult | 'none';
  /** Whether the answer came from the authorizer cache (undefined when not consulted). */
  cacheHit: boolean | undefined;
  /** Resource policy outcome (undefined when the API has none). */
  resourcePolicy: ResourcePolicyOutcome | undefined;
  /** Usage plan outcome for routes that require an API key. */
  usage: UsageOutcome | undefined;
  /** The gateway response type, when the gateway answered itself. */
  errorType: GatewayResponseType | undefined;
}

/** The JSON line for an entry. */
export function accessLogLine(entry: AccessLogEntry): string {
  return JSON.stringify({ time: new Date().toISOString(), type: 'access', ...entry });
}
