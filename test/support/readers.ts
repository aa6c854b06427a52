// The readers' test document (test/fixtures/openapi/readers.yaml), compiled once per OpenAPI
// version as `npm run generate` does, and requests run through the validator's pure core.
import { readProxyEvent } from '../../shared/validation/proxy-event.ts';
import { type ValidationOutcome, validateRequest } from '../../shared/validation/validate-request.ts';
import { loadOpenApi } from '../../tools/openapi/document.ts';
import { type LoadedDocument, loadDocument } from './openapi.ts';

/** The OpenAPI versions the document is compiled as (its schemas mean the same in both). */
export const READER_VERSIONS = ['3.1.0', '3.0.3'] as const;
export type ReaderVersion = (typeof READER_VERSIONS)[number];

/** The limits the tests run with (the validator's defaults, but a smaller body limit). */
export const READER_LIMITS = { maxBytes: 65_536, maxDepth: 32 } as const;

const compiled = new Map<ReaderVersion, LoadedDocument>();

/** The readers document compiled as `version`. */
export function readersDocument(version: ReaderVersion = '3.1.0'): LoadedDocument {
  let doc = compiled.get(version);
  if (doc === undefined) {
    const source = loadOpenApi('test/fixtures/openapi/readers.yaml');
    doc = loadDocument({ ...source, openapi: version });
    compiled.set(version, doc);
  }
  return doc;
}

/** What a test request carries besides method and target. */
export interface RequestParts {
  /** Text is sent as is; bytes are sent base64-encoded (`isBase64Encoded`), as API Gateway does. */
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An HTTP API (payload 2.0) event for `METHOD /path?query`, as a `$default` route sends it. */
export function httpEvent(method: string, target: string, parts: RequestParts = {}): unknown {
  const [rawPath, rawQueryString = ''] = target.split(/\?(.*)/s);
  const binary = parts.body instanceof Uint8Array;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: {
      ...(parts.contentType === undefined ? {} : { 'content-type': parts.contentType }),
      ...parts.headers,
    },
    requestContext: { http: { method }, requestId: 'readers', stage: '$default' },
    ...(parts.body === undefined
      ? {}
      : {
          body: binary ? Buffer.from(parts.body as Uint8Array).toString('base64') : parts.body,
          isBase64Encoded: binary,
        }),
  };
}

/** Validates one request against the readers document. */
export function validateReaders(
  method: string,
  target: string,
  parts: RequestParts = {},
  version: ReaderVersion = '3.1.0',
  limits: { maxBytes: number; maxDepth: number } = READER_LIMITS,
): ValidationOutcome {
  const doc = readersDocument(version);
  return validateRequest(readProxyEvent(httpEvent(method, target, parts)), {
    matcher: doc.matcher,
    table: doc.table,
    limits,
  });
}

/** `ok`, or the problem's reason. */
export function reasonOf(outcome: ValidationOutcome): string {
  return outcome.ok ? 'ok' : outcome.problem.reason;
}

/** The validated body value (undefined when refused or bodiless). */
export function bodyValueOf(outcome: ValidationOutcome): unknown {
  if (!outcome.ok || outcome.request.body === undefined || outcome.request.body.kind === 'opaque')
    return undefined;
  return outcome.request.body.value;
}

/** A multipart/form-data body from parts written as text (latin1, so `\xff` is one byte). */
export function multipartBody(boundary: string, parts: readonly string[], close = '\r\n'): Buffer {
  const text = `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--${close}`;
  return Buffer.from(text, 'latin1');
}
