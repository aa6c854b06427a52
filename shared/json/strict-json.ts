/**
 * Strict JSON: what `JSON.parse` accepts, minus what an attacker can use against us.
 *
 * `JSON.parse` silently keeps the last of two duplicate keys (so two components can read two
 * different values from one document), recurses natively on deep nesting, and creates own
 * `__proto__` properties that later merges can turn into prototype pollution. No maintained library
 * checks these in one pass at `JSON.parse` speed, so a small scanner runs first: it walks the text
 * once without building values, with an explicit depth counter (no recursion), and only then hands
 * the text to the native parser.
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

/** Keys seen in one open object: a short array first, a Set once it grows. */
class KeySet {
  #small: string[] = [];
  #large: Set<string> | undefined;

  /** Adds a key; false when it was already there. */
  add(key: string): boolean {
    if (this.#large !== undefined) {
      if (this.#large.has(key)) return false;
      this.#large.add(key);
      return true;
    }
    if (this.#small.includes(key)) return false;
    this.#small.push(key);
    if (this.#small.length > 8) this.#large = new Set(this.#small);
    return true;
  }
}

/** Checks and parses a JSON text. Never throws. */
export function parseStrictJson(text: string, options: StrictJsonOptions): StrictJsonResult {
  const problem = scan(text, options);
  if (problem !== undefined) return { ok: false, reason: problem };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'json_invalid' };
  }
}

/**
 * The structural pass. It trusts `JSON.parse` to reject bad grammar afterwards, so it only has to be
 * exact on the things it checks: strings (to find keys and skip their contents) and brackets.
 */
function scan(text: string, options: StrictJsonOptions): StrictJsonReason | undefined {
  const forbidden = options.forbiddenKeys;
  // One entry per open bracket: a KeySet for objects (created lazily), null for arrays.
  const stack: (KeySet | null | undefined)[] = [];
  // True right after `{` or `,` inside an object: the next string is a key.
  let expectKey = false;
  const n = text.length;
  // Position of the next backslash at or after the current string (n when none): found once by
  // indexOf and reused, so the fast path below stays linear over the whole text.
  let nextSlash = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let escaped = false;
      // Fast path: the native indexOf finds the closing quote; only strings with a backslash
      // before it need the character loop (escapes can hide a quote).
      const close = text.indexOf('"', start);
      if (close === -1) return 'json_invalid';
      if (nextSlash < start) {
        nextSlash = text.indexOf('\\', start);
        if (nextSlash === -1) nextSlash = n;
      }
      if (nextSlash > close) {
        i = close;
      } else {
        i = start;
        for (; i < n; i++) {
          const d = text.charCodeAt(i);
          if (d === BACKSLASH) {
            escaped = true;
            i++;
          } else if (d === QUOTE) break;
        }
        if (i >= n) return 'json_invalid';
      }
      if (expectKey) {
        expectKey = false;
        let key = text.slice(start, i);
        if (escaped) {
          try {
            key = JSON.parse(`"${key}"`) as string;
          } catch {
            return 'json_invalid';
          }
        }
        if (forbidden?.has(key)) return 'json_forbidden_key';
        const top = stack.length - 1;
        let keys = stack[top];
        if (keys === undefined) {
          keys = new KeySet();
          stack[top] = keys;
        }
        if (keys === null || !keys.add(key)) return keys === null ? 'json_invalid' : 'json_duplicate_key';
      }
      continue;
    }
    if (c === LBRACE || c === LBRACKET) {
      if (stack.length >= options.maxDepth) return 'json_too_deep';
      stack.push(c === LBRACE ? undefined : null);
      expectKey = c === LBRACE;
    } else if (c === RBRACE || c === RBRACKET) {
      if (stack.pop() === null ? c !== RBRACKET : c !== RBRACE) return 'json_invalid';
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return stack.length === 0 ? undefined : 'json_invalid';
}
