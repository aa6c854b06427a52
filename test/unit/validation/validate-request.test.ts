import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { VALIDATION } from '../../../shared/generated/validation-table.ts';
import { RouteMatcher } from '../../../shared/routes/route-table.ts';
import { readProxyEvent } from '../../../shared/validation/proxy-event.ts';
import { mediaTypeOf, validateRequest } from '../../../shared/validation/validate-request.ts';

const deps = {
  matcher: new RouteMatcher(ROUTES),
  table: VALIDATION,
  limits: { maxBytes: 4096, maxDepth: 8 },
};

function event(
  name: string,
  change: (e: Record<string, unknown>) => void = () => {},
): Record<string, unknown> {
  const e = JSON.parse(readFileSync(`events/request-validator/${name}.json`, 'utf8')) as Record<
    string,
    unknown
  >;
  change(e);
  return e;
}

function reasonOf(e: unknown): string {
  const outcome = validateRequest(readProxyEvent(e), deps);
  return outcome.ok ? 'ok' : outcome.problem.reason;
}

const ORDER =
  '{"customer":{"email":"ada@example.com","name":"Ada"},"items":[{"sku":"BOOK-001","quantity":1,"unitPrice":{"currency":"EUR","amount":1}}]}';

describe('validateRequest with the demo document', () => {
  it.each(['rest', 'http'])('passes a valid %s POST /orders with typed values', (v) => {
    // Act
    const outcome = validateRequest(readProxyEvent(event(`${v}-create-order-forwarded`)), deps);
    // Assert
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.request.route.operationId).toBe('createOrder');
    expect(outcome.request.params.header).toEqual({ 'idempotency-key': 'order-2026-0001' });
    expect(outcome.request.body?.mediaType).toBe('application/json');
  });

  it.each(['rest', 'http'])('converts %s query parameters by their declared type only', (v) => {
    const outcome = validateRequest(readProxyEvent(event(`${v}-list-orders-forwarded`)), deps);
    expect(outcome.ok && outcome.request.params.query).toEqual({ limit: 10, status: 'paid' });
  });

  it.each([
    ['list-orders-bad-limit-400', 'parameter_invalid'],
    ['list-orders-unknown-query-400', 'parameter_invalid'],
    ['create-order-invalid-body-400', 'body_invalid'],
    ['create-order-missing-idempotency-key-400', 'parameter_invalid'],
    ['create-order-wrong-content-type-415', 'media_type_unsupported'],
    ['create-order-duplicate-key-400', 'json_duplicate_key'],
    ['create-order-proto-key-400', 'json_forbidden_key'],
    ['create-order-unsafe-integer-400', 'body_invalid'],
    ['create-order-bad-base64-400', 'body_invalid_base64'],
    ['get-order-path-traversal-400', 'parameter_invalid'],
    ['delete-orders-405', 'method_not_allowed'],
    ['unknown-route-404', 'route_not_found'],
  ])('refuses the %s event (REST and HTTP API) with %s', (name, reason) => {
    expect(reasonOf(event(`rest-${name}`))).toBe(reason);
    expect(reasonOf(event(`http-${name}`))).toBe(reason);
  });

  it('answers 405 with the allowed methods', () => {
    const outcome = validateRequest(readProxyEvent(event('rest-delete-orders-405')), deps);
    expect(outcome.ok ? [] : [...(outcome.allow ?? [])].sort()).toEqual(['GET', 'POST']);
  });

  it('refuses integers beyond 2^53 even where the schema has no bound of its own', () => {
    // `quantity` has max 1000, but amount's max is 1e8: 2^53 + 1 must fail on one of them.
    const outcome = validateRequest(
      readProxyEvent(
        event('rest-create-order-forwarded', (e) => {
          e.body = ORDER.replace('"amount":1', '"amount":9007199254740993');
        }),
      ),
      deps,
    );
    expect(outcome.ok ? undefined : outcome.problem.errors?.[0]).toMatchObject({
      pointer: '/items/0/unitPrice/amount',
      keyword: 'maximum',
    });
  });

  it('refuses a body on an operation that declares none with 415', () => {
    expect(
      reasonOf(
        event('rest-get-order-forwarded', (e) => {
          e.body = '{}';
          e.headers = { 'Content-Type': 'application/json' };
          e.multiValueHeaders = { 'Content-Type': ['application/json'] };
        }),
      ),
    ).toBe('media_type_unsupported');
  });

  it('refuses an empty body where one is required', () => {
    expect(reasonOf(event('http-create-order-forwarded', (e) => delete e.body))).toBe('body_required');
  });

  it('refuses a body over the limit with 413', () => {
    expect(
      reasonOf(
        event('http-create-order-forwarded', (e) => {
          e.body = Buffer.from(`${ORDER}${' '.repeat(5000)}`).toString('base64');
          e.isBase64Encoded = true;
        }),
      ),
    ).toBe('body_too_large');
  });

  it('refuses nesting over MAX_JSON_DEPTH', () => {
    expect(
      reasonOf(
        event('http-create-order-forwarded', (e) => {
          e.body = `{"customer":${'['.repeat(20)}${']'.repeat(20)}}`;
        }),
      ),
    ).toBe('json_too_deep');
  });

  it('never echoes rejected values or attacker-chosen keys in the problem', () => {
    // Arrange
    const secret = 'SECRET-VALUE-123';
    const e = event('rest-create-order-forwarded', (x) => {
      x.body = ORDER.replace('"EUR"', `"${secret}"`).replace('{"customer"', `{"${secret}k":1,"customer"`);
    });
    // Act
    const outcome = validateRequest(readProxyEvent(e), deps);
    // Assert
    expect(outcome.ok).toBe(false);
    expect(JSON.stringify(outcome)).not.toContain('SECRET');
  });

  it('refuses path parameters that are not percent-encoded UTF-8', () => {
    expect(
      reasonOf(
        event('http-get-order-forwarded', (e) => {
          e.routeKey = '$default';
          e.rawPath = '/orders/%E0%A4%A';
        }),
      ),
    ).toBe('parameter_invalid');
  });

  it('bounds the number of reported errors', () => {
    const items = Array.from({ length: 40 }, () => ({ sku: 'x', quantity: 0, unitPrice: {} }));
    const outcome = validateRequest(
      readProxyEvent(
        event('rest-create-order-forwarded', (e) => {
          e.body = JSON.stringify({ customer: {}, items });
        }),
      ),
      { ...deps, limits: { maxBytes: 100_000, maxDepth: 8 } },
    );
    expect(outcome.ok ? 0 : outcome.problem.errors?.length).toBe(10);
  });

  it('refuses every request as internal_error once Object.prototype is polluted', () => {
    // Arrange: the validators read properties directly; an inherited one must never count.
    (Object.prototype as Record<string, unknown>).customer = { email: 'x@example.com', name: 'X' };
    onTestFinished(() => {
      delete (Object.prototype as Record<string, unknown>).customer;
    });
    // Act / Assert
    expect(reasonOf(event('rest-create-order-forwarded'))).toBe('internal_error');
    expect(reasonOf(event('rest-health-forwarded'))).toBe('internal_error');
  });
});

describe('mediaTypeOf', () => {
  it.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=UTF-8', 'application/json'],
    ['application/json; charset="utf-8"', 'application/json'],
    ['application/json; charset=latin1', undefined],
    ['application/json, text/plain', undefined],
    ['', undefined],
  ])('reads %j as %j', (header, expected) => {
    expect(mediaTypeOf(header)).toBe(expected);
  });
});

describe('validateRequest on bound path parameters (docs/tenant-binding.md)', () => {
  it('passes the caller’s own tenant, from the authorizer’s bind_tenantId', () => {
    expect(reasonOf(event('rest-tenant-orders-forwarded'))).toBe('ok');
  });

  it.each([
    ['rest-tenant-mismatch-403', 'tenant_mismatch'],
    ['http-tenant-mismatch-403', 'tenant_mismatch'],
    ['rest-tenant-binding-missing-403', 'tenant_binding_missing'],
  ])('refuses %s as %s, with 403', (name, reason) => {
    const outcome = validateRequest(readProxyEvent(event(name)), deps);
    expect(outcome.ok ? 'ok' : [outcome.problem.reason, outcome.problem.status]).toEqual([reason, 403]);
  });

  it.each([
    ['an encoded form of the value', '/tenants/%61cm%65/orders', 'ok'],
    ['another case', '/tenants/ACME/orders', 'tenant_mismatch'],
    ['a longer value', '/tenants/acme-eu/orders', 'tenant_mismatch'],
  ])('compares the decoded path value exactly: %s', (_, path, reason) => {
    // The authorizer's policy compares the raw ARN; the validator sees the decoded parameter, as
    // the backend will. A percent-encoded spelling of the caller's own value is the same value.
    const e = event('rest-tenant-orders-forwarded', (x) => {
      x.path = path;
      x.resource = undefined;
    });
    expect(reasonOf(e)).toBe(reason);
  });

  it('checks the binding before the parameters, so another tenant learns nothing of the request’s validity', () => {
    const e = event('rest-tenant-mismatch-403', (x) => {
      x.pathParameters = { tenantId: 'globex', id: 'not an order id' };
      x.path = '/tenants/globex/orders/not-an-order-id';
    });
    expect(reasonOf(e)).toBe('tenant_mismatch');
  });

  it('refuses a bind_ value that is not a string (a context API Gateway would not deliver)', () => {
    const e = event('rest-tenant-orders-forwarded', (x) => {
      ((x.requestContext as Record<string, unknown>).authorizer as Record<string, unknown>).bind_tenantId =
        42;
    });
    expect(reasonOf(e)).toBe('tenant_binding_missing');
  });

  it('passes an AWS_IAM route, with the IAM caller as the principal', () => {
    const request = readProxyEvent(event('rest-fulfilment-callback-forwarded'));
    expect(request.identity.principal).toBe(
      'arn:aws:sts::123456789012:assumed-role/FulfilmentCallbackRole/fulfilment',
    );
    const outcome = validateRequest(request, deps);
    expect(outcome.ok && outcome.request.route.operationId).toBe('fulfilmentCallback');
  });
});
