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
import { randomBytes } from 'node:crypto';
import type { FormPair } from './form.ts';
import type { MultipartPart } from './multipart.ts';

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

/** Percent-encodes a form name or value. */
function formEncode(text: string): string {
  return encodeURIComponent(text);
}

/**
 * A quoted-string for a Content-Disposition parameter: the name as read, so the backend reads the
 * name that was validated. The reader refuses `"`, `\` and control characters in names, so there is
 * nothing to escape; were one ever given, it is percent-encoded as browsers do (WHATWG HTML
 * multipart/form-data encoding), which keeps the framing intact.
 */
function quoted(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must not reach the header
  return `"${text.replace(/["\\\x00-\x1f\x7f]/g, (c) => encodeURIComponent(c))}"`;
}

/** Writes the validated body for the backend. `boundary` is injected by tests. */
export function upstreamBody(
  body: ValidatedBody,
  boundary: () => string = () => `gatehouse-${randomBytes(16).toString('hex')}`,
): UpstreamBody {
  switch (body.kind) {
    case 'json':
      return { contentType: body.mediaType, content: JSON.stringify(body.value) };
    case 'form':
      return {
        contentType: 'application/x-www-form-urlencoded',
        content: body.pairs.map(([n, v]) => `${formEncode(n)}=${formEncode(v)}`).join('&'),
      };
    case 'multipart': {
      const b = boundary();
      const chunks: Buffer[] = [];
      for (const part of body.parts) {
        const disposition = `form-data; name=${quoted(part.name)}${part.filename === undefined ? '' : `; filename=${quoted(part.filename)}`}`;
        const type =
          part.contentType === undefined
            ? ''
            : `Content-Type: ${part.contentType.replace(/[\r\n]/g, '')}\r\n`;
        chunks.push(
          Buffer.from(`--${b}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
          part.bytes,
          Buffer.from('\r\n'),
        );
      }
      chunks.push(Buffer.from(`--${b}--\r\n`));
      return { contentType: `multipart/form-data; boundary=${b}`, content: Buffer.concat(chunks) };
    }
    case 'opaque':
      return { contentType: body.contentType, content: body.bytes };
  }
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
