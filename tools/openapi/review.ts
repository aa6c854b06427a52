/**
 * The secure-schema review: every schema an operation validates with is walked (following `$ref`s),
 * and each schema node that would cost more than linear time on hostile input, or that the
 * validator cannot enforce as written, gets one warning naming its JSON pointer and the first
 * operation that uses it. With `strictSchemas` the warnings are errors (docs/openapi.md#review).
 * Keywords that ajv's standalone code gets wrong are always errors: a wrong validator fails open.
 */

import {
  CHEAP_FORMATS,
  childSchemas,
  discriminatorPlan,
  isKnownKeyword,
  isSchemaObject,
  KNOWN_FORMATS,
  OPENAPI_KEYWORDS,
  type Schema,
} from './schema.ts';
import type { Draft } from './validators.ts';

/** What a warning is about (stable; documented in docs/openapi.md#review). */
export type ReviewCode =
  | 'pattern_unbounded'
  | 'format_unbounded'
  | 'unique_items_unbounded'
  | 'pattern_properties_unbounded'
  | 'format_unknown'
  | 'keyword_unknown'
  | 'discriminator_not_applied';

/** Keywords the build refuses: ajv's standalone code overflows or accepts data it must refuse. */
export const REFUSED_KEYWORDS = [
  '$dynamicRef',
  '$dynamicAnchor',
  '$recursiveRef',
  '$recursiveAnchor',
  'unevaluatedItems',
];

/** One finding of the review. */
export interface ReviewFinding {
  readonly code: ReviewCode | 'keyword_unsupported';
  /** Where the schema is in the document (`#/components/schemas/Pet/properties/name`). */
  readonly pointer: string;
  /** The first operation (operationId, or `METHOD path`) found using it. */
  readonly operation: string;
  readonly message: string;
}

const MESSAGES: Readonly<Record<ReviewCode, string>> = {
  pattern_unbounded: 'pattern without maxLength: matching cost grows with the string (add maxLength)',
  format_unbounded: 'format without maxLength: checking cost grows with the string (add maxLength)',
  unique_items_unbounded:
    'uniqueItems on objects or arrays without maxItems: checking cost grows with the square of the length (add maxItems)',
  pattern_properties_unbounded:
    'patternProperties without propertyNames.maxLength: every name is matched whatever its length',
  format_unknown: 'format is not one the validator knows: the value is validated by its type only',
  keyword_unknown: 'keyword means nothing to the validator: it is ignored',
  discriminator_not_applied:
    'discriminator needs oneOf/anyOf of $refs to choose a branch: it is ignored here (every branch is tried)',
};

/** Collects findings over many schemas; a node is reported once, under its first operation. */
export class SchemaReview {
  readonly #findings: ReviewFinding[] = [];
  readonly #seen = new Set<string>();
  readonly #walked = new Set<string>();

  constructor(
    private readonly draft: Draft,
    private readonly resolve: (ref: string) => unknown,
  ) {}

  /** Warnings (everything but `keyword_unsupported`). */
  get warnings(): readonly ReviewFinding[] {
    return this.#findings.filter((f) => f.code !== 'keyword_unsupported');
  }

  /** Errors whatever the settings. */
  get errors(): readonly ReviewFinding[] {
    return this.#findings.filter((f) => f.code === 'keyword_unsupported');
  }

  /** Reviews one schema that lives at `pointer`, used by `operation`. */
  review(schema: unknown, pointer: string, operation: string): void {
    this.#walk(schema, pointer, operation, 0);
  }

  #report(code: ReviewFinding['code'], pointer: string, operation: string, message: string): void {
    const key = `${code} ${pointer}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#findings.push({ code, pointer, operation, message });
  }

  #walk(schema: unknown, pointer: string, operation: string, depth: number): void {
    if (!isSchemaObject(schema) || depth > 200) return;
    // A schema is walked once, wherever it is referenced from (a `$ref` node itself is only a hop).
    const hop = typeof schema.$ref === 'string';
    if (!hop && this.#walked.has(pointer)) return;
    if (!hop) this.#walked.add(pointer);
    this.#check(schema, pointer, operation);
    if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#')) {
      let target: unknown;
      try {
        target = this.resolve(schema.$ref);
      } catch {
        target = undefined;
      }
      this.#walk(target, schema.$ref, operation, depth + 1);
    }
    for (const [tokens, child] of childSchemas(schema)) {
      const path = tokens.map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
      this.#walk(child, `${pointer}/${path}`, operation, depth + 1);
    }
  }

  #check(node: Schema, pointer: string, operation: string): void {
    const warn = (code: ReviewCode, detail = '') =>
      this.#report(code, pointer, operation, `${MESSAGES[code]}${detail}`);
    for (const k of REFUSED_KEYWORDS)
      if (Object.hasOwn(node, k))
        this.#report(
          'keyword_unsupported',
          pointer,
          operation,
          `${k} is not supported: the compiled validator would get it wrong`,
        );
    if (
      Object.hasOwn(node, 'unevaluatedProperties') &&
      JSON.stringify(node).includes('"if"') &&
      this.draft === '2020-12'
    )
      this.#report(
        'keyword_unsupported',
        pointer,
        operation,
        'unevaluatedProperties with if/then/else is not supported: the compiled validator would get it wrong',
      );
    const bounded = node.maxLength !== undefined || node.enum !== undefined || node.const !== undefined;
    if (typeof node.pattern === 'string' && !bounded) warn('pattern_unbounded');
    if (typeof node.format === 'string') {
      if (!KNOWN_FORMATS.includes(node.format)) warn('format_unknown', ` (${JSON.stringify(node.format)})`);
      else if (!CHEAP_FORMATS.includes(node.format) && !bounded && mayBeString(node))
        warn('format_unbounded', ` (${node.format})`);
    }
    if (node.uniqueItems === true && node.maxItems === undefined && itemsMayBeStructured(node.items))
      warn('unique_items_unbounded');
    if (
      isSchemaObject(node.patternProperties) &&
      !(isSchemaObject(node.propertyNames) && node.propertyNames.maxLength !== undefined)
    )
      warn('pattern_properties_unbounded');
    const unknown = Object.keys(node).filter(
      (k) => !k.startsWith('x-') && !OPENAPI_KEYWORDS.includes(k) && !isKnownKeyword(k, this.draft),
    );
    if (unknown.length > 0) warn('keyword_unknown', ` (${unknown.map((k) => JSON.stringify(k)).join(', ')})`);
    if (node.discriminator !== undefined && discriminatorPlan(node) === undefined)
      warn('discriminator_not_applied');
  }
}

function mayBeString(node: Schema): boolean {
  if (node.type === undefined) return true;
  return Array.isArray(node.type) ? node.type.includes('string') : node.type === 'string';
}

function itemsMayBeStructured(items: unknown): boolean {
  if (!isSchemaObject(items)) return true;
  if (items.type === undefined) return true;
  const types = Array.isArray(items.type) ? items.type : [items.type];
  return types.includes('object') || types.includes('array');
}
