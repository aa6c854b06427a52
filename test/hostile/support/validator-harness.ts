// The request validator as the hostile suite drives it: the pure factory with the generated
// validation table and the deployed limits, and a recording backend passed in as `forward`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { VALIDATION } from '../../../shared/generated/validation-table.ts';
import { memoryObserver } from '../../../shared/observability/observer.ts';
import { RouteMatcher } from '../../../shared/routes/route-table.ts';
import type { UpstreamRequest } from '../../../shared/upstream/forward.ts';
import { readRequestValidatorConfig } from '../../../shared/validation/config.ts';
import { createRequestValidator } from '../../../shared/validation/request-validator.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';

/** The deployed limits (the config's defaults). */
export const VALIDATOR_CONFIG = readRequestValidatorConfig({
  UPSTREAM_URL: 'http://127.0.0.1:9/',
  UPSTREAM_SIGNING_SECRET: 'hostile-suite-signing-secret-0123456789',
});

/** A validator whose backend records every forwarded request and answers 201 `{}`. */
export function hostileValidator(): {
  validate(event: unknown): Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;
  readonly forwarded: UpstreamRequest[];
  readonly observer: ReturnType<typeof memoryObserver>;
} {
  const forwarded: UpstreamRequest[] = [];
  const observer = memoryObserver();
  const handler = createRequestValidator({
    matcher: new RouteMatcher(ROUTES),
    table: VALIDATION,
    limits: { maxBytes: VALIDATOR_CONFIG.maxBodyBytes, maxDepth: VALIDATOR_CONFIG.maxJsonDepth },
    forward: async (request) => {
      forwarded.push(request);
      return {
        ok: true,
        status: 201,
        headers: [['content-type', 'application/json']],
        body: Buffer.from('{}'),
      };
    },
    responseValidation: 'off',
    observer,
  });
  return {
    validate: (event) => handler(event) as never,
    forwarded,
    observer,
  };
}

const BASE = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'events/request-validator/rest-create-order-forwarded.json'), 'utf8'),
) as Record<string, unknown>;

/** A valid order (the sample event's body). */
export const VALID_ORDER = JSON.parse(BASE.body as string) as Record<string, unknown>;

/** The REST proxy event of `POST /orders` with this raw body (and optional header changes). */
export function createOrderEvent(
  body: string | null,
  options: { contentType?: string | null; base64?: boolean; headers?: Record<string, string> } = {},
): Record<string, unknown> {
  const headers: Record<string, string> = { ...(BASE.headers as Record<string, string>), ...options.headers };
  if (options.contentType === null) delete headers['Content-Type'];
  else if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
  return {
    ...BASE,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body:
      body === null ? null : options.base64 === true ? Buffer.from(body, 'latin1').toString('base64') : body,
    isBase64Encoded: options.base64 === true,
  };
}
