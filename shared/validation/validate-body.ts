/**
 * Body validation by operationId, for callers that hold a body and not an event (benchmarks,
 * tools): the same strict parse and precompiled validator the request validator runs.
 */
import { ROUTES } from '../generated/routes.ts';
import { VALIDATION } from '../generated/validation-table.ts';
import { type BodyLimits, bodyText, parseJsonBody } from './body.ts';
import { type Problem, problem, schemaErrors } from './problem.ts';
import type { ValidateFunction } from './table.ts';

/** Defaults of MAX_BODY_BYTES and MAX_JSON_DEPTH. */
export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 1_048_576, maxDepth: 32 };

const found = new Map<string, ValidateFunction | undefined>();
// The last answer again without building a key: callers mostly ask for one operation in a row.
let last: { operationId: string; mediaType: string; validate: ValidateFunction | undefined } | undefined;

/** The generated validator of an operation's request body for a media type (JSON bodies). */
export function bodyValidator(operationId: string, mediaType: string): ValidateFunction | undefined {
  if (last !== undefined && last.operationId === operationId && last.mediaType === mediaType)
    return last.validate;
  const key = `${operationId} ${mediaType}`;
  const validate = found.has(key) ? found.get(key) : lookup(operationId, mediaType);
  found.set(key, validate);
  last = { operationId, mediaType, validate };
  return validate;
}

function lookup(operationId: string, mediaType: string): ValidateFunction | undefined {
  const route = ROUTES.find((r) => r.operationId === operationId);
  if (route === undefined) return undefined;
  const media = VALIDATION.operation(`${route.method} ${route.path}`)?.body?.media;
  return media !== undefined && Object.hasOwn(media, mediaType) ? media[mediaType]?.validate : undefined;
}

/** Validates a JSON body text for an operation and media type. */
export function validateBody(
  operationId: string,
  mediaType: string,
  body: string,
  limits: BodyLimits = DEFAULT_BODY_LIMITS,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: Problem } {
  const validate = bodyValidator(operationId, mediaType);
  if (validate === undefined) return { ok: false, problem: problem('media_type_unsupported') };
  const text = bodyText(body, false, limits.maxBytes);
  if (!text.ok) return { ok: false, problem: problem(text.reason) };
  const parsed = parseJsonBody(text.text, limits.maxDepth);
  if (!parsed.ok) return { ok: false, problem: problem(parsed.reason, parsed.errors) };
  if (!validate(parsed.value))
    return { ok: false, problem: problem('body_invalid', schemaErrors(validate.errors)) };
  return { ok: true, value: parsed.value };
}
