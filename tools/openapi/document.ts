import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { HTTP_METHODS, type HttpMethod } from '../../shared/routes/route-table.ts';

/** A loaded OpenAPI document (3.0 or 3.1), as plain JSON. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components?: Record<string, Record<string, unknown>>;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly [key: string]: unknown;
}

/** An OpenAPI problem found while reading the document; the message names the place. */
export class OpenApiError extends Error {
  override readonly name = 'OpenApiError';
}

/** Reads and checks the top of an OpenAPI document. */
export function loadOpenApi(file: string): OpenApiDocument {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (typeof doc !== 'object' || doc === null) throw new OpenApiError(`${file}: not a YAML/JSON object`);
  const record = doc as Record<string, unknown>;
  if (typeof record.openapi !== 'string' || !/^3\.[01]\.\d+$/.test(record.openapi)) {
    throw new OpenApiError(`${file}: "openapi" must be 3.0.x or 3.1.x`);
  }
  if (typeof record.paths !== 'object' || record.paths === null)
    throw new OpenApiError(`${file}: "paths" is missing`);
  return record as unknown as OpenApiDocument;
}

/** True for OpenAPI 3.0.x documents (JSON Schema draft-04 dialect with `nullable`). */
export function isOpenApi30(doc: OpenApiDocument): boolean {
  return doc.openapi.startsWith('3.0.');
}

/** Resolves a local `$ref` (`#/components/...`); external references are refused. */
export function resolvePointer(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/'))
    throw new OpenApiError(`only local $ref values are supported, got ${JSON.stringify(ref)}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) {
      throw new OpenApiError(`$ref ${ref} does not resolve`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows `$ref` chains on a Parameter / RequestBody / Response object. */
export function deref<T>(doc: OpenApiDocument, node: unknown, seen: ReadonlySet<string> = new Set()): T {
  if (typeof node === 'object' && node !== null && typeof (node as { $ref?: unknown }).$ref === 'string') {
    const ref = (node as { $ref: string }).$ref;
    if (seen.has(ref)) throw new OpenApiError(`$ref cycle at ${ref}`);
    return deref<T>(doc, resolvePointer(doc, ref), new Set([...seen, ref]));
  }
  return node as T;
}

/** One operation of the document with its path-level items merged in. */
export interface Operation {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operationId: string;
  readonly operation: Record<string, unknown>;
  /** Path-level parameters followed by operation parameters (operation ones win by name + in). */
  readonly parameters: readonly Record<string, unknown>[];
}

/** Every operation of the document, in document order. */
export function operations(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    if (!path.startsWith('/')) throw new OpenApiError(`path ${JSON.stringify(path)} must start with "/"`);
    const item = deref<Record<string, unknown>>(doc, rawItem);
    const shared = ((item.parameters as unknown[] | undefined) ?? []).map((p) =>
      deref<Record<string, unknown>>(doc, p),
    );
    for (const method of HTTP_METHODS) {
      const operation = item[method.toLowerCase()];
      if (typeof operation !== 'object' || operation === null) continue;
      const op = operation as Record<string, unknown>;
      const own = ((op.parameters as unknown[] | undefined) ?? []).map((p) =>
        deref<Record<string, unknown>>(doc, p),
      );
      const merged = new Map<string, Record<string, unknown>>();
      for (const p of [...shared, ...own]) merged.set(`${String(p.in)}:${String(p.name)}`, p);
      out.push({
        method,
        path,
        operationId: typeof op.operationId === 'string' ? op.operationId : `${method} ${path}`,
        operation: op,
        parameters: [...merged.values()],
      });
    }
  }
  return out;
}
