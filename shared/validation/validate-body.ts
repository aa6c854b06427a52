/**
 * Body validation by operationId, for callers that hold a body and not an event (benchmarks,
 * tools): the same strict parse and precompiled validator the request validator runs.
 */
import { VALIDATION } from '../generated/validation-table.ts';
import { type BodyLimits, bodyText, parseJsonBody } from './body.ts';
import { type Problem, problem, schemaErrors } from './problem.ts';

/** Defaults of MAX_BODY_BYTES and MAX_JSON_DEPTH. */
export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 1_048_576, maxDepth: 32 };

/** Validates a JSON body text for an operation and media type. */
export function validateBody(
  operationId: string,
  mediaType: string,
  body: string,
  limits: BodyLimits = DEFAULT_BODY_LIMITS,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: Problem } {
  const operation = Object.hasOwn(VALIDATION, operationId) ? VALIDATION[operationId] : undefined;
  const validate = operation?.body?.media[mediaType];
  if (validate === undefined) return { ok: false, problem: problem('media_type_unsupported') };
  const text = bodyText(body, false, limits.maxBytes);
  if (!text.ok) return { ok: false, problem: problem(text.reason) };
  const parsed = parseJsonBody(text.text, limits.maxDepth);
  if (!parsed.ok) return { ok: false, problem: problem(parsed.reason) };
  if (!validate(parsed.value))
    return { ok: false, problem: problem('body_invalid', schemaErrors(validate.errors)) };
  return { ok: true, value: parsed.value };
}
