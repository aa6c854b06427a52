import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROTOTYPE_KEYS, parseStrictJson } from '../../../shared/json/strict-json.ts';

const options = { maxDepth: 8, forbiddenKeys: PROTOTYPE_KEYS };

describe('parseStrictJson', () => {
  it.each([
    ['{"a":1,"a":2}', 'json_duplicate_key'],
    ['{"a":1,"\\u0061":2}', 'json_duplicate_key'],
    ['{"x":{"a":1,"b":{"a":1,"a":1}}}', 'json_duplicate_key'],
    ['[{"a":1},{"a":1,"a":1}]', 'json_duplicate_key'],
    ['{"__proto__":{"polluted":true}}', 'json_forbidden_key'],
    ['{"a":[{"constructor":{"prototype":{}}}]}', 'json_forbidden_key'],
    ['{"\\u005f_proto__":1}', 'json_forbidden_key'],
    ['[[[[[[[[[1]]]]]]]]]', 'json_too_deep'],
    ['{"a":1', 'json_invalid'],
    ['{"a":1}x', 'json_invalid'],
    ['{"a":1}}', 'json_invalid'],
    ['{"a":"\\x"}', 'json_invalid'],
    ['', 'json_invalid'],
  ])('refuses %s as %s', (text, reason) => {
    expect(parseStrictJson(text, options)).toEqual({ ok: false, reason });
  });

  it.each([
    ['{"a":1,"b":{"a":1}}'],
    ['[{"a":1},{"a":1}]'],
    ['{"a":"__proto__","b":["constructor"]}'],
    ['{"a\\"b":1,"a\\\\b":2,"c":"{\\"a\\":1,\\"a\\":2}"}'],
    ['[[[[[[[[1]]]]]]]]'],
  ])('accepts %s like JSON.parse', (text) => {
    expect(parseStrictJson(text, options)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('refuses deep nesting without recursing (100,000 levels)', () => {
    expect(parseStrictJson('['.repeat(100_000) + ']'.repeat(100_000), options)).toEqual({
      ok: false,
      reason: 'json_too_deep',
    });
  });

  it('agrees with JSON.parse on every document without duplicates or forbidden keys', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        const result = parseStrictJson(text, { maxDepth: 64 });
        expect(result).toEqual({ ok: true, value: JSON.parse(text) });
      }),
      { numRuns: 2000 },
    );
  });
});
