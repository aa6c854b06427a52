// Compiling a document as `npm run generate` does and loading its validation modules as the bundle
// does (through the registry's lazy loader), from a temporary folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteMatcher } from '../../shared/routes/route-table.ts';
import { FORM_BODIES } from '../../shared/validation/form.ts';
import { MULTIPART_BODIES } from '../../shared/validation/multipart.ts';
import { readDeepObject, STYLED } from '../../shared/validation/params.ts';
import { validationTable } from '../../shared/validation/registry.ts';
import type { Readers, ValidationTable } from '../../shared/validation/table.ts';
import type { OpenApiDocument } from '../../tools/openapi/document.ts';
import { routeTable } from '../../tools/openapi/routes.ts';
import {
  type CompiledValidators,
  type CompileOptions,
  compileDocument,
} from '../../tools/openapi/validators.ts';
import { PROJECT_ROOT } from '../../tools/paths.ts';

const requireFromProject = createRequire(join(PROJECT_ROOT, 'package.json'));

/** A compiled document, its modules written to a temporary folder and loaded on first use. */
export interface LoadedDocument {
  readonly compiled: CompiledValidators;
  readonly table: ValidationTable;
  readonly matcher: RouteMatcher;
  /** Module files loaded so far. */
  readonly loads: () => number;
}

/** Compiles `doc` and returns a validation table over the written modules. */
export function loadDocument(
  doc: OpenApiDocument,
  options: CompileOptions = { responseValidators: false },
  precompiled?: CompiledValidators,
): LoadedDocument {
  const compiled = precompiled ?? compileDocument(doc, options);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-validators-'));
  mkdirSync(dir, { recursive: true });
  for (const m of compiled.modules) writeFileSync(join(dir, m.file), m.content);
  if (compiled.formats !== undefined) writeFileSync(join(dir, 'formats.cjs'), compiled.formats);
  const requireHere = createRequire(join(dir, 'index.cjs'));
  let loads = 0;
  // The readers the generated table would hold for this document, and no other.
  const all: Readers = {
    form: FORM_BODIES,
    multipart: MULTIPART_BODIES,
    deepObject: readDeepObject,
    styled: STYLED,
  };
  const readers = Object.fromEntries(compiled.readers.map((r) => [r, all[r]]));
  const table = validationTable(
    {
      responseValidators: options.responseValidators,
      // As with esbuild's file loader: each entry gives the module's file path.
      operations: Object.fromEntries(compiled.modules.map((m) => [m.key, () => join(dir, m.file)])),
      // Package helpers from the project; the formats module from the folder, as index.cjs does.
      runtime: Object.fromEntries(
        compiled.runtime.map((name) => [
          name,
          () => (name.startsWith('./') ? requireHere(join(dir, name)) : requireFromProject(name)),
        ]),
      ),
    },
    {
      readers,
      load: (path) => {
        loads += 1;
        return requireHere(path);
      },
    },
  );
  return { compiled, table, matcher: new RouteMatcher(routeTable(doc)), loads: () => loads };
}
