// The generated formats module (tools/openapi/formats.ts) against ajv-formats itself: every format
// ajv-formats checks with code must answer exactly as ajv-formats' `fullFormats` does.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codedFormats, formatsModule, formatsUsed } from '../../../tools/openapi/formats.ts';

type Check = ((value: unknown) => boolean) | { type?: string; validate: (value: unknown) => boolean };

/** Loads a generated formats module from a file, as the registry does. */
function load(names: readonly string[]): Record<string, Check> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-formats-'));
  const file = join(dir, 'formats.cjs');
  writeFileSync(file, formatsModule(names, '// test'));
  return createRequire(file)(file) as Record<string, Check>;
}

const call = (check: Check, value: unknown) =>
  typeof check === 'function' ? check(value) : check.validate(value);

/** Every string the JSON-Schema-Test-Suite's format files hold, for both drafts. */
function suiteStrings(): string[] {
  const out = new Set<string>();
  for (const draft of ['draft2020-12', 'draft7']) {
    const dir = `test/fixtures/json-schema-test-suite/tests/${draft}/optional/format`;
    for (const file of readdirSync(dir)) {
      const groups = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { tests: { data: unknown }[] }[];
      for (const g of groups) for (const t of g.tests) if (typeof t.data === 'string') out.add(t.data);
    }
  }
  return [...out];
}

describe('the generated formats module', () => {
  const names = codedFormats();

  it('covers the formats ajv-formats checks with code', () => {
    expect(names).toEqual(
      expect.arrayContaining(['date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'uri', 'regex']),
    );
  });

  it('holds only the formats asked for', () => {
    expect(Object.keys(load(['date', 'uri'])).sort()).toEqual(['date', 'uri']);
  });

  it.each(codedFormats())('checks %s as ajv-formats does (suite strings and generated ones)', (name) => {
    // Arrange: the format alone in its module, so each one brings the declarations it needs.
    const ours = load([name])[name] as Check;
    const theirs = (fullFormats as Record<string, Check>)[name] as Check;
    // ajv calls a format with values of its type only (strings unless it says `number`).
    const numeric = typeof theirs === 'object' && theirs.type === 'number';
    const values: unknown[] = numeric
      ? [
          0,
          1.5,
          -(2 ** 31),
          -(2 ** 31) - 1,
          2 ** 31 - 1,
          2 ** 31,
          2 ** 53,
          Number.NaN,
          Number.POSITIVE_INFINITY,
        ]
      : suiteStrings();
    const generated = numeric
      ? fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger())
      : fc.oneof(fc.string(), fc.stringMatching(/^[0-9T:.+\-Zz /#?a-f[\]@]{0,40}$/));
    // Act / Assert
    for (const v of values) expect([v, call(ours, v)]).toEqual([v, call(theirs, v)]);
    fc.assert(
      fc.property(generated, (v: unknown) => {
        expect(call(ours, v)).toBe(call(theirs, v));
      }),
      { numRuns: 300 },
    );
  });

  it('finds the formats a validation module takes from it', () => {
    expect(formatsUsed('a = __rt("./formats.cjs").date; b = __rt("./formats.cjs")["date-time"];')).toEqual([
      'date',
      'date-time',
    ]);
  });
});
