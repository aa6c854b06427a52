/**
 * `multipart/form-data` bodies (RFC 7578), read strictly: the body starts with the first boundary
 * (no preamble), lines end with CRLF, every part has a `Content-Disposition: form-data` whose
 * parameters parse and include a name, part headers are bounded `token: value` lines without
 * control characters, and nothing but an optional CRLF follows the closing boundary. Text parts
 * must be UTF-8 (and say no other charset); file parts (a filename, or a field the document
 * declares binary) keep their bytes. The body forwarded upstream is written again from the parts
 * read (upstream-body.ts), names as read, so the backend sees exactly the parts that were
 * validated. Limits and reasons: docs/openapi.md#multipart-parts.
 */
import { randomBytes } from 'node:crypto';
import { bodyBytes } from './body.ts';
import { type FormPair, fieldsOutcome, readFields } from './form.ts';
import { isUtf8, parseContentType } from './media.ts';
import type { ProblemError } from './problem.ts';
import type { BodyReader, MediaValidation } from './table.ts';

/** One part. */
export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  /** The part's Content-Type as sent, when it has one. */
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
}

/** Most parts accepted in one body. */
export const MAX_PARTS = 1000;
/** Largest header block of one part. */
export const MAX_PART_HEADER_BYTES = 8192;

const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const CRLF = /* @__PURE__ */ Buffer.from('\r\n');
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const STRICT_UTF8 = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for a boundary RFC 2046 §5.1.1 allows. */
export function isValidBoundary(boundary: string): boolean {
  return BOUNDARY.test(boundary);
}

// One `; name=value` parameter, anchored where the previous one ended (RFC 6266 §4.1 grammar,
// with the optional whitespace RFC 9110 §5.6.6 allows around `;`): a token name (RFC 9110
// §5.6.2), and a quoted-string or a run of characters with no separator in it. No backslash in
// either: parsers disagree on quoted-pairs (`"a\"b"` is `a"b` to some, `a\` and garbage to
// others; browsers write `%22` instead), so a name with one could reach the backend as another.
const PARAMETER = /[ \t]*;[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*(?:"([^"\\\r\n]*)"|([^;\s"\\]+))/y;

/**
 * The parameters of a `Content-Disposition: form-data` value, read left to right as the grammar
 * says (so `filename="x; name=y"` is a filename, never a name), with lower-case names; undefined
 * when the value is not `form-data` or anything in it is not a parameter, or a parameter repeats
 * (a backend could read either one).
 */
function formDataParameters(value: string): Map<string, string> | undefined {
  const type = /^form-data/i.exec(value);
  if (type === null) return undefined;
  const params = new Map<string, string>();
  let at = type[0].length;
  while (at < value.length) {
    PARAMETER.lastIndex = at;
    const m = PARAMETER.exec(value);
    if (m === null) return /^[ \t]*;?[ \t]*$/.test(value.slice(at)) ? params : undefined;
    const name = (m[1] as string).toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, m[2] ?? (m[3] as string));
    at = PARAMETER.lastIndex;
  }
  return params;
}

/** The parts of a body, or undefined when it is not well-formed multipart/form-data. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  if (!body.subarray(0, delimiter.length).equals(delimiter)) return undefined;
  let at = delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    // After a boundary: `--` closes the body, CRLF opens a part.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) {
      const rest = body.subarray(at + 2);
      return rest.length === 0 || rest.equals(CRLF) ? parts : undefined;
    }
    if (!body.subarray(at, at + 2).equals(CRLF)) return undefined;
    at += 2;
    if (parts.length >= MAX_PARTS) return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const blank = body.subarray(at, at + 2).equals(CRLF);
    const end = blank ? at : headerEnd;
    if (end < 0 || end - at > MAX_PART_HEADER_BYTES) return undefined;
    let headerText: string;
    try {
      headerText = STRICT_UTF8.decode(body.subarray(at, end));
    } catch {
      return undefined;
    }
    const headers = new Map<string, string>();
    for (const line of blank ? [] : headerText.split('\r\n')) {
      // `name:` with a token name right before the colon (RFC 9110 §5.1), and no control
      // character but tab: a bare CR or LF, or a folded line, is read as a new header by some
      // parsers and as part of the value by others.
      const colon = line.indexOf(':');
      if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon)) || CONTROL.test(line)) return undefined;
      const name = line.slice(0, colon).toLowerCase();
      if (headers.has(name)) return undefined;
      headers.set(name, line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition');
    const params = disposition === undefined ? undefined : formDataParameters(disposition);
    const name = params?.get('name');
    const filename = params?.get('filename');
    // filename* (RFC 5987 encoding) is not for multipart/form-data (RFC 7578 §4.2).
    if (name === undefined || name === '' || params?.has('filename*') !== false) return undefined;
    // Only identity transfer encodings: a backend that decodes others would read other bytes.
    const transfer = headers.get('content-transfer-encoding')?.toLowerCase();
    if (transfer !== undefined && !['binary', '8bit', '7bit'].includes(transfer)) return undefined;
    const start = blank ? at + 2 : end + 4;
    const next = body.indexOf(separator, start);
    if (next < 0) return undefined;
    parts.push({
      name,
      filename,
      contentType: headers.get('content-type'),
      bytes: body.subarray(start, next),
    });
    at = next + separator.length;
  }
}

/**
 * The parts as named text values (form.ts `readFields` reads them): text parts decoded as UTF-8,
 * file parts as one character per byte (so `maxLength` bounds a file's size in bytes).
 * Undefined when a text part is not UTF-8, or its Content-Type is not one or names another charset
 * (a backend that honours it would read other text than was validated).
 */
export function multipartFields(
  parts: readonly MultipartPart[],
  media: MediaValidation,
): FormPair[] | undefined {
  const out: FormPair[] = [];
  for (const part of parts) {
    const isFile = part.filename !== undefined || media.fileFields?.includes(part.name) === true;
    if (isFile) {
      out.push([part.name, part.bytes.toString('latin1')]);
      continue;
    }
    const type = part.contentType === undefined ? undefined : parseContentType(part.contentType);
    if (part.contentType !== undefined && (type === undefined || !isUtf8(type))) return undefined;
    try {
      out.push([part.name, STRICT_UTF8.decode(part.bytes)]);
    } catch {
      return undefined;
    }
  }
  return out;
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

/** A fresh boundary for the body forwarded. */
export function newBoundary(): string {
  return `gatehouse-${randomBytes(16).toString('hex')}`;
}

/**
 * The validated parts as forwarded: in order, with `boundary`, and only the headers read
 * (Content-Disposition with name and filename, Content-Type).
 */
export function writeMultipart(parts: readonly MultipartPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name=${quoted(part.name)}${part.filename === undefined ? '' : `; filename=${quoted(part.filename)}`}`;
    const type =
      part.contentType === undefined ? '' : `Content-Type: ${part.contentType.replace(/[\r\n]/g, '')}\r\n`;
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      part.bytes,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** `multipart/form-data` bodies, for documents that declare them. */
export const MULTIPART_BODIES: BodyReader = {
  read({ body, isBase64Encoded, contentType, media, shapes, maxBytes, limits }) {
    const boundary = contentType.params.get('boundary');
    if (boundary === undefined || !isValidBoundary(boundary))
      return { ok: false, reason: 'multipart_invalid' };
    const bytes = bodyBytes(body, isBase64Encoded, maxBytes);
    if (!bytes.ok) return bytes;
    const parts = parseMultipart(bytes.bytes, boundary);
    const fields = parts === undefined ? undefined : multipartFields(parts, media);
    if (parts === undefined || fields === undefined) return { ok: false, reason: 'multipart_invalid' };
    const errors: ProblemError[] = [];
    const value = readFields(fields, media, shapes, limits, errors);
    const outcome = fieldsOutcome(media, value, errors);
    return outcome.ok
      ? { ok: true, body: { kind: 'multipart', mediaType: contentType.essence, parts, value } }
      : outcome;
  },
  write(body) {
    const boundary = newBoundary();
    return {
      contentType: `multipart/form-data; boundary=${boundary}`,
      content: body.kind === 'multipart' ? writeMultipart(body.parts, boundary) : Buffer.alloc(0),
    };
  },
};
