import { describe, expect, it } from 'vitest';
import { convertScalar, typedParameters } from '../../../shared/validation/params.ts';
import type { ProblemError } from '../../../shared/validation/problem.ts';

describe('convertScalar', () => {
  it.each([
    ['42', 'integer', 42],
    ['-7', 'integer', -7],
    ['007', 'integer', '007'],
    ['1e3', 'integer', '1e3'],
    ['0x10', 'integer', '0x10'],
    [' 4', 'integer', ' 4'],
    ['', 'integer', ''],
    ['Infinity', 'number', 'Infinity'],
    ['1.5e3', 'number', 1500],
    ['.5', 'number', '.5'],
    ['true', 'boolean', true],
    ['TRUE', 'boolean', 'TRUE'],
    ['1', 'boolean', '1'],
    ['42', 'string', '42'],
  ] as const)('converts %j as %s to %j', (raw, kind, expected) => {
    expect(convertScalar(raw, kind)).toEqual(expected);
  });
});

describe('typedParameters', () => {
  it('converts exploded arrays item by item', () => {
    // Arrange
    const errors: ProblemError[] = [];
    // Act
    const out = typedParameters(
      'query',
      [{ name: 'n', required: false, kind: 'integer', array: 'explode' }],
      new Map([['n', ['1', '2']]]),
      errors,
    );
    // Assert
    expect(out).toEqual({ n: [1, 2] });
    expect(errors).toEqual([]);
  });

  it('refuses a scalar given twice', () => {
    const errors: ProblemError[] = [];
    typedParameters(
      'query',
      [{ name: 'limit', required: false, kind: 'integer', array: 'none' }],
      new Map([['limit', ['1', '2']]]),
      errors,
    );
    expect(errors).toEqual([{ pointer: '/query/limit', keyword: 'type', message: 'must be given once' }]);
  });

  it('refuses undeclared query names without echoing them', () => {
    const errors: ProblemError[] = [];
    typedParameters('query', [], new Map([['<script>', ['x']]]), errors);
    expect(JSON.stringify(errors)).not.toContain('script');
    expect(errors[0]?.keyword).toBe('additionalProperties');
  });

  it.each(['.', '..'])('refuses the dot segment %j as a path parameter', (value) => {
    const errors: ProblemError[] = [];
    typedParameters(
      'path',
      [{ name: 'id', required: true, kind: 'string', array: 'none' }],
      new Map([['id', [value]]]),
      errors,
    );
    expect(errors).toEqual([
      { pointer: '/path/id', keyword: 'pattern', message: 'must not be a dot segment' },
    ]);
  });
});
