/**
 * Content types: parsing a request's Content-Type and choosing the declared media range that
 * covers it (exact type, then `type/*`, then `*\/*`), as OpenAPI says the most specific key wins.
 */
import type { MediaValidation } from './table.ts';

/** A parsed Content-Type. */
export interface ContentType {
  /** Lower-case `type/subtype`. */
  readonly essence: string;
  /** Parameters with lower-case names; values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN = /^[a-z0-9!#$&^_.+-]+$/;

/** Parses a Content-Type header value (RFC 9110 §8.3.1); undefined when it is not one. */
export function parseContentType(value: string): ContentType | undefined {
  const [head, ...rest] = value.split(';');
  const essence = head?.trim().toLowerCase() ?? '';
  const slash = essence.indexOf('/');
  if (slash <= 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1)))
    return undefined;
  const params = new Map<string, string>();
  for (const raw of rest) {
    if (raw.trim() === '') continue;
    const eq = raw.indexOf('=');
    if (eq <= 0) return undefined;
    const name = raw.slice(0, eq).trim().toLowerCase();
    let v = raw.slice(eq + 1).trim();
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"')) return undefined;
      v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (!TOKEN.test(name) || params.has(name)) return undefined;
    params.set(name, v);
  }
  return { essence, params };
}

/** The charset parameter is absent or UTF-8 (JSON is UTF-8, RFC 8259 §8.1; forms and multipart are read as UTF-8). */
export function isUtf8(type: ContentType): boolean {
  const charset = type.params.get('charset');
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}

/**
 * Media type essence of a Content-Type, or undefined when it is not one or names a charset other
 * than UTF-8 (for JSON bodies and backend answers).
 */
export function mediaTypeOf(contentType: string): string | undefined {
  const parsed = parseContentType(contentType);
  return parsed !== undefined && isUtf8(parsed) ? parsed.essence : undefined;
}

/** The declared media range that covers a request's media type, most specific first. */
export function matchMedia(
  declared: Readonly<Record<string, MediaValidation>>,
  essence: string,
): { readonly range: string; readonly media: MediaValidation } | undefined {
  const slash = essence.indexOf('/');
  for (const range of [essence, `${essence.slice(0, slash)}/*`, '*/*']) {
    if (Object.hasOwn(declared, range)) return { range, media: declared[range] as MediaValidation };
  }
  return undefined;
}
