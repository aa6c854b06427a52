import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/generated/routes.ts';
import { type Route, RouteMatcher, scopesPermit } from '../../../shared/routes/route-table.ts';

const route = (
  method: Route['method'],
  path: string,
  scopeAlternatives: Route['scopeAlternatives'] = [['s']],
): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives,
});

describe('RouteMatcher', () => {
  const matcher = new RouteMatcher(ROUTES);

  it.each([
    ['GET', '/orders', 'GET /orders', {}],
    ['get', '/orders', 'GET /orders', {}],
    ['GET', '/orders/ord_1', 'GET /orders/{id}', { id: 'ord_1' }],
    ['DELETE', '/orders/ord_1', 'DELETE /orders/{id}', { id: 'ord_1' }],
    ['GET', '/health', 'GET /health', {}],
  ])('finds %s %s as %s', (method, path, expected, params) => {
    const found = matcher.lookup(method, path);
    expect(found.kind).toBe('found');
    if (found.kind !== 'found') return;
    expect(`${found.match.route.method} ${found.match.route.path}`).toBe(expected);
    expect(found.match.params).toEqual(params);
  });

  it('answers method_not_allowed with the allowed methods for a known path', () => {
    expect(matcher.lookup('PUT', '/orders/ord_1')).toEqual({
      kind: 'method_not_allowed',
      allowed: ['GET', 'DELETE'],
    });
  });

  it.each([['/orders/'], ['/orders/a/b'], ['/nope'], ['/'], ['//orders']])(
    'answers not_found for %s',
    (path) => {
      expect(matcher.lookup('GET', path).kind).toBe('not_found');
    },
  );

  it('prefers a literal segment over a parameter', () => {
    const m = new RouteMatcher([route('GET', '/a/{x}'), route('GET', '/a/b')]);
    const found = m.lookup('GET', '/a/b');
    expect(found.kind === 'found' && found.match.route.path).toBe('/a/b');
  });

  it('finds routes by the template API Gateway names', () => {
    expect(matcher.byTemplate('delete', '/orders/{id}')?.operationId).toBe('deleteOrder');
    expect(matcher.byTemplate('PUT', '/orders/{id}')).toBeUndefined();
  });
});

describe('scopesPermit', () => {
  it.each([
    [[['a']], ['a'], true],
    [[['a', 'b']], ['a'], false],
    [[['a', 'b']], ['b', 'a', 'c'], true],
    [[['a'], ['b']], ['b'], true],
    [[], ['a'], false],
    [null, [], true],
  ] as const)('alternatives %j with scopes %j → %s', (alternatives, granted, expected) => {
    expect(
      scopesPermit(route('GET', '/x', alternatives as Route['scopeAlternatives']), new Set(granted)),
    ).toBe(expected);
  });
});
