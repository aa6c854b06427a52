/**
 * Strict JSON: what `JSON.parse` accepts, minus what an attacker can use against us.
 *
 * `JSON.parse` silently keeps the last of two duplicate keys (so two components can read two
 * different values from one document), and creates own `__proto__` properties that later merges
 * can turn into prototype pollution; deep nesting costs stack in every consumer that recurses. No
 * maintained library checks these at `JSON.parse` speed, so this is by count-and-compare:
 *
 * 1. the native `JSON.parse` builds the value (and refuses bad grammar);
 * 2. a walk of the value sums the own keys of every object, checks them against the forbidden
 *    ones and measures the nesting depth (without going deeper than the limit);
 * 3. the object members of the text are counted: a duplicate collapses when parsed, so fewer keys
 *    than members means a duplicate. Every member has a `:` outside strings, so when the text
 *    holds exactly as many `:` as the value has keys (found with `indexOf`, natively), there is
 *    none; otherwise (a `:` inside a string, or a duplicate) one pass over the text counts the `:`
 *    outside strings, skipping strings with `indexOf`.
 *
 * A text longer than {@link PARSE_FIRST_MAX} is scanned before it is parsed instead, so that
 * nesting too deep is refused before `JSON.parse` builds it: 1 MB of `[` costs `JSON.parse` about
 * 80 ms, fifteen times a flat megabyte; under the bound it costs less than a millisecond. The
 * reasons are the same either way, in the same order (too deep, invalid, forbidden key, duplicate).
 *
 * Keys are compared after JSON decoding, so escaped forms (`"\u005f_proto__"`, `"\u0061"` beside
 * `"a"`) are caught like plain ones. With `finite`, the walk also refuses numbers `JSON.parse` made
 * ±Infinity (`1e400`): valid JSON, but `JSON.stringify` writes them as `null`.
 */

/** Why a JSON text was refused; stable codes callers map to their own errors. */
export type StrictJsonReason =
  | 'json_invalid'
  | 'json_duplicate_key'
  | 'json_too_deep'
  | 'json_forbidden_key'
  | 'json_not_finite';

export type StrictJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: StrictJsonReason };

export interface StrictJsonOptions {
  /** Deepest allowed nesting of objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
  /** Keys refused anywhere in the document. */
  readonly forbiddenKeys?: ReadonlySet<string>;
  /** Refuse numbers beyond ±1.7976931348623157e308 (`json_not_finite`, after the other refusals). */
  readonly finite?: boolean;
}

/** Keys that can reach `Object.prototype` through naive merges. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Texts up to this many characters are parsed before their depth is known (see above). */
export const PARSE_FIRST_MAX = 16_384;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;

// Refusals inside this module, as negative numbers: `REASONS[~code]` is the reason.
const TOO_DEEP = -1;
const INVALID = -2;
const FORBIDDEN = -3;
const DUPLICATE = -4;
const NOT_FINITE = -5;
const REASONS: readonly StrictJsonReason[] = [
  'json_too_deep',
  'json_invalid',
  'json_forbidden_key',
  'json_duplicate_key',
  'json_not_finite',
];

/** Checks and parses a JSON text. Never throws. */
export function parseStrictJson(text: string, options: StrictJsonOptions): StrictJsonResult {
  const { maxDepth } = options;
  // Counted before parsing for long texts; for the others, only when the text's `:` do not settle it.
  const members = text.length > PARSE_FIRST_MAX ? countMembers(text, maxDepth) : undefined;
  let value: unknown;
  let code = members !== undefined && members < 0 ? members : 0;
  if (code === 0) {
    try {
      value = JSON.parse(text);
    } catch {
      code = INVALID;
    }
  }
  if (code === 0) {
    const finite = options.finite === true;
    const forbidden = options.forbiddenKeys ?? NO_KEYS;
    infinite = finite && notFinite(value);
    polluted = false;
    for (const _inherited in EMPTY) polluted = true;
    const keys =
      typeof value === 'object' && value !== null
        ? countKeys(value, forbidden, lengthsOf(forbidden), finite, maxDepth)
        : 0;
    if (keys < 0) code = keys;
    else if (keys !== (members ?? (colons(text, keys) === keys ? keys : countMembers(text, maxDepth))))
      code = DUPLICATE;
    else if (infinite) code = NOT_FINITE;
  }
  // Parsed first: nesting too deep is the reason before a bad grammar or a forbidden key.
  if (
    (code === INVALID || code === FORBIDDEN) &&
    members === undefined &&
    countMembers(text, maxDepth) === TOO_DEEP
  )
    code = TOO_DEEP;
  return code === 0 ? { ok: true, value } : { ok: false, reason: REASONS[~code] as StrictJsonReason };
}

// Set for and by one walk (walks never nest or interleave): Object.prototype has enumerable keys;
// the walk met a non-finite number.
let polluted = false;
let infinite = false;

/** The `:` in the text, inside strings too, counted up to one more than `limit`. */
function colons(text: string, limit: number): number {
  let n = 0;
  for (let i = text.indexOf(':'); i !== -1 && n <= limit; i = text.indexOf(':', i + 1)) n++;
  return n;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** A bit mask of the lengths of the keys, so that most keys are cleared without a lookup. */
function lengthsOf(keys: ReadonlySet<string>): number {
  let lengths = 0;
  // Lengths of 31 and over share the top bit: such keys are always looked up.
  for (const key of keys) lengths |= 1 << Math.min(key.length, 31);
  return lengths;
}

/**
 * Members (`:` outside strings) in the text, or TOO_DEEP / INVALID (an unterminated string). Exact
 * for every text `JSON.parse` accepts, which is all that matters: any other text is refused by the
 * parse.
 */
function countMembers(text: string, maxDepth: number): number {
  const n = text.length;
  let members = 0;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i++);
    if (c === QUOTE) {
      // The closing quote is the next one not escaped: preceded by an even run of backslashes.
      // Each run is read once, before the one quote it precedes, so this stays linear.
      let close = text.indexOf('"', i);
      while (close !== -1) {
        let k = close - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if (((close - 1 - k) & 1) === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (close === -1) return INVALID;
      i = close + 1;
    } else if (c === COLON) members++;
    else if (c === LBRACE || c === LBRACKET) {
      if (++depth > maxDepth) return TOO_DEEP;
    } else if (c === RBRACE || c === RBRACKET) depth--;
  }
  return members;
}

const EMPTY = {};

// JSON has no NaN: a number that is not finite is ±Infinity.
function notFinite(item: unknown): boolean {
  return typeof item === 'number' && item - item !== 0;
}

/**
 * Own keys of every object in a parsed value, or FORBIDDEN / TOO_DEEP (the value is at depth 1,
 * so `depthLeft` starts at the limit); notes non-finite numbers in `infinite` when asked.
 * `for…in` walks V8's enum cache without allocating (three times faster than Object.keys here),
 * but also lists enumerable keys someone added to Object.prototype: then inherited ones are skipped.
 */
function countKeys(
  value: object,
  forbidden: ReadonlySet<string>,
  lengths: number,
  finite: boolean,
  depthLeft: number,
): number {
  if (depthLeft < 1) return TOO_DEEP;
  let total = 0;
  let item: unknown;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      item = value[i];
      if (typeof item === 'object' && item !== null) {
        const n = countKeys(item, forbidden, lengths, finite, depthLeft - 1);
        if (n < 0) return n;
        total += n;
      } else if (finite && notFinite(item)) infinite = true;
    }
    return total;
  }
  for (const key in value) {
    if (polluted && !Object.hasOwn(value, key)) continue;
    total++;
    if ((lengths & (1 << Math.min(key.length, 31))) !== 0 && forbidden.has(key)) return FORBIDDEN;
    item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null) {
      const n = countKeys(item, forbidden, lengths, finite, depthLeft - 1);
      if (n < 0) return n;
      total += n;
    } else if (finite && notFinite(item)) infinite = true;
  }
  return total;
}
