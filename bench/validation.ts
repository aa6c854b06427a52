/**
 * Section 2: request validation of a ~1 KB `POST /orders` body (openapi.yaml `NewOrder`: nested
 * object, 10 items, formats, enum, `additionalProperties: false`). Each case parses the raw body
 * and validates it; the floor is `JSON.parse` of the body alone.
 */
import { readFileSync } from 'node:fs';
import { validate as powertoolsValidate } from '@aws-lambda-powertools/validation';
import middy from '@middy/core';
import validatorMiddleware from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Ours } from './bundles.ts';
import { type Case, type Measurement, type MeasureOptions, measureGroup } from './harness.ts';

/** The section's measurements. */
export interface ValidationResult {
  /** Size of the body, in bytes. */
  readonly bodyBytes: number;
  readonly floor: Measurement;
  readonly ours: Measurement;
  /** What "ours" went through (the public API, or the generated validator when that is all there is). */
  readonly oursVia: string;
  /** Parts of our path timed alone: where the time over the floor goes. */
  readonly breakdown: readonly Measurement[];
  readonly peers: readonly Measurement[];
}

/** A valid `NewOrder` of about 1 KB. */
export function orderBody(): string {
  const items = Array.from({ length: 10 }, (_, n) => ({
    sku: `SKU-${1000 + n}`,
    quantity: n + 1,
    unitPrice: { currency: 'EUR', amount: 1999 + n },
    ...(n % 3 === 0 ? { note: 'gift wrap' } : { note: null }),
  }));
  return JSON.stringify({
    customer: { email: 'ada.lovelace@example.com', name: 'Ada Lovelace', phone: '+442071234567' },
    items,
    shipping: { country: 'GB', postalCode: 'SW1A 1AA' },
    deliverBy: '2026-12-24',
    tags: ['priority', 'gift'],
  });
}

/**
 * `NewOrder` as a self-contained JSON Schema 2020-12 (every component moved to `$defs`). `type:
 * object` is added at the root: it changes nothing (its `allOf` already requires an object) but ajv's
 * strict mode wants it beside `unevaluatedProperties`.
 */
export function newOrderSchema(): Record<string, unknown> {
  const document = parseYaml(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
    components: { schemas: Record<string, unknown> };
  };
  const { NewOrder, ...others } = document.components.schemas;
  const text = JSON.stringify({ type: 'object', ...(NewOrder as object), $defs: others }).replaceAll(
    '#/components/schemas/',
    '#/$defs/',
  );
  return JSON.parse(text) as Record<string, unknown>;
}

/** The same rules written with zod. */
function zodSchema() {
  const money = z.strictObject({
    currency: z.enum(['EUR', 'USD', 'GBP']),
    amount: z.int().min(0).max(100000000),
  });
  const item = z.strictObject({
    sku: z
      .string()
      .max(32)
      .regex(/^[A-Z0-9-]{3,32}$/),
    quantity: z.int().min(1).max(1000),
    unitPrice: money,
    note: z.string().max(200).nullable().optional(),
  });
  return z.strictObject({
    customer: z.strictObject({
      email: z.email().max(254),
      name: z.string().min(1).max(100),
      phone: z
        .string()
        .max(16)
        .regex(/^\+[1-9][0-9]{6,14}$/)
        .optional(),
    }),
    items: z.array(item).min(1).max(50),
    shipping: z
      .strictObject({
        country: z
          .string()
          .max(2)
          .regex(/^[A-Z]{2}$/),
        postalCode: z.string().min(2).max(12),
      })
      .optional(),
    deliverBy: z.iso.date().max(10).optional(),
    tags: z
      .array(z.string().max(30))
      .max(10)
      .refine((tags) => new Set(tags).size === tags.length, 'tags must be unique')
      .optional(),
  });
}

function mustAccept(name: string, ok: boolean): void {
  if (!ok) throw new Error(`bench: ${name} refused the valid order body`);
}

/** Runs section 2. */
export async function runValidationSection(
  ours: Ours,
  options: MeasureOptions = {},
): Promise<ValidationResult> {
  const { PROTOTYPE_KEYS, bodyValidator, parseStrictJson, validateBody } = ours;
  const body = orderBody();
  const schema = newOrderSchema();

  const oursValidate = (text: string) => validateBody('createOrder', 'application/json', text).ok;
  mustAccept('ours', oursValidate(body));

  const ajv = new Ajv2020({ allErrors: false });
  addFormats.default(ajv);
  const ajvValidate = ajv.compile(schema);
  mustAccept('ajv', ajvValidate(JSON.parse(body)));

  const powertoolsAjv = new Ajv2020({ allErrors: true });
  addFormats.default(powertoolsAjv);
  // Powertools compiles per call; passing one Ajv instance lets ajv's own cache answer (its
  // documented way to avoid recompiling).
  powertoolsValidate({ payload: JSON.parse(body), schema, ajv: powertoolsAjv });

  // The event schema wraps the body; `$defs` must sit at the root for its `$ref`s to resolve.
  const { $defs, ...bodySchema } = schema;
  const eventSchema = transpileSchema({
    type: 'object',
    required: ['body'],
    properties: { body: bodySchema },
    $defs,
  });
  const middyHandler = middy<{ rawBody: string; body?: unknown }>()
    .before((request) => {
      request.event.body = JSON.parse(request.event.rawBody);
    })
    .use(validatorMiddleware({ eventSchema }))
    .handler(async () => ({ statusCode: 200 }));
  const context = { getRemainingTimeInMillis: () => 5000 } as never;
  const middyOk = await middyHandler({ rawBody: body } as never, context);
  mustAccept('middy', (middyOk as { statusCode: number }).statusCode === 200);

  const zodOrder = zodSchema();
  mustAccept('zod', zodOrder.safeParse(JSON.parse(body)).success);

  const generated = bodyValidator('createOrder', 'application/json');
  const floorCase: Case = { name: 'JSON.parse (floor)', fn: () => JSON.parse(body) };
  // Ours and the peers in two round-robin groups, each with the floor, so that one side's garbage
  // (zod's above all) is not collected on the other's time.
  const oursCases: Case[] = [
    floorCase,
    { name: 'Gatehouse compiled validation', fn: () => oursValidate(body) },
    {
      name: '  part: strict JSON scan + JSON.parse (parseStrictJson)',
      fn: () => parseStrictJson(body, { maxDepth: 32, forbiddenKeys: PROTOTYPE_KEYS }),
    },
  ];
  if (generated !== undefined)
    oursCases.push({
      name: '  part: JSON.parse + generated validator (no strict scan)',
      fn: () => generated(JSON.parse(body)),
    });
  const peerCases: Case[] = [
    floorCase,
    { name: 'ajv (compiled at run time)', fn: () => ajvValidate(JSON.parse(body)) },
    { name: '@middy/validator', fn: () => middyHandler({ rawBody: body } as never, context) },
    {
      name: 'Powertools validation',
      fn: () => powertoolsValidate({ payload: JSON.parse(body), schema, ajv: powertoolsAjv }),
    },
    { name: 'zod', fn: () => zodOrder.safeParse(JSON.parse(body)).success },
  ];
  const [floor, oursM, ...breakdown] = (await measureGroup(oursCases, options)) as Measurement[];
  const [peerFloor, ...peerRows] = (await measureGroup(peerCases, options)) as Measurement[];
  const scale = (floor as Measurement).medianNs / (peerFloor as Measurement).medianNs;
  const peers = peerRows.map((m) => ({
    ...m,
    medianNs: m.medianNs * scale,
    p99Ns: m.p99Ns * scale,
    opsPerSecond: m.opsPerSecond / scale,
  }));
  return {
    bodyBytes: Buffer.byteLength(body),
    floor: floor as Measurement,
    ours: oursM as Measurement,
    oursVia:
      '`validateBody()` of shared/validation/validate-body.ts (strict parse + generated ajv standalone validator)',
    breakdown,
    peers,
  };
}
