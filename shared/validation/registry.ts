/**
 * Loads the generated validation modules on first use, so a cold start parses only the registry,
 * not the validators of every operation of a large API (docs/openapi.md#large-apis).
 *
 * A module entry of the registry returns, when called, either the module itself (bundled by
 * esbuild, or loaded by Node from shared/generated/) or — when the bundle was built with the
 * `.validator.cjs=file` loader — the path of the module file esbuild copied beside the bundle, which
 * is then loaded from disk. Modules are factories that receive the ajv runtime helpers they name,
 * so a copied file needs nothing from node_modules.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileFunction } from 'node:vm';
import type {
  MediaValidation,
  OperationValidation,
  Readers,
  ValidateFunction,
  ValidationTable,
} from './table.ts';

/** What `shared/generated/validators/index.cjs` exports. */
export interface GeneratedRegistry {
  /** True when the modules were generated with response validators. */
  readonly responseValidators: boolean;
  /** One entry per route key (`METHOD path`). */
  readonly operations: Readonly<Record<string, () => unknown>>;
  /** The ajv runtime helpers the modules use, by the name ajv's code gives them. */
  readonly runtime: Readonly<Record<string, () => unknown>>;
}

type Factory = (runtime: (name: string) => unknown) => OperationValidation;

/**
 * Loads a module file esbuild copied beside the bundle: read, compiled as a CommonJS module's
 * function and run with its own `module`, as `require` does for such a file — without Node's
 * CommonJS loader, whose first use (resolution, package.json lookups) cost the first request of a
 * cold start 3–5 ms. The modules use nothing but `module.exports`. Paths are the file names esbuild
 * wrote into the registry, resolved against the bundle's own location; never a request's.
 */
function loadBesideBundle(path: string): unknown {
  const filename = fileURLToPath(new URL(path, import.meta.url));
  const module: { exports: unknown } = { exports: {} };
  compileFunction(readFileSync(filename, 'utf8'), ['module', 'exports'], { filename })(
    module,
    module.exports,
  );
  return module.exports;
}

/** Object.prototype gained an enumerable property: the validators could read it as the request's. */
export class PrototypePollutedError extends Error {
  override readonly name = 'PrototypePollutedError';
}

const EMPTY = {};

/**
 * The generated validators read `data.name` (ajv without `ownProperties`, tools/openapi/validators.ts):
 * an object parsed from a request inherits nothing but Object.prototype's own properties, which the
 * build checks no schema names. A property added to Object.prototype at run time (prototype
 * pollution, always by assignment, so enumerable) would be inherited by every object: then no
 * request is validated (the caller answers 500), rather than one validated with a value it lacks.
 */
function guarded(validate: ValidateFunction): ValidateFunction {
  const check = ((data: unknown) => {
    for (const _polluted in EMPTY) throw new PrototypePollutedError('Object.prototype was modified');
    const valid = validate(data);
    check.errors = validate.errors ?? null;
    return valid;
  }) as ValidateFunction;
  return check;
}

function guardedOperation(operation: OperationValidation): OperationValidation {
  const media = (entries: Readonly<Record<string, MediaValidation>>) =>
    Object.fromEntries(
      Object.entries(entries).map(([type, m]) => [
        type,
        m.validate === undefined ? m : { ...m, validate: guarded(m.validate) },
      ]),
    );
  return {
    ...operation,
    params: guarded(operation.params),
    body: operation.body === null ? null : { ...operation.body, media: media(operation.body.media) },
    responses: Object.fromEntries(
      Object.entries(operation.responses).map(([status, byType]) => [
        status,
        Object.fromEntries(Object.entries(byType).map(([type, v]) => [type, guarded(v)])),
      ]),
    ),
  };
}

/** What a validation table is built with besides the registry. */
export interface ValidationTableOptions {
  /** The readers the document needs (generated: shared/generated/validation-table.ts). */
  readonly readers?: Readers;
  /** Reads a copied module file (tests pass a fake). */
  readonly load?: (path: string) => unknown;
}

/** A validation table over a generated registry. */
export function validationTable(
  registry: GeneratedRegistry,
  options: ValidationTableOptions = {},
): ValidationTable {
  const load = options.load ?? loadBesideBundle;
  const loaded = new Map<string, OperationValidation>();
  const runtime = (name: string): unknown => {
    const entry = Object.hasOwn(registry.runtime, name) ? registry.runtime[name] : undefined;
    if (entry === undefined) throw new Error(`validator runtime ${name} is not in the registry`);
    return entry();
  };
  return {
    readers: options.readers ?? {},
    keys: Object.keys(registry.operations),
    responseValidators: registry.responseValidators,
    operation(key) {
      const cached = loaded.get(key);
      if (cached !== undefined) return cached;
      const entry = Object.hasOwn(registry.operations, key) ? registry.operations[key] : undefined;
      if (entry === undefined) return undefined;
      try {
        const module = entry();
        const factory = (typeof module === 'string' ? load(module) : module) as Factory;
        if (typeof factory !== 'function') return undefined;
        const operation = guardedOperation(factory(runtime));
        loaded.set(key, operation);
        return operation;
      } catch {
        // Fail closed: the caller refuses a route whose validators cannot be loaded.
        return undefined;
      }
    },
  };
}
