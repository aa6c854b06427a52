/**
 * IAM resource patterns against execute-api resources.
 *
 * IAM patterns use `*` (any run of characters, `/` included) and `?` (one character), matched
 * against the whole ARN. Route templates have `{param}` parts (one or more characters other than
 * `/`) and a greedy `{param+}` (one or more characters, `/` included). To keep cached policies exact
 * we must know whether a pattern can match some request to a route; no library answers "do these
 * two patterns share a string?" for this alphabet, so it is done here by a search over the product
 * of the two token sequences (at most (n+1)·(m+1) states).
 */
import type { TemplateSegment } from '../routes/route-table.ts';

type CharClass =
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'not_slash' }
  | { readonly kind: 'any' };

/** One position of a pattern: one character of a class, or any number (zero included) of them. */
export type Token =
  | { readonly kind: 'one'; readonly cls: CharClass }
  | { readonly kind: 'many'; readonly cls: CharClass };

const ANY: CharClass = { kind: 'any' };
const NOT_SLASH: CharClass = { kind: 'not_slash' };
const literalToken = (c: string): Token => ({ kind: 'one', cls: { kind: 'char', c } });

/** Tokens of an IAM resource pattern (`*` and `?` are wildcards). */
export function globTokens(pattern: string): readonly Token[] {
  const tokens: Token[] = [];
  for (const c of pattern) {
    if (c === '*') tokens.push({ kind: 'many', cls: ANY });
    else if (c === '?') tokens.push({ kind: 'one', cls: ANY });
    else tokens.push(literalToken(c));
  }
  return tokens;
}

/**
 * Tokens of every resource a route can be called with: `METHOD/segments`, a `{param}` being one or
 * more characters other than `/`, a greedy `{param+}` one or more of any character.
 */
export function templateTokens(method: string, segments: readonly TemplateSegment[]): readonly Token[] {
  const tokens: Token[] = [...method].map(literalToken);
  for (const segment of segments) {
    tokens.push(literalToken('/'));
    if (segment.kind === 'literal') for (const c of segment.text) tokens.push(literalToken(c));
    else if (segment.kind === 'greedy') tokens.push({ kind: 'one', cls: ANY }, { kind: 'many', cls: ANY });
    else
      for (const part of segment.parts) {
        if (typeof part === 'string') for (const c of part) tokens.push(literalToken(c));
        else tokens.push({ kind: 'one', cls: NOT_SLASH }, { kind: 'many', cls: NOT_SLASH });
      }
  }
  return tokens;
}

function classesMeet(a: CharClass, b: CharClass): boolean {
  if (a.kind === 'any' || b.kind === 'any') return true;
  if (a.kind === 'not_slash' && b.kind === 'not_slash') return true;
  if (a.kind === 'char' && b.kind === 'char') return a.c === b.c;
  const literal = a.kind === 'char' ? a.c : (b as { c: string }).c;
  return literal !== '/';
}

/** True when some string is matched by both token sequences. */
export function tokensOverlap(a: readonly Token[], b: readonly Token[]): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const push = (i: number, j: number) => {
    const k = i * width + j;
    if (seen[k] === 0) {
      seen[k] = 1;
      stack.push(k);
    }
  };
  while (stack.length > 0) {
    const k = stack.pop() as number;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === a.length && j === b.length) return true;
    const ta = a[i];
    const tb = b[j];
    // A `many` token may match nothing.
    if (ta?.kind === 'many') push(i + 1, j);
    if (tb?.kind === 'many') push(i, j + 1);
    if (ta === undefined || tb === undefined) continue;
    // Both sides consume one character of a class they share.
    if (!classesMeet(ta.cls, tb.cls)) continue;
    push(ta.kind === 'one' ? i + 1 : i, tb.kind === 'one' ? j + 1 : j);
  }
  return false;
}

/**
 * True when the IAM pattern matches the concrete string, as API Gateway evaluates a policy: the
 * classic wildcard match (backtracking to the last `*`), over code points.
 */
export function patternMatches(pattern: string, value: string): boolean {
  const p = [...pattern];
  const v = [...value];
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < v.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === v[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      resume = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

/**
 * True when every string the pattern `specific` matches is matched by `general` (so `specific`
 * adds nothing beside it in a statement). Decided on the patterns themselves: a literal of
 * `specific` is matched by the same literal, `?` or `*`; its `?` by `?` or `*`; its `*` only by
 * `*`. Sound (never says yes wrongly); it may miss exotic inclusions, which only costs bytes.
 */
export function patternCovers(general: string, specific: string): boolean {
  const g = [...general];
  const s = [...specific];
  // reach[j]: `general[0..i)` can match `specific[0..j)`.
  let reach = new Uint8Array(s.length + 1);
  reach[0] = 1;
  for (const gc of g) {
    const next = new Uint8Array(s.length + 1);
    if (gc === '*') {
      let any = 0;
      for (let j = 0; j <= s.length; j++) {
        any |= reach[j] as number;
        next[j] = any;
      }
    } else {
      for (let j = 0; j < s.length; j++) {
        if (reach[j] !== 1) continue;
        const sc = s[j] as string;
        if (sc === '*') continue;
        if (gc === '?' || gc === sc) next[j + 1] = 1;
      }
    }
    reach = next;
  }
  return reach[s.length] === 1;
}
