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
