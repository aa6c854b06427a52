import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodePathForUri,
  htuMatches,
  normalizeHttpUri,
  type PublicUrlRule,
  publicRequestUrl,
  publicUrlRuleProblems,
} from '../../../shared/dpop/htu.ts';

describe('htu normalisation (RFC 3986 §6.2.2, §6.2.3)', () => {
  it.each([
    ['HTTPS://API.Example.COM/a', 'https://api.example.com/a'],
    ['https://api.example.com:443/a', 'https://api.example.com/a'],
    ['http://api.example.com:80/a', 'http://api.example.com/a'],
    ['https://api.example.com', 'https://api.example.com/'],
    ['https://api.example.com/%7euser/%41', 'https://api.example.com/~user/A'],
    ['https://api.example.com/a%2fb', 'https://api.example.com/a%2Fb'],
    ['https://api.example.com/a/./b/../c', 'https://api.example.com/a/c'],
    ['https://api.example.com/a?q=1#f', 'https://api.example.com/a'],
    ['https://[::FFFF:1]:8443/x', 'https://[::ffff:1]:8443/x'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeHttpUri(input)).toBe(expected);
  });

  it.each([
    '',
    '/relative',
    'api.example.com/a',
    'mailto:alice@example.com',
    'https://alice:pw@api.example.com/a',
    'https:/api.example.com',
    'https://api.example.com/a b',
    'https://api.example.com/é',
    'https://api.example.com/%zz',
    'https://api.example.com:99999/',
    'https://xn--0.example/',
    `https://api.example.com/${'a'.repeat(2048)}`,
  ])('refuses %j', (input) => {
    expect(normalizeHttpUri(input)).toBeUndefined();
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.string({ unit: 'binary' })), (value) => {
        const out = normalizeHttpUri(value);
        expect(out === undefined || typeof out === 'string').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  /** A URL, and spellings of it that RFC 3986 says are the same resource. */
  const segment = fc.stringMatching(/^[A-Za-z0-9\-._~]{1,8}$/).filter((s) => s !== '.' && s !== '..');
  const url = fc.record({
    // `xn--` labels are punycode (IDNA A-labels): most random ones are invalid and refused (tested below).
    host: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}$/).filter((h) => !/(^|\.)xn--/.test(h)),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    segments: fc.array(segment, { maxLength: 5 }),
  });
  const render = (u: { host: string; port: number | undefined; segments: string[] }) =>
    `https://${u.host}${u.port === undefined ? '' : `:${u.port}`}/${u.segments.join('/')}`;

  it('matches every equivalent spelling: case, default port, percent-encoded unreserved characters', () => {
    fc.assert(
      fc.property(url, fc.boolean(), fc.boolean(), fc.nat(), (u, upper, explicitPort, pick) => {
        const canonical = render(u);
        const host = upper ? u.host.toUpperCase() : u.host;
        const port = u.port === undefined ? (explicitPort ? ':443' : '') : `:${u.port}`;
        // Percent-encode one character of the path, in upper or lower case hex.
        const path = `/${u.segments.join('/')}`;
        const i = path.length > 1 ? 1 + (pick % (path.length - 1)) : -1;
        const encoded =
          // `.` stays out: an encoded dot is kept encoded (see the test below), never decoded into a dot segment.
          i < 0 || path[i] === '/' || path[i] === '.'
            ? path
            : `${path.slice(0, i)}%${(path.charCodeAt(i) as number).toString(16)[upper ? 'toUpperCase' : 'toLowerCase']()}${path.slice(i + 1)}`;
        const variant = `${upper ? 'HTTPS' : 'https'}://${host}${port}${encoded}`;
        expect(htuMatches(variant, canonical)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an encoded dot encoded, so it never turns into a dot segment (stricter than RFC 3986, refused)', () => {
    expect(normalizeHttpUri('https://api.example.com/a/%2e%2e/b')).toBe('https://api.example.com/a/%2E%2E/b');
    expect(htuMatches('https://api.example.com/a/%2e%2e/b', 'https://api.example.com/b')).toBe(false);
  });

  it('never matches two URLs whose normalised paths differ', () => {
    fc.assert(
      fc.property(url, fc.array(segment, { maxLength: 5 }), (u, other) => {
        fc.pre(other.join('/') !== u.segments.join('/'));
        expect(htuMatches(render(u), render({ ...u, segments: other }))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never matches another host or another port', () => {
    fc.assert(
      fc.property(url, url, (a, b) => {
        fc.pre(a.host !== b.host || (a.port ?? 443) !== (b.port ?? 443));
        expect(htuMatches(render(a), render({ ...b, segments: a.segments }))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('public URL of a request', () => {
  const rules: PublicUrlRule[] = [
    { domainName: 'api.example.com', eventPathPrefix: '', publicBaseUrl: 'https://api.example.com' },
    {
      domainName: 'api.example.com',
      eventPathPrefix: '/orders',
      publicBaseUrl: 'https://api.example.com/orders',
    },
    {
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      stage: 'v1',
      eventPathPrefix: '',
      publicBaseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1',
    },
    {
      domainName: 'xyz789.execute-api.eu-west-1.amazonaws.com',
      eventPathPrefix: '',
      publicBaseUrl: 'https://www.example.com/api/',
    },
  ];

  it.each([
    [{ domainName: 'api.example.com', stage: 'v1', path: '/orders/42' }, 'https://api.example.com/orders/42'],
    [{ domainName: 'API.EXAMPLE.COM', stage: 'v1', path: '/health' }, 'https://api.example.com/health'],
    [
      { domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', stage: 'v1', path: '/orders/42' },
      'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/orders/42',
    ],
    [
      { domainName: 'xyz789.execute-api.eu-west-1.amazonaws.com', stage: 'prod', path: '/orders' },
      'https://www.example.com/api/orders',
    ],
    [
      { domainName: 'api.example.com', stage: 'v1', path: '/orders/a b' },
      'https://api.example.com/orders/a%20b',
    ],
  ])('maps %j to %s', (at, expected) => {
    expect(publicRequestUrl(rules, at)).toBe(expected);
  });

  it.each([
    [{ domainName: 'evil.example.com', stage: 'v1', path: '/orders' }],
    [{ domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', stage: 'v2', path: '/orders' }],
    [{ domainName: undefined, stage: 'v1', path: '/orders' }],
    [{ domainName: 'api.example.com', stage: 'v1', path: 'orders' }],
  ])('maps nothing for %j', (at) => {
    expect(publicRequestUrl(rules, at)).toBeUndefined();
  });

  it('matches a path prefix only at a segment boundary', () => {
    const only = [
      {
        domainName: 'api.example.com',
        eventPathPrefix: '/orders',
        publicBaseUrl: 'https://api.example.com/o',
      },
    ];
    expect(
      publicRequestUrl(only, { domainName: 'api.example.com', stage: 'v1', path: '/ordersX' }),
    ).toBeUndefined();
    expect(publicRequestUrl(only, { domainName: 'api.example.com', stage: 'v1', path: '/orders' })).toBe(
      'https://api.example.com/o',
    );
  });

  it('reports unusable rules, one problem per field', () => {
    const problems = publicUrlRuleProblems([
      {
        domainName: 'api.example.com/x',
        eventPathPrefix: 'orders/',
        publicBaseUrl: 'https://a.example.com/?q',
      },
      { domainName: 'ok.example.com', stage: '', eventPathPrefix: '', publicBaseUrl: 'ftp://x' },
    ]);
    expect(problems).toEqual([
      '[0].domainName must be a host name',
      "[0].eventPathPrefix must be '' or /segment[/segment...] without a trailing slash",
      '[0].publicBaseUrl must be an absolute http(s) URL without query or fragment',
      '[1].stage must be a non-empty string when given',
      '[1].publicBaseUrl must be an absolute http(s) URL without query or fragment',
    ]);
    expect(publicUrlRuleProblems(rules)).toEqual([]);
  });

  it('encodes what cannot stand in a path and keeps existing encodings', () => {
    expect(encodePathForUri('/a b/%2F/é?#')).toBe('/a%20b/%2F/%C3%A9%3F%23');
    expect(encodePathForUri('/\ud800')).toBeUndefined();
  });
});
