/**
 * Overlap of execute-api resource patterns.
 *
 * IAM resource patterns use `*` (any run of characters, `/` included) and `?` (one character).
 * Concrete API routes have `{param}` segments, which stand for one or more characters other than
 * `/`. To keep cached policies correct we must know whether an Allow pattern can reach a route the
 * caller may not use, and whether a Deny pattern can reach a route the caller may use. No library
 * answers "do these two patterns share a string?" for this alphabet, so it is done here by a search
 * over the product of the two patterns (at most (n+1)·(m+1) states).
 */

type CharClass =
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'not_slash' }
  | { readonly kind: 'any' };

type Token =
  | { readonly kind: 'one'; readonly cls: CharClass }
  /** Zero or more characters of the class. */
  | { readonly kind: 'many'; readonly cls: CharClass };

const ANY: CharClass = { kind: 'any' };
const NOT_SLASH: CharClass = { kind: 'not_slash' };

/** Tokens of an IAM resource pattern (`*` and `?` are wildcards). */
export function globTokens(pattern: string): readonly Token[] {
  const tokens: Token[] = [];
  for (const c of pattern) {
    if (c === '*') tokens.push({ kind: 'many', cls: ANY });
    else if (c === '?') tokens.push({ kind: 'one', cls: ANY });
    else tokens.push({ kind: 'one', cls: { kind: 'char', c } });
  }
  return tokens;
}

/** Tokens of a route resource where `{param}` stands for a non-empty segment without `/`. */
export function routeTokens(resource: string): readonly Token[] {
  const tokens: Token[] = [];
  const parts = resource.split(/(\{[^{}]+\})/);
  for (const part of parts) {
    if (/^\{[^{}]+\}$/.test(part)) {
      tokens.push({ kind: 'one', cls: NOT_SLASH }, { kind: 'many', cls: NOT_SLASH });
    } else {
      for (const c of part) tokens.push({ kind: 'one', cls: { kind: 'char', c } });
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

/** True when the IAM pattern matches some request to the route resource (`GET/orders/{id}`). */
export function patternReachesRoute(pattern: string, routeResource: string): boolean {
  return tokensOverlap(globTokens(pattern), routeTokens(routeResource));
}

/** True when the IAM pattern matches the concrete string (API Gateway's own evaluation). */
export function patternMatches(pattern: string, value: string): boolean {
  return tokensOverlap(
    globTokens(pattern),
    [...value].map((c) => ({ kind: 'one', cls: { kind: 'char', c } })),
  );
}
