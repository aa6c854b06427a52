/**
 * RFC 9457 problem details: the only shape in which the request validator refuses a request. Titles
 * and messages are fixed texts or ajv's keyword messages; a rejected value is never echoed.
 */
import type { SchemaError } from './table.ts';

/** Why a request was refused or could not be answered; stable, documented in docs/request-validator.md. */
export type ProblemReason =
  | 'route_not_found'
  | 'method_not_allowed'
  | 'tenant_binding_missing'
  | 'tenant_mismatch'
  | 'media_type_unsupported'
  | 'body_required'
  | 'body_too_large'
  | 'body_invalid_base64'
  | 'body_invalid_utf8'
  | 'body_bom'
  | 'json_invalid'
  | 'json_duplicate_key'
  | 'json_too_deep'
  | 'json_forbidden_key'
  | 'form_invalid'
  | 'multipart_invalid'
  | 'body_invalid'
  | 'parameter_invalid'
  | 'upstream_timeout'
  | 'upstream_unreachable'
  | 'upstream_response_too_large'
  | 'upstream_response_invalid'
  | 'signing_secret_unavailable'
  | 'internal_error';

const STATUS_AND_TITLE: Readonly<Record<ProblemReason, readonly [number, string]>> = {
  route_not_found: [404, 'No such route'],
  method_not_allowed: [405, 'Method not allowed on this route'],
  tenant_binding_missing: [403, 'The authorizer bound no value to this path'],
  tenant_mismatch: [403, 'This path belongs to another tenant'],
  media_type_unsupported: [415, 'Content type not accepted by this operation'],
  body_required: [400, 'A request body is required'],
  body_too_large: [413, 'Request body too large'],
  body_invalid_base64: [400, 'Request body is not valid base64'],
  body_invalid_utf8: [400, 'Request body is not valid UTF-8'],
  body_bom: [400, 'Request body starts with a byte-order mark'],
  json_invalid: [400, 'Request body is not valid JSON'],
  json_duplicate_key: [400, 'Request body has a duplicate object key'],
  json_too_deep: [400, 'Request body is nested too deeply'],
  json_forbidden_key: [400, 'Request body has a forbidden object key'],
  form_invalid: [400, 'Request body is not a valid URL-encoded form'],
  multipart_invalid: [400, 'Request body is not valid multipart/form-data'],
  body_invalid: [400, 'Request body does not match the schema'],
  parameter_invalid: [400, 'Request parameters do not match the schema'],
  upstream_timeout: [504, 'The backend did not answer in time'],
  upstream_unreachable: [502, 'The backend could not be reached'],
  upstream_response_too_large: [502, 'The backend answer is too large'],
  upstream_response_invalid: [502, 'The backend answer does not match the schema'],
  signing_secret_unavailable: [503, 'The request could not be signed for the backend'],
  internal_error: [500, 'Internal error'],
};

/** Base of the stable `type` URIs (`https://gatehouse.dev/problems/body_too_large`). */
export const PROBLEM_TYPE_BASE = 'https://gatehouse.dev/problems/';

/** One validation error: where (JSON Pointer), which keyword, and ajv's fixed message. */
export interface ProblemError {
  readonly pointer: string;
  readonly keyword: string;
  readonly message: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly reason: ProblemReason;
  readonly errors?: readonly ProblemError[];
}

/** Most errors reported for one request; the rest are counted, not listed. */
export const MAX_REPORTED_ERRORS = 10;

/** Builds the problem for a reason. */
export function problem(reason: ProblemReason, errors?: readonly ProblemError[]): Problem {
  const [status, title] = STATUS_AND_TITLE[reason];
  const base = { type: `${PROBLEM_TYPE_BASE}${reason}`, title, status, reason };
  return errors === undefined ? base : { ...base, errors };
}

/** The HTTP status of a reason. */
export function statusOf(reason: ProblemReason): number {
  return STATUS_AND_TITLE[reason][0];
}

// ajv messages that interpolate schema values are safe (schemas are ours), but the `params` of an
// error can hold user data (additionalProperty names), so only keyword + message are kept, and a
// keyword whose message could ever carry data is replaced by a fixed text.
const FIXED_MESSAGES: Readonly<Record<string, string>> = {
  additionalProperties: 'must NOT have additional properties',
  propertyNames: 'property name is not allowed',
  unevaluatedProperties: 'must NOT have unevaluated properties',
};

/** Turns ajv errors into a bounded list of `{pointer, keyword, message}` under a prefix. */
export function schemaErrors(errors: readonly SchemaError[] | null | undefined, prefix = ''): ProblemError[] {
  const out: ProblemError[] = [];
  for (const e of errors ?? []) {
    if (out.length >= MAX_REPORTED_ERRORS) break;
    out.push({
      pointer: `${prefix}${e.instancePath}`,
      keyword: e.keyword,
      message: FIXED_MESSAGES[e.keyword] ?? e.message ?? 'is invalid',
    });
  }
  return out;
}
