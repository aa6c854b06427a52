// Property tests (fast-check) for the request validator: arbitrary bodies never crash it (every
// answer is a forward or a 4xx problem) and it never forwards a body the schema refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyValidator } from '../../shared/validation/validate-body.ts';
import { createOrderEvent, hostileValidator, VALID_ORDER } from './support/validator-harness.ts';

/** Runs per property; CI keeps 10,000 (docs/hardening.md). `HOSTILE_RUNS` lowers it for a quick local loop. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);
const schema = bodyValidator('createOrder', 'application/json');
const REFUSALS = [400, 413, 415];

/** Checks one answer: no crash, and a forward only of what the schema accepts. */
async function check(v: ReturnType<typeof hostileValidator>, event: Record<string, unknown>): Promise<void> {
  const before = v.forwarded.length;
  const response = await v.validate(event);
  if (v.forwarded.length > before) {
    const text = v.forwarded.at(-1)?.body?.text as string;
    expect(response.statusCode).toBe(201);
    expect(schema?.(JSON.parse(text))).toBe(true);
  } else {
    expect(REFUSALS).toContain(response.statusCode);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
  }
}

/** A valid order with one path replaced by an arbitrary JSON value. */
const mutatedOrder = fc
  .tuple(
    fc.constantFrom(
      'customer',
      'customer.email',
      'items',
      'items.0',
      'items.0.quantity',
      'items.0.unitPrice.amount',
      'shipping',
      'shipping.country',
      'tags',
      'extra',
    ),
    fc.jsonValue({ maxDepth: 4 }),
  )
  .map(([path, value]) => {
    const copy = structuredClone(VALID_ORDER) as Record<string, unknown>;
    const keys = path.split('.');
    let node: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1) as string] = value;
    return JSON.stringify(copy);
  });

describe('request validator properties', () => {
  it('never crashes and never forwards an invalid body: arbitrary JSON values', async () => {
    const v = hostileValidator();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await check(v, createOrderEvent(JSON.stringify(value)));
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('never crashes and never forwards an invalid body: valid orders with one part replaced', async () => {
    const v = hostileValidator();
    await fc.assert(
      fc.asyncProperty(mutatedOrder, async (body) => {
        await check(v, createOrderEvent(body));
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('never crashes: arbitrary text and bytes as the body, plain or base64', async () => {
    const v = hostileValidator();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        fc.boolean(),
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'text/plain',
          'application/json;charset=latin1',
        ),
        async (body, base64, contentType) => {
          await check(v, createOrderEvent(body, { base64, contentType }));
        },
      ),
      { numRuns: RUNS },
    );
  }, 60_000);
});
