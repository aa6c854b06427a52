import { describe, expect, it } from 'vitest';
import { httpRouteMatcher, restRouteMatcher } from '../../../tools/gateway/route-matcher.ts';

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
