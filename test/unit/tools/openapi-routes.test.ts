import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RouteMatcher } from '../../../shared/routes/route-table.ts';
import { loadOpenApi, OpenApiError } from '../../../tools/openapi/document.ts';
import { routeTable } from '../../../tools/openapi/routes.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';
import { loadTemplate } from '../../../tools/template/template.ts';

function load(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-openapi-')), 'api.yaml');
  writeFileSync(file, text);
  return loadOpenApi(file);
}

const DOC = (version: string, extra = '') => `
openapi: ${version}
info: { title: t, version: '1' }
security:
  - oauth: [read]
components:
  securitySchemes:
    oauth: { type: oauth2, flows: { clientCredentials: { tokenUrl: 'https://x/token', scopes: { read: r, write: w, admin: a } } } }
    key: { type: apiKey, in: header, name: x-api-key }
paths:
  /items:
    get: { responses: { '200': { description: ok } } }
    post:
      security: [{ oauth: [write] }, { key: [write, admin] }, { oauth: [write] }]
      responses: { '200': { description: ok } }
  /items/{id}:
    delete:
      security: [{ oauth: [admin], key: [write] }]
      responses: { '200': { description: ok } }
  /ping:
    get: { security: [], responses: { '200': { description: ok } } }
  /maybe:
    get: { security: [{}, { oauth: [read] }], responses: { '200': { description: ok } } }
${extra}`;

describe('routeTable', () => {
  it.each(['3.0.3', '3.1.0'])('reads security requirements of an OpenAPI %s document', (version) => {
    const routes = routeTable(load(DOC(version)));
    expect(routes.map((r) => [`${r.method} ${r.path}`, r.scopeAlternatives])).toEqual([
      ['GET /items', [['read']]],
      ['POST /items', [['write'], ['admin', 'write']]],
      ['DELETE /items/{id}', [['admin', 'write']]],
      ['GET /ping', null],
      ['GET /maybe', null],
    ]);
  });

  it('refuses a requirement naming an undeclared scheme', () => {
    const doc = load(DOC('3.1.0').replace('[{ oauth: [admin], key: [write] }]', '[{ nope: [x] }]'));
    expect(() => routeTable(doc)).toThrow(/unknown security scheme "nope"/);
  });

  it('reads multi-segment parameters ({name+}, or x-gatehouse-greedy) and :verb segments', () => {
    const doc = load(
      DOC(
        '3.1.0',
        `  /repos/{owner}/{repo}/contents/{path}:
    parameters:
      - { name: owner, in: path, required: true, schema: { type: string } }
      - { name: repo, in: path, required: true, schema: { type: string } }
      - { name: path, in: path, required: true, schema: { type: string }, x-gatehouse-greedy: true }
    get: { responses: { '200': { description: ok } } }
  /files/{proxy+}:
    get:
      parameters: [{ name: proxy, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok } }
  /v1/{name}:predict:
    post: { responses: { '200': { description: ok } } }
`,
      ),
    );
    const routes = routeTable(doc).slice(5);
    expect(routes.map((r) => [`${r.method} ${r.path}`, r.greedy ?? false])).toEqual([
      ['GET /repos/{owner}/{repo}/contents/{path}', true],
      ['GET /files/{proxy}', true],
      ['POST /v1/{name}:predict', false],
    ]);
    const matcher = new RouteMatcher(routes);
    const found = matcher.lookup('GET', '/repos/o/r/contents/docs/README.md');
    expect(found.kind === 'found' && found.match.params).toEqual({
      owner: 'o',
      repo: 'r',
      path: 'docs/README.md',
    });
    expect(matcher.byTemplate('GET', '/files/{proxy+}')?.path).toBe('/files/{proxy}');
  });

  it('refuses x-gatehouse-greedy on a parameter that is not the whole last segment', () => {
    const doc = load(
      DOC(
        '3.1.0',
        `  /a/{x}/b:
    get:
      parameters: [{ name: x, in: path, required: true, schema: { type: string }, x-gatehouse-greedy: true }]
      responses: { '200': { description: ok } }
`,
      ),
    );
    expect(() => routeTable(doc)).toThrow(/"x" has x-gatehouse-greedy but is not the whole last segment/);
  });

  it('refuses a document that is not OpenAPI 3.0 or 3.1', () => {
    expect(() => load('swagger: "2.0"\npaths: {}\n')).toThrow(OpenApiError);
  });
});

/** A document with one tenant-scoped operation whose `tenantId` parameter is `param` (YAML flow). */
const BOUND = (param: string, security = '[{ oauth: [read] }]') =>
  load(`
openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    oauth: { type: oauth2, flows: { clientCredentials: { tokenUrl: 'https://x/token', scopes: { read: r } } } }
    sigv4: { type: apiKey, in: header, name: Authorization, x-amazon-apigateway-authtype: awsSigv4 }
paths:
  /tenants/{tenantId}/orders:
    get:
      security: ${security}
      parameters: [${param}]
      responses: { '200': { description: ok } }
`);

describe('routeTable: x-gatehouse-bind (docs/tenant-binding.md)', () => {
  const schema = "schema: { type: string, pattern: '^[a-z0-9-]{3,32}$', maxLength: 32 }";

  it('binds a path parameter to a claim and a credential attribute, with its schema', () => {
    const doc = BOUND(
      `{ name: tenantId, in: path, required: true, ${schema}, x-gatehouse-bind: { claim: 'custom:tenant_id', credential: tenant } }`,
    );
    expect(routeTable(doc)[0]?.bindings).toEqual([
      {
        param: 'tenantId',
        claim: 'custom:tenant_id',
        credential: 'tenant',
        pattern: '^[a-z0-9-]{3,32}$',
        maxLength: 32,
      },
    ]);
  });

  it('takes an enum as the bound: its longest value is the longest a policy writes', () => {
    const doc = BOUND(
      '{ name: tenantId, in: path, required: true, schema: { type: string, enum: [acme, globex] }, x-gatehouse-bind: { claim: org } }',
    );
    expect(routeTable(doc)[0]?.bindings).toEqual([
      { param: 'tenantId', claim: 'org', enum: ['acme', 'globex'], maxLength: 6 },
    ]);
  });

  it.each([
    [
      'schema: { type: string, maxLength: 32 }, x-gatehouse-bind: { claim: t }',
      'needs a pattern (with maxLength) or an enum',
    ],
    [
      "schema: { type: string, pattern: '^[a-z]+$' }, x-gatehouse-bind: { claim: t }",
      'its pattern needs a maxLength',
    ],
    ['schema: { type: integer }, x-gatehouse-bind: { claim: t }', 'must be type: string'],
    [
      `${schema.replace('maxLength: 32', 'maxLength: 32, format: uuid')}, x-gatehouse-bind: { claim: t }`,
      'uses "format"',
    ],
    [`${schema}, x-gatehouse-bind: {}`, 'names neither a claim nor a credential attribute'],
    [`${schema}, x-gatehouse-bind: { claim: '' }`, '"claim" must be a non-empty string'],
    [`${schema}, x-gatehouse-bind: { credential: clientId }`, '"credential" must be one of tenant'],
    [`${schema}, x-gatehouse-bind: { claim: t, header: x }`, 'unknown field "header"'],
    [`${schema}, x-gatehouse-bind: tenant`, 'must be an object'],
  ])('refuses %s, naming the parameter and the route: %s', (rest, why) => {
    const doc = BOUND(`{ name: tenantId, in: path, required: true, ${rest} }`);
    expect(() => routeTable(doc)).toThrow(OpenApiError);
    expect(() => routeTable(doc)).toThrow(
      `(/tenants/{tenantId}/orders): x-gatehouse-bind on parameter "tenantId": `,
    );
    expect(() => routeTable(doc)).toThrow(why);
  });

  it('refuses a binding on a query parameter, and on a public route', () => {
    const query = BOUND(
      `{ name: tenantId, in: path, required: true, ${schema} }, { name: t, in: query, ${schema}, x-gatehouse-bind: { claim: t } }`,
    );
    expect(() => routeTable(query)).toThrow('only path parameters can be bound');
    const open = BOUND(
      `{ name: tenantId, in: path, required: true, ${schema}, x-gatehouse-bind: { claim: t } }`,
      '[]',
    );
    expect(() => routeTable(open)).toThrow('a route with bound path parameters needs security');
  });
});

describe('routeTable: AWS_IAM routes (x-amazon-apigateway-authtype: awsSigv4)', () => {
  const param = '{ name: tenantId, in: path, required: true, schema: { type: string, maxLength: 8 } }';

  it('marks the route AWS_IAM: not public, and no scope ever permits it', () => {
    const [route] = routeTable(BOUND(param, '[{ sigv4: [] }]'));
    expect(route).toMatchObject({ scopeAlternatives: [], iam: true });
  });

  it.each([
    ['[{ sigv4: [] }, { oauth: [read] }]', "must be the operation's only one"],
    ['[{ sigv4: [], oauth: [read] }]', "must be the operation's only one"],
    ['[{ sigv4: [x] }]', 'takes no scopes'],
  ])('refuses %s', (security, why) => {
    expect(() => routeTable(BOUND(param, security))).toThrow(why);
  });

  it('refuses another API Gateway authtype on a scheme (custom authorizers come from template.yaml)', () => {
    const doc = BOUND(param, '[{ sigv4: [] }]');
    const schemes = (doc.components?.securitySchemes ?? {}) as Record<string, Record<string, unknown>>;
    (schemes.sigv4 as Record<string, unknown>)['x-amazon-apigateway-authtype'] = 'custom';
    expect(() => routeTable(doc)).toThrow('supported as awsSigv4 on an apiKey scheme only');
  });
});

describe('the template ValidationExpression for the JWT authorizer', () => {
  const template = loadTemplate(resolve(PROJECT_ROOT, 'template.yaml'));
  const api = template.Resources.OrdersApi?.Properties as {
    Auth: { Authorizers: { JwtAuthorizer: { Identity: { ValidationExpression: string } } } };
  };
  const expression = new RegExp(api.Auth.Authorizers.JwtAuthorizer.Identity.ValidationExpression);

  it.each([['Bearer aaa.bbb.ccc'], ['bearer aaa.bbb.ccc'], ['BEARER a-b_c.d.']])(
    'lets %s through to the Lambda',
    (value) => {
      expect(expression.test(value)).toBe(true);
    },
  );

  it.each([
    ['Basic dXNlcjpwYXNz'],
    ['Bearer'],
    ['Bearer abc'],
    ['aaa.bbb.ccc'],
    ['Bearer a.b.c, Bearer d.e.f'],
    ['Bearer a.b.c\n'],
  ])('rejects %j before the Lambda runs', (value) => {
    expect(expression.test(value)).toBe(false);
  });
});
