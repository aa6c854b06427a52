/**
 * What the forwarder sends upstream for a validated request: the body and query exactly as
 * validated, written in one canonical way so the backend cannot read them differently.
 *
 * - JSON: the validated value, serialized again (one spelling of every value; duplicate keys, BOMs
 *   and the like were refused already).
 * - URL-encoded forms: the validated pairs in their order, each name and value percent-encoded
 *   (`encodeURIComponent`), joined with `&`.
 * - multipart/form-data: the validated parts in their order, written again with a fresh boundary
 *   and only the headers that were read (Content-Disposition with name and filename, Content-Type).
 * - Other media types (validated by size and content type only): the bytes as received, with the
 *   Content-Type as received.
 */
import { FORM_BODIES, type FormPair } from './form.ts';
import { type MultipartPart, newBoundary, writeMultipart } from './multipart.ts';
import type { Readers } from './table.ts';

/** A validated request body. */
export type ValidatedBody =
  | { readonly kind: 'json'; readonly mediaType: string; readonly value: unknown }
  | {
      readonly kind: 'form';
      readonly mediaType: string;
      readonly pairs: readonly FormPair[];
      readonly value: unknown;
    }
  | {
      readonly kind: 'multipart';
      readonly mediaType: string;
      readonly parts: readonly MultipartPart[];
      readonly value: unknown;
    }
  | {
      readonly kind: 'opaque';
      readonly mediaType: string;
      readonly contentType: string;
      readonly bytes: Buffer;
    };

/** The body as sent upstream: its Content-Type and content. */
export interface UpstreamBody {
  readonly contentType: string;
  /** Text for JSON and forms, bytes for multipart and opaque bodies. */
  readonly content: string | Uint8Array;
}

/**
 * Writes the validated body for the backend, forms and multipart bodies by their reader (the
 * generated table holds the readers its document needs).
 */
export function writeBody(body: ValidatedBody, readers: Readers): UpstreamBody {
  switch (body.kind) {
    case 'json':
      return { contentType: body.mediaType, content: JSON.stringify(body.value) };
    case 'opaque':
      return { contentType: body.contentType, content: body.bytes };
    default: {
      const reader = readers[body.kind];
      if (reader === undefined) throw new Error(`no reader of ${body.kind} bodies`);
      return reader.write(body);
    }
  }
}

/** Writes any validated body for the backend. `boundary` is injected by tests. */
export function upstreamBody(body: ValidatedBody, boundary: () => string = newBoundary): UpstreamBody {
  if (body.kind !== 'multipart') return writeBody(body, { form: FORM_BODIES });
  const b = boundary();
  return { contentType: `multipart/form-data; boundary=${b}`, content: writeMultipart(body.parts, b) };
}

/**
 * The query as sent upstream: every received name (all of them declared and validated) with its
 * values as received, in the forwarder's `querySpecs`/`query` form (each value written again,
 * percent-encoded, under its name).
 */
export function upstreamQuery(raw: ReadonlyMap<string, readonly string[]>): {
  readonly specs: { readonly name: string; readonly array: 'explode' }[];
  readonly values: Record<string, readonly string[]>;
} {
  const specs: { name: string; array: 'explode' }[] = [];
  const values: Record<string, readonly string[]> = {};
  for (const [name, list] of raw) {
    specs.push({ name, array: 'explode' });
    Object.defineProperty(values, name, { value: list, enumerable: true });
  }
  return { specs, values };
}
