/**
 * `multipart/form-data` bodies (RFC 7578), read strictly: the body starts with the first boundary
 * (no preamble), every part has a `Content-Disposition: form-data` with a name, part headers are
 * bounded, and nothing but an optional CRLF follows the closing boundary. Text parts must be UTF-8;
 * file parts (a filename, or a field the document declares binary) keep their bytes. The body
 * forwarded upstream is written again from the parts read (upstream-body.ts), so the backend sees
 * exactly the parts that were validated.
 */
import type { FormPair } from './form.ts';
import type { MediaValidation } from './table.ts';

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
const CRLF = Buffer.from('\r\n');
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for a boundary RFC 2046 §5.1.1 allows. */
export function isValidBoundary(boundary: string): boolean {
  return BOUNDARY.test(boundary);
}

/** A quoted-string or token parameter of a header (`name="a b"`), undefined when absent or malformed. */
function headerParam(value: string, param: string): string | undefined | null {
  const re = new RegExp(`;\\s*${param}\\s*=\\s*(?:"((?:[^"\\\\\\r\\n]|\\\\[^\\r\\n])*)"|([^;\\s"]+))`, 'gi');
  const matches = [...value.matchAll(re)];
  if (matches.length === 0) return undefined;
  // A parameter given twice could be read either way by the backend: refused.
  if (matches.length > 1) return null;
  const [m] = matches;
  return m?.[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m?.[2] ?? null);
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
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (headers.has(name)) return undefined;
      headers.set(name, line.slice(colon + 1).trim());
    }
    const disposition = headers.get('content-disposition');
    if (disposition === undefined || !/^form-data\s*(?:;|$)/i.test(disposition)) return undefined;
    const name = headerParam(disposition, 'name');
    const filename = headerParam(disposition, 'filename');
    if (name === undefined || name === null || name === '' || filename === null) return undefined;
    // Only identity transfer encodings: a backend that decodes others would read other bytes.
    const transfer = headers.get('content-transfer-encoding')?.toLowerCase();
    if (transfer !== undefined && !['binary', '8bit', '7bit'].includes(transfer)) return undefined;
    if (/filename\*/i.test(disposition)) return undefined;
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
 * Undefined when a text part is not UTF-8.
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
    try {
      out.push([part.name, STRICT_UTF8.decode(part.bytes)]);
    } catch {
      return undefined;
    }
  }
  return out;
}
