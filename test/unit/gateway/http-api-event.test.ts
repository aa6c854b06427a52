import { describe, expect, it } from 'vitest';
import { resultV2 } from '../../../tools/gateway/http-api-event.ts';

describe('resultV2', () => {
  it.each([
    ['a string', 'hello', 'hello'],
    ['an object without statusCode', { a: 1 }, '{"a":1}'],
    ['an array', [1, 2], '[1,2]'],
  ])('infers 200 application/json from %s', (_name, result, body) => {
    // Act
    const reply = resultV2(result);

    // Assert
    expect(reply?.status).toBe(200);
    expect(reply?.headers.get('content-type')).toEqual(['application/json']);
    expect(reply?.body.toString()).toBe(body);
  });

  it('maps statusCode, lower-cased headers, cookies and a base64 body', () => {
    // Act
    const reply = resultV2({
      statusCode: 201,
      headers: { 'Content-Type': 'image/png', 'X-A': 1 },
      cookies: ['a=1', 'b=2'],
      body: Buffer.from('png').toString('base64'),
      isBase64Encoded: true,
    });

    // Assert
    expect(reply?.status).toBe(201);
    expect(reply?.headers.get('x-a')).toEqual(['1']);
    expect(reply?.headers.get('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(reply?.body.toString()).toBe('png');
  });

  it.each([
    ['a status out of range', { statusCode: 99 }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['cookies that are not strings', { statusCode: 200, cookies: [1] }],
    ['a header object value', { statusCode: 200, headers: { a: { b: 1 } } }],
  ])('calls a result with %s malformed (500)', (_name, value) => {
    // Act / Assert
    expect(resultV2(value)).toBeUndefined();
  });
});
