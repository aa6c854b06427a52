/**
 * Strict JSON: what `JSON.parse` accepts, minus what an attacker can use against us.
 *
 * `JSON.parse` silently keeps the last of two duplicate keys (so two components can read two
 * different values from one document), and creates own `__proto__` properties that later merges
 * can turn into prototype pollution; deep nesting costs stack in every consumer that recurses. No
 * maintained library checks these at `JSON.parse` speed, so this is by count-and-compare:
 *
 * 1. one pass over the text counts the object members (`:` outside strings; strings are skipped
 *    with `indexOf`) and the nesting depth, without building anything;
 * 2. the native `JSON.parse` builds the value (and refuses bad grammar);
 * 3. a walk of the value sums the own keys of every object and checks them against the forbidden
 *    ones. Duplicates collapse when parsed, so fewer keys than members means a duplicate.
 *
 * Keys are compared after JSON decoding, so escaped forms (`"\u005f_proto__"`, `"\u0061"` beside
 * `"a"`) are caught like plain ones.
 */

/** Why a JSON text was refused; stable codes callers map to their own errors. */
export type StrictJsonReason = 'json_invalid' | 'json_duplicate_key' | 'json_too_deep' | 'json_forbidden_key';

export type StrictJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: StrictJsonReason };

export interface StrictJsonOptions {
  /** Deepest allowed nesting of objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
  /** Keys refused anywhere in the document. */
  readonly forbiddenKeys?: ReadonlySet<string>;
}

/** Keys that can reach `Object.prototype` through naive merges. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;

/** Checks and parses a JSON text. Never throws. */
export function parseStrictJson(text: string, options: StrictJsonOptions): StrictJsonResult {
  const members = countMembers(text, options.maxDepth);
  if (members < 0) return { ok: false, reason: members === TOO_DEEP ? 'json_too_deep' : 'json_invalid' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'json_invalid' };
  }
  if (members === 0) return { ok: true, value };
  const keys = typeof value === 'object' && value !== null ? countKeys(value, forbiddenOf(options)) : 0;
  if (keys === FORBIDDEN) return { ok: false, reason: 'json_forbidden_key' };
  return keys === members ? { ok: true, value } : { ok: false, reason: 'json_duplicate_key' };
}

const TOO_DEEP = -1;
const UNTERMINATED = -2;
const FORBIDDEN = -1;

/** Forbidden keys and a bit mask of their lengths, so most keys are cleared without a lookup. */
interface Forbidden {
  readonly keys: ReadonlySet<string>;
  readonly lengths: number;
}

const NONE: Forbidden = { keys: new Set(), lengths: 0 };
const forbiddenCache = new WeakMap<ReadonlySet<string>, Forbidden>();

function forbiddenOf(options: StrictJsonOptions): Forbidden {
  const keys = options.forbiddenKeys;
  if (keys === undefined) return NONE;
  let known = forbiddenCache.get(keys);
  if (known === undefined) {
    let lengths = 0;
    // Lengths of 31 and over share the top bit: such keys are always looked up.
    for (const key of keys) lengths |= 1 << Math.min(key.length, 31);
    known = { keys, lengths };
    forbiddenCache.set(keys, known);
  }
  return known;
}

/**
 * Members (`:` outside strings) in the text, or TOO_DEEP / UNTERMINATED. Exact for every text
 * `JSON.parse` accepts, which is all that matters: any other text is refused by the parse.
 */
function countMembers(text: string, maxDepth: number): number {
  const n = text.length;
  let members = 0;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // The closing quote is the next one not escaped: preceded by an even run of backslashes.
      // Each run is read once, before the one quote it precedes, so this stays linear.
      let close = text.indexOf('"', i + 1);
      while (close !== -1) {
        let k = close - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if (((close - 1 - k) & 1) === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (close === -1) return UNTERMINATED;
      i = close + 1;
      continue;
    }
    if (c === COLON) members++;
    else if (c === LBRACE || c === LBRACKET) {
      if (++depth > maxDepth) return TOO_DEEP;
    } else if (c === RBRACE || c === RBRACKET) depth--;
    i++;
  }
  return members;
}

const EMPTY = {};

/** Own keys of every object in a parsed value, or FORBIDDEN. */
function countKeys(value: object, forbidden: Forbidden): number {
  // `for…in` walks V8's enum cache without allocating (three times faster than Object.keys here),
  // but would also list enumerable keys someone added to Object.prototype: then count own keys only.
  for (const _inherited in EMPTY) return countOwnKeys(value, forbidden);
  return countEnumerableKeys(value, forbidden);
}

function isForbidden(key: string, forbidden: Forbidden): boolean {
  return (forbidden.lengths & (1 << Math.min(key.length, 31))) !== 0 && forbidden.keys.has(key);
}

// Recursion is bounded by the depth already checked on the text.
function countEnumerableKeys(value: object, forbidden: Forbidden): number {
  let total = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) {
        const n = countEnumerableKeys(item, forbidden);
        if (n === FORBIDDEN) return FORBIDDEN;
        total += n;
      }
    }
    return total;
  }
  for (const key in value) {
    total++;
    if (isForbidden(key, forbidden)) return FORBIDDEN;
    const item = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null) {
      const n = countEnumerableKeys(item, forbidden);
      if (n === FORBIDDEN) return FORBIDDEN;
      total += n;
    }
  }
  return total;
}

function countOwnKeys(value: object, forbidden: Forbidden): number {
  let total = 0;
  const own = Array.isArray(value) ? [] : Object.keys(value);
  total += own.length;
  for (const key of own) if (isForbidden(key, forbidden)) return FORBIDDEN;
  const items: unknown[] = Array.isArray(value)
    ? value
    : own.map((k) => (value as Record<string, unknown>)[k]);
  for (const item of items) {
    if (typeof item === 'object' && item !== null) {
      const n = countOwnKeys(item, forbidden);
      if (n === FORBIDDEN) return FORBIDDEN;
      total += n;
    }
  }
  return total;
}
