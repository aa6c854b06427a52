/**
 * Parameters arrive as strings; each is converted by its declared type only (integer, number,
 * boolean, or an array of those), and a string that is not exactly such a value stays a string so
 * the schema's `type` check refuses it. Nothing undeclared is converted or kept.
 */
import type { ProblemError } from './problem.ts';
import type { ParameterKind, ParameterSpec } from './table.ts';

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
// RFC 9110 §5.5 field-value characters: a declared header is forwarded exactly as validated, so a
// value that could not be sent on the wire is refused here rather than dropped later.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why a raw value can never be forwarded as it was validated, if it cannot. */
function unforwardable(location: 'path' | 'query' | 'header', value: string): string | undefined {
  // A lone UTF-16 surrogate has no UTF-8 form: it cannot be percent-encoded into the upstream URL.
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'must be well-formed Unicode';
  if (location === 'header' && !FIELD_VALUE.test(value)) return 'must be a valid header field value';
  return undefined;
}
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Converts one string by kind; returns the string itself when it is not of that kind. */
export function convertScalar(raw: string, kind: ParameterKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'integer':
      return INTEGER.test(raw) ? Number(raw) : raw;
    case 'number':
      return NUMBER.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
  }
}

/** Values of one location as received: name → every value, in order. */
export type RawValues = ReadonlyMap<string, readonly string[]>;

/**
 * Builds the typed object for one location from the declared parameters. Undeclared names and
 * scalar parameters given more than once are reported as errors (pointer `/<location>/<name>`).
 */
export function typedParameters(
  location: 'path' | 'query' | 'header',
  specs: readonly ParameterSpec[],
  raw: RawValues,
  errors: ProblemError[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const values = raw.get(spec.name);
    if (values === undefined || values.length === 0) continue;
    let problem: string | undefined;
    for (const v of values) problem ??= unforwardable(location, v);
    if (problem !== undefined) {
      errors.push({ pointer: `/${location}/${spec.name}`, keyword: 'format', message: problem });
      continue;
    }
    if (spec.array === 'none') {
      if (values.length > 1) {
        errors.push({ pointer: `/${location}/${spec.name}`, keyword: 'type', message: 'must be given once' });
        continue;
      }
      const value = values[0] as string;
      // `.` and `..` would become dot segments in the upstream URL (even percent-encoded, WHATWG
      // URL parsing treats %2e%2e as ..), so they are never valid path parameters.
      if (location === 'path' && (value === '.' || value === '..')) {
        errors.push({
          pointer: `/path/${spec.name}`,
          keyword: 'pattern',
          message: 'must not be a dot segment',
        });
        continue;
      }
      out[spec.name] = convertScalar(value, spec.kind);
    } else {
      const items = spec.array === 'explode' ? values : values.flatMap((v) => v.split(','));
      out[spec.name] = items.map((v) => convertScalar(v, spec.kind));
    }
  }
  // Headers carry much besides declared parameters; only query names are an allow-list.
  if (location === 'query') {
    for (const name of raw.keys()) {
      if (specs.some((s) => s.name === name)) continue;
      errors.push({
        pointer: '/query',
        keyword: 'additionalProperties',
        message: 'must NOT have additional properties',
      });
      break;
    }
  }
  return out;
}
