import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyText, parseJsonBody } from '../../../shared/validation/body.ts';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('bodyText', () => {
  it.each([
    ['invalid base64 characters', 'eyJhIjoxfQ==!', 'body_invalid_base64'],
    ['base64 with a missing padding', 'eyJhIjoxfQ', 'body_invalid_base64'],
    ['base64 with non-zero padding bits (non-canonical)', 'eyJhIjoxfR==', 'body_invalid_base64'],
    ['base64url alphabet', 'eyJhIjoxfQ_-', 'body_invalid_base64'],
    ['invalid UTF-8 bytes', b64(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 'body_invalid_utf8'],
    ['an overlong UTF-8 encoding', b64(Buffer.from([0x22, 0xc0, 0xaf, 0x22])), 'body_invalid_utf8'],
    ['a UTF-8 byte-order mark', b64(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), 'body_bom'],
  ])('refuses %s when isBase64Encoded', (_name, body, reason) => {
    // Act
    const result = bodyText(body, true, 1024);
    // Assert
    expect(result).toEqual({ ok: false, reason });
  });

  it('refuses a text body starting with a BOM', () => {
    expect(bodyText('\ufeff{}', false, 1024)).toEqual({ ok: false, reason: 'body_bom' });
  });

  it('refuses a text body with a lone surrogate (cannot have been UTF-8)', () => {
    expect(bodyText('{"a":"\ud800"}', false, 1024)).toEqual({ ok: false, reason: 'body_invalid_utf8' });
  });

  it('measures the limit after base64 decoding', () => {
    // Arrange: 1000 bytes encode to 1336 characters.
    const body = b64('a'.repeat(1000));
    // Act / Assert
    expect(bodyText(body, true, 1000)).toEqual({ ok: true, text: 'a'.repeat(1000) });
    expect(bodyText(body, true, 999)).toEqual({ ok: false, reason: 'body_too_large' });
  });

  it('measures text bodies in UTF-8 bytes, not characters', () => {
    // 400 × "€" = 1200 bytes.
    expect(bodyText('€'.repeat(400), false, 1199)).toEqual({ ok: false, reason: 'body_too_large' });
    expect(bodyText('€'.repeat(400), false, 1200).ok).toBe(true);
  });

  it('refuses a huge base64 body before decoding it', () => {
    expect(bodyText('A'.repeat(4_000_000), true, 1024)).toEqual({ ok: false, reason: 'body_too_large' });
  });
});

describe('parseJsonBody', () => {
  it.each([
    ['trailing garbage', '{"a":1} x', 'json_invalid'],
    ['two values', '{}{}', 'json_invalid'],
    ['a duplicate key', '{"a":1,"a":2}', 'json_duplicate_key'],
    ['a duplicate key written with escapes', '{"a":1,"\\u0061":2}', 'json_duplicate_key'],
    ['__proto__ at depth', '{"x":[{"__proto__":{"admin":true}}]}', 'json_forbidden_key'],
    ['constructor', '{"constructor":{"prototype":{}}}', 'json_forbidden_key'],
    ['prototype', '{"prototype":1}', 'json_forbidden_key'],
    ['an escaped __proto__', '{"\\u005f_proto__":1}', 'json_forbidden_key'],
  ])('refuses %s', (_name, text, reason) => {
    expect(parseJsonBody(text, 32)).toEqual({ ok: false, reason });
  });

  it('refuses nesting deeper than the limit without recursion (100 000 levels)', () => {
    // Arrange
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    // Act / Assert
    expect(parseJsonBody(deep, 32)).toEqual({ ok: false, reason: 'json_too_deep' });
  });

  it('accepts nesting at exactly the limit', () => {
    expect(parseJsonBody(`${'['.repeat(32)}${']'.repeat(32)}`, 32).ok).toBe(true);
  });

  it('agrees with JSON.parse on any JSON text without forbidden or duplicate keys (escapes included)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        // Arrange: stringify never emits duplicate keys; prototype keys are refused by design.
        const text = JSON.stringify(value);
        fc.pre(!/"(?:__proto__|constructor|prototype)":/.test(text));
        // Act
        const parsed = parseJsonBody(text, 32);
        // Assert
        expect(parsed).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 300 },
    );
  });

  it('finds a duplicate key hidden behind escaped quotes in earlier strings', () => {
    expect(parseJsonBody('{"a\\"":"x\\"y","b":1,"b":2}', 32)).toEqual({
      ok: false,
      reason: 'json_duplicate_key',
    });
  });
});
