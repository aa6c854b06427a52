/**
 * The gateway's access log: one line per request, as text for people (`npm start`) or as JSON.
 * Built from a fixed set of fields so that no header, query string, body, token or key can reach it;
 * the reason codes come from the functions' own decision logs and are kept only when they look like
 * one (snake_case).
 */
import type { AuthorizerResult } from './authorize.ts';
import type { GatewayResponseType } from './gateway-responses.ts';
import type { ResourcePolicyOutcome } from './resource-policy.ts';
import type { UsageOutcome } from './usage-plans.ts';

/** How access-log lines are written: `text` for a terminal, `json` for tools. */
export type AccessLogFormat = 'text' | 'json';

/** The fields of one access-log line. */
export interface AccessLogEntry {
  /** `x-amzn-RequestId` of the response, also `requestContext.requestId`. */
  requestId: string;
  /** Logical ID of the API. */
  api: string;
  method: string;
  /** The request path, without the query string. */
  path: string;
  /** `METHOD /resource/{param}` of the matched route. */
  route: string | undefined;
  status: number;
  latencyMs: number;
  /** principalId the authorizer returned. */
  principal: string | undefined;
  /** What the authorizer step decided (`none` for routes without one). */
  authorizer: AuthorizerResult | 'none';
  /** The reason code the authorizer logged for this request (absent when it was not invoked). */
  authorizerReason: string | undefined;
  /** Whether the answer came from the authorizer cache (undefined when not consulted). */
  cacheHit: boolean | undefined;
  /** Resource policy outcome (undefined when the API has none). */
  resourcePolicy: ResourcePolicyOutcome | undefined;
  /** Usage plan outcome for routes that require an API key. */
  usage: UsageOutcome | undefined;
  /** The decision the integration logged (the validator: `forwarded`, `invalid`, `error`), if any. */
  integration: LoggedDecision | undefined;
  /** The gateway response type, when the gateway answered itself. */
  errorType: GatewayResponseType | undefined;
}

/** A function's decision, as its decision log line states it. */
export interface LoggedDecision {
  readonly effect: string;
  readonly reason: string | undefined;
}

const CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * The last decision a function logged in an invocation's log tail (its decision line,
 * `{"message":"decision","decision":{"effect":...,"reason":...}}`), or undefined.
 */
export function loggedDecision(logTail: string | undefined): LoggedDecision | undefined {
  if (logTail === undefined) return undefined;
  const lines = logTail.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    if (!line.includes('"decision"')) continue;
    let decision: { effect?: unknown; reason?: unknown } | undefined;
    try {
      decision = (JSON.parse(line) as { decision?: { effect?: unknown; reason?: unknown } }).decision;
    } catch {
      continue;
    }
    if (typeof decision?.effect !== 'string' || !CODE.test(decision.effect)) continue;
    const reason =
      typeof decision.reason === 'string' && CODE.test(decision.reason) ? decision.reason : undefined;
    return { effect: decision.effect, reason };
  }
  return undefined;
}

/** The JSON line for an entry. */
export function accessLogLine(entry: AccessLogEntry): string {
  return JSON.stringify({ time: new Date().toISOString(), type: 'access', ...entry });
}

/**
 * The text line for an entry, e.g.
 * `14:03:27 OrdersApi GET /orders -> 401 in 3.2 ms; authorizer: unauthorized (token_expired)`.
 */
export function accessLogText(entry: AccessLogEntry, now = new Date()): string {
  const parts = [
    `${now.toISOString().slice(11, 19)} ${entry.api} ${entry.method} ${entry.path} -> ${entry.status} in ${entry.latencyMs.toFixed(1)} ms`,
  ];
  if (entry.resourcePolicy !== undefined && entry.resourcePolicy !== 'allow')
    parts.push(`resource policy: ${entry.resourcePolicy}`);
  if (entry.authorizer !== 'none') {
    // An Allow's reason only restates it; a refusal's reason is what a developer needs.
    const reason =
      entry.authorizerReason === undefined || entry.authorizer === 'allow'
        ? ''
        : ` (${entry.authorizerReason})`;
    parts.push(`authorizer: ${entry.authorizer}${reason}${entry.cacheHit === true ? ', cached' : ''}`);
  }
  if (entry.usage !== undefined && entry.usage !== 'ok') parts.push(`usage plan: ${entry.usage}`);
  if (entry.integration !== undefined) {
    const { effect, reason: code } = entry.integration;
    const reason = code === undefined || code === effect ? '' : ` (${code})`;
    parts.push(`integration: ${effect}${reason}`);
  }
  if (entry.errorType !== undefined) parts.push(`gateway response: ${entry.errorType}`);
  return parts.join('; ');
}
