/**
 * The peer a user would write instead of Gatehouse's request validator: middy with
 * @middy/validator, the schema compiled by ajv at init (`transpileSchema`), the body parsed in a
 * `before` step. Used only by the cold-start and bundle-size sections of the benchmark.
 */
import middy from '@middy/core';
import validator from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';

/** The `NewOrder` event schema, from openapi.yaml, put in by esbuild's `define` (bench/bundles.ts). */
declare const NEW_ORDER_EVENT_SCHEMA: Record<string, unknown>;

interface ProxyEvent {
  body: unknown;
}

export const handler = middy<ProxyEvent>()
  .before((request) => {
    request.event.body = typeof request.event.body === 'string' ? JSON.parse(request.event.body) : undefined;
  })
  .use(validator({ eventSchema: transpileSchema(NEW_ORDER_EVENT_SCHEMA) }))
  .handler(async () => ({ statusCode: 202, body: '' }));
