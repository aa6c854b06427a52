import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PARSE_FIRST_MAX, PROTOTYPE_KEYS, parseStrictJson } from '../../../shared/json/strict-json.ts';

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
    ['{"a\\\\":1,"a\\\\":2}', 'json_duplicate_key'],
    ['{"q\\"":1,"q\\"":2}', 'json_duplicate_key'],
    ['{"a":"x:y","a":"z"}', 'json_duplicate_key'],
    ['{"__proto__":1,"__proto__":2}', 'json_forbidden_key'],
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

  it('refuses every document in which one object repeats a member', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.nat(),
        (object, extra, pick) => {
          const keys = Object.keys(object);
          const repeated = keys[pick % keys.length] as string;
          // The same member written twice, the second time with its name escaped where possible.
          const text = `{${JSON.stringify(object).slice(1, -1)},${JSON.stringify(repeated)}:${JSON.stringify(extra)}}`;
          expect(parseStrictJson(`[1,${text}]`, { maxDepth: 64 })).toEqual({
            ok: false,
            reason: 'json_duplicate_key',
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  // Texts over PARSE_FIRST_MAX are scanned before they are parsed, shorter ones after: the same
  // text padded with spaces past the bound must get the same verdict.
  const padded = (text: string) => `${text}${' '.repeat(PARSE_FIRST_MAX + 1 - text.length)}`;

  it.each([
    ['{"a":[[[[[[[[1]]]]]]]],"__proto__":1}', 'json_too_deep'],
    ['{"__proto__":1,"a":[[[[[[[[1]]]]]]]]}', 'json_too_deep'],
    ['[[[[[[[[[', 'json_too_deep'],
    ['[[[[[[[[[1]]]]]]]]', 'json_too_deep'],
    ['{"a":[1,2', 'json_invalid'],
    ['{"a":"x:y","b":{"c":"d:e","c":1}}', 'json_duplicate_key'],
    ['{"t":"12:00","a":1,"\u0061":2}', 'json_duplicate_key'],
    ['{"a":1,"a":1e400}', 'json_duplicate_key'],
    ['{"a":[1e400],"constructor":1}', 'json_forbidden_key'],
  ])('gives %s the same reason (%s) whether it is scanned or parsed first', (text, reason) => {
    expect(parseStrictJson(text, { ...options, finite: true })).toEqual({ ok: false, reason });
    expect(parseStrictJson(padded(text), { ...options, finite: true })).toEqual({ ok: false, reason });
  });

  it.each([['1e400'], ['[-1e309]'], ['{"a":{"b":[1,2e308]}}'], ['{"a":"x:y","b":-123e456}']])(
    'refuses %s, a number JSON.parse makes infinite, only when asked',
    (text) => {
      for (const t of [text, padded(text)]) {
        expect(parseStrictJson(t, { ...options, finite: true })).toEqual({
          ok: false,
          reason: 'json_not_finite',
        });
        expect(parseStrictJson(t, options)).toEqual({ ok: true, value: JSON.parse(t) });
      }
    },
  );

  it('accepts colons inside strings and the largest finite numbers', () => {
    const text = '{"at":"2026-01-01T10:00:00Z","url":"https://a.example/x:y","max":1.7976931348623157e308}';
    expect(parseStrictJson(text, { ...options, finite: true })).toEqual({
      ok: true,
      value: JSON.parse(text),
    });
  });

  it('gives every text the same verdict scanned first as parsed first', () => {
    // Arrange: JSON texts, some with a member repeated (escaped or not) or a prototype key added.
    const texts = fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }),
        fc.constantFrom('', 'dup', 'proto', 'colon'),
      )
      .map(([object, change]) => {
        const body = JSON.stringify(object).slice(1, -1);
        const first = Object.keys(object)[0];
        const extra =
          change === 'dup' && first !== undefined
            ? `${JSON.stringify(first)}:1`
            : change === 'proto'
              ? '"__proto__":{}'
              : change === 'colon'
                ? '"k":"a:b"'
                : '';
        return `[{${[body, extra].filter((p) => p !== '').join(',')}}]`;
      });
    fc.assert(
      fc.property(texts, (text) => {
        // Act
        const short = parseStrictJson(text, { maxDepth: 6, forbiddenKeys: PROTOTYPE_KEYS });
        const long = parseStrictJson(padded(text), { maxDepth: 6, forbiddenKeys: PROTOTYPE_KEYS });
        // Assert
        expect(long).toEqual(short);
      }),
      { numRuns: 1000 },
    );
  });

  it('counts own members only when Object.prototype has an enumerable property', () => {
    Object.defineProperty(Object.prototype, 'polluted', {
      value: 1,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    onTestFinished(() => {
      delete (Object.prototype as Record<string, unknown>).polluted;
    });

    expect(parseStrictJson('{"a":{"b":1}}', options)).toEqual({ ok: true, value: { a: { b: 1 } } });
    expect(parseStrictJson('{"a":1,"a":2}', options)).toEqual({ ok: false, reason: 'json_duplicate_key' });
    expect(parseStrictJson('[{"__proto__":1}]', options)).toEqual({
      ok: false,
      reason: 'json_forbidden_key',
    });
  });
});
