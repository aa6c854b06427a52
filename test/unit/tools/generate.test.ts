import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../../tools/generate.ts';
import { BundledJwksError } from '../../../tools/jwt/bundled-jwks.ts';
import { OpenApiError } from '../../../tools/openapi/document.ts';
import { readDocumentSettings, SettingsError } from '../../../tools/openapi/settings.ts';

/** A project folder with a package.json `gatehouse` field and a document. */
function project(gatehouse: unknown, document: string, name = 'api.yaml'): string {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-generate-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'x', gatehouse }));
  writeFileSync(join(root, name), document);
  return root;
}

const DOC = (extra = '') => `
openapi: 3.1.0
info: { title: t, version: '1' }
security: [{ key: [] }]
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: x-api-key }
paths:
  /a:
    get: { operationId: getA, responses: { '200': { description: ok } } }
${extra}`;

const B = `
  /b:
    post:
      operationId: postB
      requestBody:
        content:
          application/json:
            schema: { type: string, pattern: '^b+$' }
      responses: { '200': { description: ok } }`;

const silent = () => {};
const modules = (root: string) => readdirSync(join(root, 'shared/generated/validators')).sort();

describe('the document setting', () => {
  it('reads package.json "gatehouse" and lets a command override it', () => {
    // Arrange
    const root = project({ openapi: 'api.yaml', publicApi: true }, DOC());
    // Act
    const settings = readDocumentSettings(root, { openapi: 'other.yaml', strictSchemas: undefined });
    // Assert
    expect(settings).toEqual({
      openapi: 'other.yaml',
      publicApi: true,
      strictSchemas: false,
      responseValidators: false,
    });
  });

  it.each([
    [{ openapi: 3 }, /"gatehouse.openapi" must be a non-empty string/],
    [{ publicAPI: true }, /"gatehouse.publicAPI" is not a setting/],
    ['api.yaml', /"gatehouse" must be an object/],
  ])('refuses the field %j naming it', (field, message) => {
    expect(() => readDocumentSettings(project(field, DOC()))).toThrow(SettingsError);
    expect(() => readDocumentSettings(project(field, DOC()))).toThrow(message);
  });
});

describe('generate', () => {
  it('writes the route table, the registry and one module per operation', async () => {
    // Arrange
    const root = project({ openapi: 'api.yaml' }, DOC(B));
    // Act
    const written = await generate({ root, check: false, log: silent });
    // Assert
    expect(written).toContain('shared/generated/routes.ts');
    expect(modules(root)).toEqual([
      '0000-getA.validator.cjs',
      '0001-postB.validator.cjs',
      'index.cjs',
      'index.d.cts',
    ]);
    expect(await generate({ root, check: true, log: silent })).toEqual([]);
  });

  it('removes the modules of operations no longer in the document', async () => {
    const root = project({ openapi: 'api.yaml' }, DOC(B));
    await generate({ root, check: false, log: silent });
    writeFileSync(join(root, 'api.yaml'), DOC());
    expect(await generate({ root, check: true, log: silent })).toContain(
      'shared/generated/validators/0001-postB.validator.cjs',
    );
    await generate({ root, check: false, log: silent });
    expect(modules(root)).toEqual(['0000-getA.validator.cjs', 'index.cjs', 'index.d.cts']);
  });

  it('leaves every committed file as it was when a run fails', async () => {
    // Arrange
    const root = project({ openapi: 'api.yaml' }, DOC(B));
    await generate({ root, check: false, log: silent });
    const before = readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8');
    const broken = `${B.replace('/b:', '/c:').replace('postB', 'postC')}\n      security: []\n${B.replace("{ type: string, pattern: '^b+$' }", "{ $dynamicRef: '#x' }")}`;
    writeFileSync(join(root, 'api.yaml'), DOC(broken));
    // Act / Assert
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(OpenApiError);
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toBe(before);
    expect(modules(root)).toEqual([
      '0000-getA.validator.cjs',
      '0001-postB.validator.cjs',
      'index.cjs',
      'index.d.cts',
    ]);
    expect(readdirSync(join(root, 'shared/generated')).some((f) => f.startsWith('.staging'))).toBe(false);
  });

  it('writes the cache mode and the policy plan beside the routes, staged and checked with them', async () => {
    // Arrange: /o/{id} and /o/{id}/notes with different scopes cannot share one whole-API policy.
    const notes = `
  /o/{id}:
    get: { operationId: getO, security: [{ key: [] }], responses: { '200': { description: ok } } }
  /o/{id}/notes:
    get: { operationId: getNotes, security: [{ key: [notes] }], responses: { '200': { description: ok } } }`;
    const root = project({ openapi: 'api.yaml' }, DOC());
    await generate({ root, check: false, log: silent });
    const file = join(root, 'shared/generated/routes.ts');
    expect(readFileSync(file, 'utf8')).toContain('export const CACHE_MODE: CacheMode = "api";');
    // Act
    writeFileSync(join(root, 'api.yaml'), DOC(notes));
    const stale = await generate({ root, check: true, log: silent });
    await generate({ root, check: false, log: silent });
    // Assert
    expect(stale).toContain('shared/generated/routes.ts');
    expect(readFileSync(file, 'utf8')).toContain('export const CACHE_MODE: CacheMode = "route";');
    expect(readFileSync(file, 'utf8')).toContain('"mode": "route"');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"mode": "route"', '"mode": "api"'));
    expect(await generate({ root, check: true, log: silent })).toEqual(['shared/generated/routes.ts']);
  });

  it('refuses a path template that cannot be routed and leaves every file as it was', async () => {
    // Arrange
    const root = project({ openapi: 'api.yaml' }, DOC());
    await generate({ root, check: false, log: silent });
    const before = readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8');
    writeFileSync(
      join(root, 'api.yaml'),
      DOC(`
  /x/{a}{b}:
    get: { operationId: getX, responses: { '200': { description: ok } } }`),
    );
    // Act / Assert
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(OpenApiError);
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(
      /getX: \/x\/\{a\}\{b\}: two parameters must be separated by literal text/,
    );
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toBe(before);
    expect(modules(root)).toEqual(['0000-getA.validator.cjs', 'index.cjs', 'index.d.cts']);
  });

  it('warns about schemas with their pointer, and fails with strict schemas', async () => {
    const root = project({ openapi: 'api.yaml' }, DOC(B));
    const lines: string[] = [];
    await generate({ root, check: false, log: (l) => lines.push(l) });
    expect(lines).toEqual([
      expect.stringMatching(
        /^generate: warning #\/paths\/~1b\/post\/requestBody\/content\/application~1json\/schema \(used by postB\): pattern_unbounded: /,
      ),
    ]);
    await expect(
      generate({ root, check: false, log: silent, settings: { strictSchemas: true } }),
    ).rejects.toThrow(/1 schema warning\(s\), errors with strict schemas/);
  });

  it('refuses a document without security unless the API is declared public, then says so', async () => {
    // Arrange
    const root = project({ openapi: 'api.yaml' }, DOC().replace('security: [{ key: [] }]', ''));
    // Act / Assert
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(
      /declares no security for 1 operation\(s\) \(GET \/a\): they would be public/,
    );
    expect(existsSync(join(root, 'shared/generated/routes.ts'))).toBe(false);
    const lines: string[] = [];
    await generate({ root, check: false, log: (l) => lines.push(l), settings: { publicApi: true } });
    expect(lines).toEqual([
      expect.stringContaining('WARNING api.yaml declares no security for 1 operation(s)'),
    ]);
  });

  it('gives a webhook-only document an empty route table', async () => {
    const root = project(
      { openapi: 'hooks.yaml' },
      'openapi: 3.1.0\ninfo: { title: t, version: "1" }\nwebhooks:\n  ping:\n    post: { responses: { "200": { description: ok } } }\n',
      'hooks.yaml',
    );
    await generate({ root, check: false, log: silent });
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toContain(
      'ROUTES: RouteTable = /* @__PURE__ */ registerPolicyPlan([], POLICY_PLAN);',
    );
    expect(modules(root)).toEqual(['index.cjs', 'index.d.cts']);
  });

  it('writes the bundled JWKS module with the other files', async () => {
    // Arrange
    const root = project({ openapi: 'api.yaml' }, DOC());
    mkdirSync(join(root, 'jwks'));
    writeFileSync(join(root, 'jwks/idp.json'), '{"keys":[]}');
    // Act
    const written = await generate({ root, check: false, log: silent });
    // Assert
    expect(written).toContain('shared/generated/jwks-files.ts');
    expect(readFileSync(join(root, 'shared/generated/jwks-files.ts'), 'utf8')).toContain('"jwks/idp.json"');
    writeFileSync(join(root, 'jwks/other.json'), '{"keys":[]}');
    expect(await generate({ root, check: true, log: silent })).toEqual(['shared/generated/jwks-files.ts']);
  });

  it('leaves every generated file as it was when a bundled JWKS file is refused', async () => {
    // Arrange: a first run, then a changed document and a broken JWKS file.
    const root = project({ openapi: 'api.yaml' }, DOC());
    mkdirSync(join(root, 'jwks'));
    writeFileSync(join(root, 'jwks/idp.json'), '{"keys":[]}');
    await generate({ root, check: false, log: silent });
    const routes = readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8');
    const jwks = readFileSync(join(root, 'shared/generated/jwks-files.ts'), 'utf8');
    writeFileSync(join(root, 'api.yaml'), DOC(B));
    writeFileSync(join(root, 'jwks/idp.json'), '{"keys":[],"keys":[]}');
    // Act / Assert
    await expect(generate({ root, check: false, log: silent })).rejects.toThrow(BundledJwksError);
    expect(readFileSync(join(root, 'shared/generated/routes.ts'), 'utf8')).toBe(routes);
    expect(readFileSync(join(root, 'shared/generated/jwks-files.ts'), 'utf8')).toBe(jwks);
    expect(modules(root)).toEqual(['0000-getA.validator.cjs', 'index.cjs', 'index.d.cts']);
  });
});
