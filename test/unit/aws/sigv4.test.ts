// Our SigV4 signer against the AWS Signature Version 4 test suite (every header-signing case, each
// intermediate text), and against the AWS SDK's own signer (@smithy/signature-v4) for random requests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../../shared/aws/sha256.ts';
import { type AwsCredentials, type SignableRequest, signV4 } from '../../../shared/aws/sigv4.ts';
import { PROJECT_ROOT } from '../../../tools/paths.ts';

const SUITE = join(PROJECT_ROOT, 'test/fixtures/aws-sigv4');

interface SuiteContext {
  readonly credentials: { access_key_id: string; secret_access_key: string; token?: string };
  readonly normalize: boolean;
  readonly region: string;
  readonly service: string;
  readonly sign_body: boolean;
  readonly timestamp: string;
  readonly omit_session_token?: boolean;
}

/**
 * A request.txt of the suite: request line, headers (a line starting with a space continues the
 * previous value; a repeated name adds a value, joined with commas as SigV4 wants), blank line, body.
 */
function parseRequest(text: string): SignableRequest {
  const [head = '', ...rest] = text.split('\n\n');
  const [requestLine = '', ...headerLines] = head.split('\n');
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' '));
  const [path = '', queryText] = target.split(/\?(.*)/s);
  const query: Record<string, string[]> = {};
  for (const pair of queryText === undefined || queryText === '' ? [] : queryText.split('&')) {
    const [name = '', value = ''] = pair.split(/=(.*)/s);
    const key = decodeURIComponent(name);
    query[key] = [...(query[key] ?? []), decodeURIComponent(value)];
  }
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of headerLines) {
    if (line === '') continue;
    if (/^\s/.test(line) && last !== undefined) {
      headers[last] += `\n${line}`;
      continue;
    }
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    const value = line.slice(line.indexOf(':') + 1);
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    last = name;
  }
  return { method, path, query, headers, body: rest.join('\n\n') };
}

const cases = readdirSync(SUITE, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('signV4 against the AWS SigV4 test suite', () => {
  it('has every case of the suite', () => {
    expect(cases.length).toBe(38);
  });

  it.each(cases)('%s', (name) => {
    // Arrange
    const file = (f: string) => readFileSync(join(SUITE, name, f), 'utf8');
    const context = JSON.parse(file('context.json')) as SuiteContext;
    const token = context.credentials.token;
    const credentials: AwsCredentials = {
      accessKeyId: context.credentials.access_key_id,
      secretAccessKey: context.credentials.secret_access_key,
      // `omit_session_token`: the token is added after signing, so it is not signed.
      ...(token === undefined || context.omit_session_token === true ? {} : { sessionToken: token }),
    };
    const authorization = /^Authorization:(.*)$/m.exec(file('header-signed-request.txt'))?.[1];

    // Act
    const signed = signV4(parseRequest(file('request.txt')), {
      service: context.service,
      region: context.region,
      credentials,
      date: new Date(context.timestamp),
      normalizePath: context.normalize,
      payloadHashHeader: context.sign_body,
    });

    // Assert
    expect(signed.canonicalRequest).toBe(file('header-canonical-request.txt'));
    expect(signed.stringToSign).toBe(file('header-string-to-sign.txt'));
    expect(signed.signature).toBe(file('header-signature.txt').trim());
    expect(signed.headers.authorization).toBe(authorization);
  });

  it('refuses a header named twice (in any case) rather than sign one of the two', () => {
    const request = { method: 'GET', path: '/', headers: { Host: 'a', host: 'b' }, body: '' };
    const options = {
      service: 's',
      region: 'r',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      date: new Date(0),
    };
    expect(() => signV4(request, options)).toThrow(TypeError);
  });
});

// Headers the SDK never signs (they may change on the way) or sets itself: the property compares
// what both sign, so the generated names avoid them.
const SDK_UNSIGNED =
  /^(authorization|cache-control|connection|expect|from|keep-alive|max-forwards|pragma|referer|te|trailer|transfer-encoding|upgrade|user-agent|x-amzn-trace-id|x-amz-date|date|x-amz-security-token|x-amz-content-sha256|proxy-.*|sec-.*)$/i;

const headerName = fc
  .string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_'.split('')),
    minLength: 1,
  })
  .filter((n) => !SDK_UNSIGNED.test(n));
const headerValue = fc.string({ unit: fc.constantFrom(...'aZ09 \t,;:="/-é'.split('')), maxLength: 24 });
const pathSegment = fc.oneof(
  fc.constantFrom('.', '..', '', 'a b', '%41', '~user', "it's(*)"),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const queryValue = fc.string({ unit: 'grapheme', maxLength: 8 });
const word = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')),
  minLength: 1,
});

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  path: fc.array(pathSegment, { maxLength: 5 }).map((segments) => `/${segments.join('/')}`),
  query: fc.dictionary(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
    fc.oneof(queryValue, fc.array(queryValue, { minLength: 1, maxLength: 3 })),
    { maxKeys: 4 },
  ),
  headers: fc.uniqueArray(fc.tuple(headerName, headerValue), {
    selector: ([name]) => name.toLowerCase(),
    maxLength: 6,
  }),
  body: fc.string({ unit: 'grapheme', maxLength: 64 }),
  service: word,
  region: word,
  credentials: fc.record(
    { accessKeyId: word, secretAccessKey: fc.string({ minLength: 1 }), sessionToken: word },
    { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
  ),
  // Whole seconds: x-amz-date has no fraction.
  date: fc.integer({ min: 946_684_800, max: 4_102_444_800 }).map((s) => new Date(s * 1000)),
  payloadHashHeader: fc.boolean(),
});

describe('signV4 against the AWS SDK signer (@smithy/signature-v4)', () => {
  it('signs every random request exactly as the SDK does', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Arrange
        const headers = Object.fromEntries([['host', 'example.amazonaws.com'], ...r.headers]);
        const sdk = new SignatureV4({
          service: r.service,
          region: r.region,
          credentials: r.credentials,
          sha256: Sha256,
          applyChecksum: r.payloadHashHeader,
        });

        // Act
        const ours = signV4(
          { method: r.method, path: r.path, query: r.query, headers, body: r.body },
          {
            service: r.service,
            region: r.region,
            credentials: r.credentials,
            date: r.date,
            payloadHashHeader: r.payloadHashHeader,
          },
        );
        const theirs = await sdk.sign(
          {
            method: r.method,
            protocol: 'https:',
            hostname: 'example.amazonaws.com',
            path: r.path,
            query: r.query,
            headers: { ...headers },
            body: r.body,
          },
          { signingDate: r.date },
        );

        // Assert
        expect(ours.headers.authorization).toBe(theirs.headers.authorization);
        expect(ours.headers['x-amz-date']).toBe(theirs.headers['x-amz-date']);
        expect(ours.headers['x-amz-security-token']).toBe(theirs.headers['x-amz-security-token']);
      }),
      { numRuns: 500 },
    );
  });
});
