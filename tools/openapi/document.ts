import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { HTTP_METHODS, type HttpMethod } from '../../shared/routes/route-table.ts';

/** A loaded OpenAPI document (3.0 or 3.1), as plain JSON. */
export interface OpenApiDocument {
  readonly openapi: string;
  /** The document's paths; `{}` for a 3.1 document that has none (webhooks or components only). */
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components?: Record<string, Record<string, unknown>>;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly [key: string]: unknown;
}

/** An OpenAPI problem found while reading the document; the message names the place. */
export class OpenApiError extends Error {
  override readonly name = 'OpenApiError';
}

/** Parses a document's text: JSON as JSON (much faster for large documents), anything else as YAML. */
export function parseOpenApiText(text: string, file: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all (a YAML flow mapping): YAML reads it, or says why not.
    }
  }
  try {
    return parse(text);
  } catch (err) {
    throw new OpenApiError(`${file}: not valid YAML or JSON: ${(err as Error).message}`);
  }
}

/** Reads and checks the top of an OpenAPI document. */
export function loadOpenApi(file: string): OpenApiDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OpenApiError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return checkOpenApi(parseOpenApiText(text, file), file);
}

/** Checks the top of a parsed document. */
export function checkOpenApi(doc: unknown, file: string): OpenApiDocument {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new OpenApiError(`${file}: not a YAML/JSON object`);
  const record = doc as Record<string, unknown>;
  if (typeof record.openapi !== 'string' || !/^3\.[01]\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(record.openapi)) {
    throw new OpenApiError(`${file}: "openapi" must be 3.0.x or 3.1.x`);
  }
  if (record.paths === undefined) {
    // 3.1 made `paths` optional (a document of webhooks or components only); 3.0 requires it.
    if (record.openapi.startsWith('3.0.')) throw new OpenApiError(`${file}: "paths" is missing`);
    return { ...record, paths: {} } as unknown as OpenApiDocument;
  }
  if (typeof record.paths !== 'object' || record.paths === null || Array.isArray(record.paths))
    throw new OpenApiError(`${file}: "paths" must be an object`);
  return record as unknown as OpenApiDocument;
}

/** True for OpenAPI 3.0.x documents (JSON Schema draft-04 dialect with `nullable`). */
export function isOpenApi30(doc: OpenApiDocument): boolean {
  return doc.openapi.startsWith('3.0.');
}

/** Decodes one JSON Pointer token (RFC 6901). */
export function unescapePointerToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Encodes one JSON Pointer token (RFC 6901). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A pointer's URI fragment form (`#/paths/~1orders/get`), as warnings print it. */
export function pointerOf(...tokens: readonly (string | number)[]): string {
  return `#${tokens.map((t) => `/${escapePointerToken(String(t))}`).join('')}`;
}

/** Resolves a local `$ref` (`#/components/...`); references to other files are refused. */
export function resolvePointer(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/') && ref !== '#')
    throw new OpenApiError(
      `$ref ${JSON.stringify(ref)} points outside the document; bundle the document into one file first (docs/openapi.md#one-file)`,
    );
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    if (ref === '#') break;
    let key: string;
    try {
      key = unescapePointerToken(decodeURIComponent(raw));
    } catch {
      throw new OpenApiError(`$ref ${ref} is not a valid URI fragment`);
    }
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) {
      throw new OpenApiError(`$ref ${ref} does not resolve`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows `$ref` chains on a Parameter / RequestBody / Response / Path Item object. */
export function deref<T>(doc: OpenApiDocument, node: unknown, seen: ReadonlySet<string> = new Set()): T {
  if (typeof node === 'object' && node !== null && typeof (node as { $ref?: unknown }).$ref === 'string') {
    const ref = (node as { $ref: string }).$ref;
    if (seen.has(ref)) throw new OpenApiError(`$ref cycle at ${ref}`);
    return deref<T>(doc, resolvePointer(doc, ref), new Set([...seen, ref]));
  }
  return node as T;
}

/** The pointer a (possibly referenced) object really lives at. */
export function derefPointer(doc: OpenApiDocument, node: unknown, at: string): string {
  let pointer = at;
  let current = node;
  const seen = new Set<string>();
  while (
    typeof current === 'object' &&
    current !== null &&
    typeof (current as { $ref?: unknown }).$ref === 'string'
  ) {
    const ref = (current as { $ref: string }).$ref;
    if (seen.has(ref)) break;
    seen.add(ref);
    pointer = ref;
    current = resolvePointer(doc, ref);
  }
  return pointer;
}

/** One operation of the document with its path-level items merged in. */
export interface Operation {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operationId: string;
  readonly operation: Record<string, unknown>;
  /** Where the operation is in the document (`#/paths/~1orders/post`). */
  readonly pointer: string;
  /** Path-level parameters followed by operation parameters (operation ones win by name + in). */
  readonly parameters: readonly Record<string, unknown>[];
  /** Where each of `parameters` is in the document. */
  readonly parameterPointers: readonly string[];
}

/** Every operation of the document, in document order. Webhooks are not routes: they are skipped. */
export function operations(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) throw new OpenApiError(`path ${JSON.stringify(path)} must start with "/"`);
    const itemPointer = derefPointer(doc, rawItem, pointerOf('paths', path));
    const item = deref<Record<string, unknown>>(doc, rawItem);
    if (typeof item !== 'object' || item === null)
      throw new OpenApiError(`${itemPointer}: a path item must be an object`);
    const collect = (list: unknown, at: string) => {
      if (list === undefined) return [];
      if (!Array.isArray(list)) throw new OpenApiError(`${at}: "parameters" must be a list`);
      return list.map((p, n) => ({
        param: deref<Record<string, unknown>>(doc, p),
        pointer: derefPointer(doc, p, `${at}/${n}`),
      }));
    };
    const shared = collect(item.parameters, `${itemPointer}/parameters`);
    for (const method of HTTP_METHODS) {
      const operation = item[method.toLowerCase()];
      if (typeof operation !== 'object' || operation === null) continue;
      const op = operation as Record<string, unknown>;
      const pointer = `${itemPointer}/${method.toLowerCase()}`;
      const own = collect(op.parameters, `${pointer}/parameters`);
      const merged = new Map<string, { param: Record<string, unknown>; pointer: string }>();
      for (const p of [...shared, ...own]) {
        const location = String(p.param.in);
        const name = location === 'header' ? String(p.param.name).toLowerCase() : String(p.param.name);
        merged.set(`${location}:${name}`, p);
      }
      out.push({
        method,
        path,
        operationId: typeof op.operationId === 'string' ? op.operationId : `${method} ${path}`,
        operation: op,
        pointer,
        parameters: [...merged.values()].map((p) => p.param),
        parameterPointers: [...merged.values()].map((p) => p.pointer),
      });
    }
  }
  return out;
}

/** The route key of an operation, as the validation registry is keyed. */
export function routeKey(op: { readonly method: string; readonly path: string }): string {
  return `${op.method} ${op.path}`;
}
