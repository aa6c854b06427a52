import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/generated/routes.ts';
import {
  apiGatewayPath,
  parseTemplate,
  type Route,
  RouteMatcher,
  type RouteTemplate,
  RouteTemplateError,
  routePrecedence,
  scopesPermit,
} from '../../../shared/routes/route-table.ts';

const route = (
  method: Route['method'],
  path: string,
  scopeAlternatives: Route['scopeAlternatives'] = [['s']],
  greedy = false,
): Route => ({
  method,
  path,
  operationId: `${method} ${path}`,
  scopeAlternatives,
  ...(greedy ? { greedy: true as const } : {}),
});

const found = (m: RouteMatcher<RouteTemplate>, method: string, path: string) => {
  const result = m.lookup(method, path);
  return result.kind === 'found'
    ? { route: `${result.match.route.method} ${result.match.route.path}`, params: result.match.params }
    : result.kind;
};

describe('RouteMatcher on the demo API', () => {
  const matcher = new RouteMatcher(ROUTES);

  it.each([
    ['GET', '/orders', 'GET /orders', {}],
    ['GET', '/orders/ord_1', 'GET /orders/{id}', { id: 'ord_1' }],
    ['GET', '/orders/a%2Fb', 'GET /orders/{id}', { id: 'a%2Fb' }],
    ['DELETE', '/orders/ord_1', 'DELETE /orders/{id}', { id: 'ord_1' }],
    ['GET', '/health', 'GET /health', {}],
  ])('finds %s %s as %s', (method, path, expected, params) => {
    expect(found(matcher, method, path)).toEqual({ route: expected, params });
  });

  it('answers method_not_allowed with the allowed methods for a known path, in table order', () => {
    expect(matcher.lookup('PUT', '/orders/ord_1')).toEqual({
      kind: 'method_not_allowed',
      allowed: ['GET', 'DELETE'],
    });
  });

  it('treats methods as case-sensitive (RFC 9110): `get` is not GET', () => {
    expect(matcher.lookup('get', '/orders')).toEqual({
      kind: 'method_not_allowed',
      allowed: ['GET', 'POST'],
    });
  });

  it.each([
    ['/orders/'],
    ['/orders/a/b'],
    ['/orders//'],
    ['/nope'],
    ['/'],
    ['//orders'],
    [''],
    ['orders'],
    ['/ORDERS'],
  ])('answers not_found for %j', (path) => {
    expect(matcher.lookup('GET', path).kind).toBe('not_found');
  });

  it('finds routes by the template API Gateway names, with the exact method', () => {
    expect(matcher.byTemplate('DELETE', '/orders/{id}')?.operationId).toBe('deleteOrder');
    expect(matcher.byTemplate('DELETE', '/orders/{orderId}')?.operationId).toBe('deleteOrder');
    expect(matcher.byTemplate('delete', '/orders/{id}')).toBeUndefined();
    expect(matcher.byTemplate('PUT', '/orders/{id}')).toBeUndefined();
    expect(matcher.byTemplate('GET', '/{proxy+}')).toBeUndefined();
  });
});

describe('RouteMatcher precedence (API Gateway: literal, then literal text around a parameter, then {param}, then {param+})', () => {
  const m = new RouteMatcher([
    route('GET', '/a/{x}'),
    route('GET', '/a/b'),
    route('GET', '/a/{x}/c'),
    route('GET', '/{y}/b/c'),
    route('GET', '/v1/{name}:predict'),
    route('GET', '/v1/{name}'),
    route('GET', '/v1/{name}:predictAll'),
    route('GET', '/files/{path}', [['s']], true),
    route('GET', '/files/{id}/meta'),
    route('DELETE', '/a/b'),
  ]);

  it.each([
    ['/a/b', 'GET /a/b', {}],
    ['/a/z', 'GET /a/{x}', { x: 'z' }],
    ['/a/b/c', 'GET /a/{x}/c', { x: 'b' }],
    ['/q/b/c', 'GET /{y}/b/c', { y: 'q' }],
    ['/v1/m:predict', 'GET /v1/{name}:predict', { name: 'm' }],
    ['/v1/m:predictAll', 'GET /v1/{name}:predictAll', { name: 'm' }],
    ['/v1/m:explain', 'GET /v1/{name}', { name: 'm:explain' }],
    ['/v1/:predict', 'GET /v1/{name}', { name: ':predict' }],
    ['/files/x/meta', 'GET /files/{id}/meta', { id: 'x' }],
    ['/files/x/y/meta', 'GET /files/{path}', { path: 'x/y/meta' }],
    ['/files/a.txt', 'GET /files/{path}', { path: 'a.txt' }],
    ['/files//x', 'GET /files/{path}', { path: '/x' }],
  ])('GET %s goes to %s', (path, expected, params) => {
    expect(found(m, 'GET', path)).toEqual({ route: expected, params });
  });

  it('falls back to a less specific route that has the method', () => {
    expect(found(m, 'DELETE', '/a/b')).toEqual({ route: 'DELETE /a/b', params: {} });
    const n = new RouteMatcher([route('GET', '/a/{x}'), route('DELETE', '/a/b')]);
    expect(found(n, 'GET', '/a/b')).toEqual({ route: 'GET /a/{x}', params: { x: 'b' } });
  });

  it('never lets a greedy parameter match nothing', () => {
    expect(m.lookup('GET', '/files/').kind).toBe('not_found');
    expect(m.lookup('GET', '/files').kind).toBe('not_found');
  });

  it('ranks routes as lookup does', () => {
    const [ax, ab, axc, ybc] = m.routes as Route[];
    const precedes = routePrecedence(m.routes);
    expect(precedes(ab as Route, ax as Route)).toBe(true);
    expect(precedes(ax as Route, ab as Route)).toBe(false);
    expect(precedes(axc as Route, ybc as Route)).toBe(true);
  });

  it('matches ANY after the routes that name the method (the local gateway`s SAM events)', () => {
    const g = new RouteMatcher<RouteTemplate>([
      { method: 'ANY', path: '/files/{proxy+}' },
      { method: 'GET', path: '/files/{proxy+}' },
      { method: 'ANY', path: '/orders/{id}' },
    ]);
    expect(found(g, 'GET', '/files/a/b')).toEqual({ route: 'GET /files/{proxy+}', params: { proxy: 'a/b' } });
    expect(found(g, 'PATCH', '/files/a/b')).toEqual({
      route: 'ANY /files/{proxy+}',
      params: { proxy: 'a/b' },
    });
    expect(found(g, 'POST', '/orders/1')).toEqual({ route: 'ANY /orders/{id}', params: { id: '1' } });
  });

  it('agrees with a reference matcher that scans every route, for generated paths', () => {
    // The reference: a regular expression per route, ranked by precedes (which the policy compiler uses).
    const table = m.routes as Route[];
    const precedes = routePrecedence(table);
    const regexOf = (r: Route) =>
      new RegExp(
        `^${parseTemplate(r.path, r.greedy === true)
          .map((s) =>
            s.kind === 'literal'
              ? s.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              : s.kind === 'greedy'
                ? '(.+)'
                : s.parts
                    .map((p) =>
                      typeof p === 'string' ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : '([^/]+?)',
                    )
                    .join(''),
          )
          .map((x) => `/${x}`)
          .join('')}$`,
        's',
      );
    const candidates = fc.constantFrom(
      'a',
      'b',
      'c',
      'q',
      'v1',
      'files',
      'meta',
      'm:predict',
      'm:predictAll',
      '',
      'x:y',
    );
    fc.assert(
      fc.property(fc.array(candidates, { minLength: 1, maxLength: 5 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const matching = table.filter((r) => r.method === 'GET' && regexOf(r).test(path));
        const best = matching.find((r) => matching.every((o) => o === r || !precedes(o, r)));
        const result = m.lookup('GET', path);
        expect(result.kind === 'found' ? result.match.route : undefined).toBe(best);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('path templates', () => {
  it.each([
    ['/orders/{id}', false, ['literal', 'param']],
    ['/files/{proxy+}', false, ['literal', 'greedy']],
    ['/files/{path}', true, ['literal', 'greedy']],
    ['/v1/{name}:predict', false, ['literal', 'param']],
    ['/', false, ['literal']],
  ])('%s (greedy flag %s) has segments %j', (path, greedy, kinds) => {
    expect(parseTemplate(path, greedy).map((s) => s.kind)).toEqual(kinds);
  });

  it.each([
    ['/a/{x+}/b', /greedy parameter must be the last segment/],
    ['/a/{x}{y}', /separated by literal text/],
    ['/a/{}', /not a parameter name/],
    ['/a/{x', /unbalanced braces/],
    ['a/b', /starts with "\/"/],
  ])('refuses %s', (path, message) => {
    expect(() => parseTemplate(path)).toThrow(RouteTemplateError);
    expect(() => parseTemplate(path)).toThrow(message);
  });

  it.each([
    [route('GET', '/orders/{id}'), '/orders/{id}'],
    [route('GET', '/files/{path}', [['s']], true), '/files/{path+}'],
    [route('POST', '/v1/{name}:predict'), '/v1/{name}'],
  ])('maps %j to the API Gateway resource %s', (r, resource) => {
    expect(apiGatewayPath(r)).toBe(resource);
  });

  it('puts document routes that share an API Gateway resource together', () => {
    const m = new RouteMatcher([route('POST', '/v1/{name}:predict'), route('POST', '/v1/{model}:explain')]);
    expect(m.onResource('POST', '/v1/{name}').map((r) => r.path)).toEqual([
      '/v1/{name}:predict',
      '/v1/{model}:explain',
    ]);
    expect(m.byTemplate('POST', '/v1/{name}')).toBeUndefined();
    expect(m.byTemplate('POST', '/v1/{name}:predict')?.path).toBe('/v1/{name}:predict');
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
