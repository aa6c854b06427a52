import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { httpRouteMatcher, restRouteMatcher } from '../../../tools/gateway/route-matcher.ts';
import { TemplateError } from '../../../tools/template/template.ts';

const route = (method: string, path: string) => ({ method, path });

describe('restRouteMatcher', () => {
  const match = restRouteMatcher([
    route('GET', '/pets'),
    route('GET', '/pets/{id}'),
    route('GET', '/pets/dog'),
    route('ANY', '/pets/{id}'),
    route('ANY', '/{proxy+}'),
  ]);

  it.each([
    ['GET', '/pets/dog', 'GET /pets/dog', null],
    ['GET', '/pets/7', 'GET /pets/{id}', { id: '7' }],
    ['DELETE', '/pets/7', 'ANY /pets/{id}', { id: '7' }],
    ['GET', '/pets/a%2Fb', 'GET /pets/{id}', { id: 'a%2Fb' }],
    ['POST', '/x/y%20z', 'ANY /{proxy+}', { proxy: 'x/y%20z' }],
  ])('%s %s → %s with the parameters still encoded', (method, path, expected, params) => {
    // Act
    const found = match(method, path);

    // Assert
    expect(`${found?.route.method} ${found?.route.path}`).toBe(expected);
    expect(found?.pathParameters).toEqual(params);
  });

  it('does not match the root with a greedy parameter', () => {
    // Act / Assert
    expect(match('GET', '/')).toBeUndefined();
  });
});

describe('httpRouteMatcher', () => {
  const routes = [
    route('GET', '/pets/dog/1'),
    route('GET', '/pets/dog/{id}'),
    route('GET', '/pets/{proxy+}'),
    route('ANY', '/{proxy+}'),
    route('ANY', '$default'),
  ];
  const match = httpRouteMatcher(routes);

  // The routing table of https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1'],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}'],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}'],
    ['POST', '/pets/cat/1', 'ANY /{proxy+}'],
    ['POST', '/', 'ANY $default'],
  ])('%s %s → %s', (method, path, expected) => {
    // Act
    const found = match(method, path);

    // Assert
    expect(`${found?.route.method} ${found?.route.path}`).toBe(expected);
  });

  it('decodes path parameters', () => {
    // Act / Assert
    expect(match('GET', '/pets/dog/a%20b')?.pathParameters).toEqual({ id: 'a b' });
  });

  it('finds nothing without a $default route', () => {
    // Act / Assert
    expect(httpRouteMatcher([route('GET', '/pets')])('GET', '/cats')).toBeUndefined();
  });
});

describe('routing as API Gateway does, over the shared trie', () => {
  it('routes a path with a trailing slash or empty segments to the resource without them', () => {
    // Arrange
    const match = restRouteMatcher([route('GET', '/pets'), route('GET', '/pets/{id}')]);
    // Act / Assert
    expect(match('GET', '/pets/')?.route.path).toBe('/pets');
    expect(match('GET', '/pets//7')).toEqual({
      route: route('GET', '/pets/{id}'),
      pathParameters: { id: '7' },
    });
  });

  it('matches a literal segment spelled percent-encoded, and prefers it to a parameter', () => {
    // Arrange
    const match = restRouteMatcher([route('GET', '/pets/{id}'), route('GET', '/pets/dog')]);
    // Act / Assert
    expect(match('GET', '/pets/d%6Fg')).toEqual({ route: route('GET', '/pets/dog'), pathParameters: null });
    expect(match('GET', '/pets/c%61t')?.pathParameters).toEqual({ id: 'c%61t' });
  });

  it('lets any full match beat a greedy one on HTTP APIs, whatever the earlier segments', () => {
    // Arrange
    const match = httpRouteMatcher([route('GET', '/pets/{proxy+}'), route('GET', '/{kind}/dog/1')]);
    // Act / Assert
    expect(match('GET', '/pets/dog/1')?.route.path).toBe('/{kind}/dog/1');
    expect(
      restRouteMatcher([route('GET', '/pets/{proxy+}'), route('GET', '/{kind}/dog/1')])('GET', '/pets/dog/1')
        ?.route.path,
    ).toBe('/pets/{proxy+}');
  });

  it.each([
    ['/v1/{name}:predict', /span whole segments/],
    ['/files/{proxy+}/x', /greedy parameter must be the last segment/],
  ])('refuses the path %s, which API Gateway would not deploy', (path, message) => {
    expect(() => restRouteMatcher([route('POST', path)])).toThrow(TemplateError);
    expect(() => httpRouteMatcher([route('POST', path)])).toThrow(message);
  });

  // The matcher the gateway used before the trie: a scan of every route, ranked segment by segment.
  // The trie must route every request as it did (which route, which parameters).
  const scan = (routes: readonly { method: string; path: string }[], httpApi: boolean) => {
    const segs = (p: string) => p.split('/').filter(Boolean);
    const kind = (s: string) => (/^\{.+\+\}$/.test(s) ? 0 : /^\{.+\}$/.test(s) ? 1 : 2);
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const bind = (want: string[], got: string[]) => {
      const params: Record<string, string> = {};
      for (const [i, w] of want.entries()) {
        if (kind(w) === 0) {
          if (i >= got.length) return undefined;
          params[w.slice(1, -2)] = got.slice(i).join('/');
          return params;
        }
        const g = got[i];
        if (g === undefined) return undefined;
        if (kind(w) === 1) params[w.slice(1, -1)] = g;
        else if (w !== g && w !== decode(g)) return undefined;
      }
      return got.length === want.length ? params : undefined;
    };
    const rank = (p: string) => segs(p).map(kind);
    const cmp = (a: number[], b: number[]) => {
      for (let i = 0; i < Math.max(a.length, b.length); i++)
        if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) - (b[i] ?? -1);
      return 0;
    };
    const greedy = (p: string) => rank(p).includes(0);
    return (method: string, path: string) => {
      let best: { r: { method: string; path: string }; params: Record<string, string> } | undefined;
      for (const r of routes) {
        if (r.method !== 'ANY' && r.method !== method) continue;
        const params = bind(segs(r.path), segs(path));
        if (params === undefined) continue;
        const order = best === undefined ? 1 : cmp(rank(r.path), rank(best.r.path));
        const better =
          best === undefined ||
          (httpApi && greedy(r.path) !== greedy(best.r.path)
            ? !greedy(r.path)
            : order > 0 || (order === 0 && r.method !== 'ANY' && best.r.method === 'ANY'));
        if (better) best = { r, params };
      }
      if (best === undefined) return undefined;
      const entries = Object.entries(best.params).map(([k, v]) => [k, httpApi ? decode(v) : v]);
      return `${best.r.method} ${best.r.path} ${JSON.stringify(entries.length === 0 ? null : Object.fromEntries(entries))}`;
    };
  };

  const literal = fc.constantFrom('pets', 'dog', 'cat', 'a b', '1');
  const template = fc
    .tuple(
      fc.array(fc.oneof(literal, fc.constantFrom('{id}', '{kind}', '{x}')), { minLength: 0, maxLength: 3 }),
      fc.boolean(),
    )
    .map(([s, greedy]) => `/${[...s, ...(greedy ? ['{proxy+}'] : [])].join('/')}`);
  const routesArb = fc.uniqueArray(
    fc.record({ method: fc.constantFrom('GET', 'POST', 'ANY'), path: template }),
    { minLength: 1, maxLength: 8, selector: (r) => `${r.method} ${r.path}` },
  );
  const requestSegment = fc.oneof(
    literal,
    fc.constantFrom('d%6Fg', 'a%20b', 'x%2Fy', '%E0%A4%A', 'other', ''),
  );
  const pathArb = fc.array(requestSegment, { maxLength: 5 }).map((s) => `/${s.join('/')}`);

  it.each([
    ['REST', restRouteMatcher, false],
    ['HTTP API', httpRouteMatcher, true],
  ] as const)('%s: routes every request as the scan of every route did', (_api, matcher, httpApi) => {
    fc.assert(
      fc.property(routesArb, fc.constantFrom('GET', 'POST', 'PUT'), pathArb, (routes, method, path) => {
        // Unique resource shapes, as API Gateway requires (two `{param}` names at one level refused).
        const shapes = new Set(routes.map((r) => `${r.method} ${r.path.replace(/\{[^}+]+\}/g, '{}')}`));
        fc.pre(shapes.size === routes.length);
        const found = matcher(routes)(method, path);
        const got =
          found === undefined
            ? undefined
            : `${found.route.method} ${found.route.path} ${JSON.stringify(found.pathParameters)}`;
        expect(got).toBe(scan(routes, httpApi)(method, path));
      }),
      { numRuns: 2000 },
    );
  });
});
