/**
 * What the forwarder sends upstream (shared/validation/upstream-body.ts): the validated body written
 * one way, so that the backend, reading it as the validator did, reads the validated value.
 */
import { describe, expect, it } from 'vitest';
import { parseFormPairs } from '../../../shared/validation/form.ts';
import { isValidBoundary, type MultipartPart, parseMultipart } from '../../../shared/validation/multipart.ts';
import { upstreamBody, upstreamQuery } from '../../../shared/validation/upstream-body.ts';
import { multipartBody, reasonOf, validateReaders } from '../../support/readers.ts';

const part = (
  name: string,
  bytes: string | Buffer,
  filename?: string,
  contentType?: string,
): MultipartPart => ({
  name,
  filename,
  contentType,
  bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes,
});

describe('upstreamBody', () => {
  it('writes JSON again from the validated value, keeping the media type', () => {
    // Act
    const out = upstreamBody({
      kind: 'json',
      mediaType: 'application/merge-patch+json',
      value: { a: [1, 'é'] },
    });
    // Assert
    expect(out).toEqual({ contentType: 'application/merge-patch+json', content: '{"a":[1,"é"]}' });
  });

  it('writes a form from the validated pairs, in order, each name and value percent-encoded', () => {
    // Arrange
    const pairs = [
      ['a b', 'c+d'],
      ['é', '&='],
      ['tags[]', 'x'],
      ['a b', ''],
    ] as const;
    // Act
    const out = upstreamBody({
      kind: 'form',
      mediaType: 'application/x-www-form-urlencoded',
      pairs,
      value: {},
    });
    // Assert
    expect(out).toEqual({
      contentType: 'application/x-www-form-urlencoded',
      content: 'a%20b=c%2Bd&%C3%A9=%26%3D&tags%5B%5D=x&a%20b=',
    });
    expect(parseFormPairs(out.content as string)).toEqual(pairs);
  });

  it('writes multipart parts again with a new boundary and only the headers read', () => {
    // Arrange
    const parts = [
      part('title', 'Hi'),
      part('file', Buffer.from([0x89, 0x00, 0xff, 0x0d, 0x0a]), 'a.png', 'image/png'),
      part('empty', '', ''),
    ];
    // Act
    const out = upstreamBody(
      { kind: 'multipart', mediaType: 'multipart/form-data', parts, value: {} },
      () => 'B0',
    );
    // Assert
    expect(out.contentType).toBe('multipart/form-data; boundary=B0');
    expect(Buffer.from(out.content).toString('latin1')).toBe(
      [
        '--B0\r\nContent-Disposition: form-data; name="title"\r\n\r\nHi\r\n',
        '--B0\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89\x00\xff\r\n\r\n',
        '--B0\r\nContent-Disposition: form-data; name="empty"; filename=""\r\n\r\n\r\n',
        '--B0--\r\n',
      ].join(''),
    );
    expect(parseMultipart(Buffer.from(out.content), 'B0')).toEqual(parts);
  });

  it('writes part names and filenames exactly as read, so the backend reads the same names', () => {
    // Arrange: what a browser sends for a name holding a quote is `%22`, which parsers keep as is.
    const parts = [part('a%22b', 'v'), part('é t;=x', 'w', "100% 'sure'.txt", 'text/plain; charset=utf-8')];
    // Act
    const out = upstreamBody(
      { kind: 'multipart', mediaType: 'multipart/form-data', parts, value: {} },
      () => 'B0',
    );
    // Assert
    expect(Buffer.from(out.content).toString()).toContain('Content-Disposition: form-data; name="a%22b"\r\n');
    expect(parseMultipart(Buffer.from(out.content), 'B0')).toEqual(parts);
  });

  it('draws a fresh, valid boundary for every multipart body by default', () => {
    const body = {
      kind: 'multipart',
      mediaType: 'multipart/form-data',
      parts: [part('a', 'v')],
      value: {},
    } as const;
    const [first, second] = [upstreamBody(body), upstreamBody(body)];
    const boundaryOf = (contentType: string) => /boundary=(.*)$/.exec(contentType)?.[1] ?? '';
    expect(boundaryOf(first.contentType)).toMatch(/^gatehouse-[0-9a-f]{32}$/);
    expect(isValidBoundary(boundaryOf(first.contentType))).toBe(true);
    expect(boundaryOf(second.contentType)).not.toBe(boundaryOf(first.contentType));
  });

  it('passes other media types on as the bytes and Content-Type received', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const out = upstreamBody({
      kind: 'opaque',
      mediaType: 'text/plain',
      contentType: 'text/plain; charset=latin1',
      bytes,
    });
    expect(out).toEqual({ contentType: 'text/plain; charset=latin1', content: bytes });
  });
});

describe('what a validated request forwards', () => {
  it('forwards a form as its validated pairs: "+" and "%20" both become "%20", "%2B" stays a plus', () => {
    // Act
    const outcome = validateReaders('POST', '/forms', {
      body: 'name=a+b%20c%2Bd&tags=x&tags[]=y',
      contentType: 'application/x-www-form-urlencoded',
    });
    // Assert
    expect(outcome.ok && outcome.request.body !== undefined && upstreamBody(outcome.request.body)).toEqual({
      contentType: 'application/x-www-form-urlencoded',
      content: 'name=a%20b%20c%2Bd&tags=x&tags%5B%5D=y',
    });
  });

  it('forwards multipart without the headers and parameters it did not read', () => {
    // Arrange
    const body = multipartBody('xx', [
      'Content-Disposition: form-data; name="title"; size=5\r\nContent-Transfer-Encoding: 8bit\r\nX-Extra: 1\r\n\r\nHello',
      'Content-Disposition: form-data; name=file; filename=a.bin\r\nContent-Type: application/octet-stream\r\n\r\n\xff',
    ]);
    // Act
    const outcome = validateReaders('POST', '/uploads', {
      body,
      contentType: 'multipart/form-data; boundary=xx',
    });
    const out =
      outcome.ok && outcome.request.body !== undefined
        ? upstreamBody(outcome.request.body, () => 'B1')
        : undefined;
    // Assert
    expect(Buffer.from(out?.content ?? '').toString('latin1')).toBe(
      [
        '--B1\r\nContent-Disposition: form-data; name="title"\r\n\r\nHello\r\n',
        '--B1\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n\xff\r\n',
        '--B1--\r\n',
      ].join(''),
    );
  });
});

describe('JSON numbers the backend would read as another value', () => {
  it.each([
    ['a number over the double range', '{"a":1e400}'],
    ['a negative one', '{"a":[-2e308]}'],
    ['one written with 309 digits', `{"a":${'9'.repeat(309)}}`],
    ['one under a key the request chose', '{"x":{"<k>":1.5E+999}}'],
  ])('refuses %s: JSON.stringify would forward it as null', (_name, body) => {
    // Act
    const outcome = validateReaders('POST', '/json', { body, contentType: 'application/json' });
    // Assert
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problem.reason).toBe('body_invalid');
    expect(outcome.problem.errors).toEqual([
      { pointer: '', keyword: 'type', message: 'numbers must be finite (within ±1.7976931348623157e308)' },
    ]);
  });

  it('looks through a 300,000-item array for one', () => {
    const body = `{"a":[${'1,'.repeat(300_000)}1e400]}`;
    const outcome = validateReaders('POST', '/json', { body, contentType: 'application/json' }, '3.1.0', {
      maxBytes: 1_048_576,
      maxDepth: 32,
    });
    expect(reasonOf(outcome)).toBe('body_invalid');
  });

  it.each([
    ['the largest double', '{"a":1.7976931348623157e308}', { a: 1.7976931348623157e308 }],
    ['an exponent that underflows to 0', '{"a":1e-400}', { a: 0 }],
    ['a 309-digit string', `{"a":"${'9'.repeat(309)}","e":"1e999"}`, { a: '9'.repeat(309), e: '1e999' }],
  ])('forwards %s as the validated value', (_name, body, value) => {
    const outcome = validateReaders('POST', '/json', { body, contentType: 'application/json' });
    const forwarded =
      outcome.ok && outcome.request.body !== undefined ? upstreamBody(outcome.request.body) : undefined;
    expect(JSON.parse(String(forwarded?.content))).toEqual(value);
  });
});

describe('upstreamQuery', () => {
  it('gives every received name with its values as received, in order, each written again', () => {
    // Arrange
    const raw = new Map([
      ['b', ['2', '1']],
      ['a[x]', ['a b']],
      ['__proto__', ['x']],
    ]);
    // Act
    const out = upstreamQuery(raw);
    // Assert
    expect(out.specs).toEqual([
      { name: 'b', array: 'explode' },
      { name: 'a[x]', array: 'explode' },
      { name: '__proto__', array: 'explode' },
    ]);
    expect(Object.entries(out.values)).toEqual([
      ['b', ['2', '1']],
      ['a[x]', ['a b']],
      ['__proto__', ['x']],
    ]);
    expect(Object.getPrototypeOf(out.values)).toBe(Object.prototype);
  });
});
