/**
 * Shapes: what a schema admits, reduced to what reading text values needs (shared/validation/
 * table.ts `Shape`). Parameters and form fields arrive as strings; the shape says which scalar
 * types a string may be read as and what nested names mean, through `type`, `enum`, `const`,
 * `allOf`/`anyOf`/`oneOf` and `$ref`s — so `anyOf: [{type: integer}, {type: object}]` reads `5`
 * as a number and `created[gt]=5` as `{gt: 5}`.
 */
import type { ScalarKind, Shape } from '../../shared/validation/table.ts';
import { isSchemaObject, type Schema } from './schema.ts';

const ORDER: readonly ScalarKind[] = ['integer', 'number', 'boolean', 'string'];

interface Gathered {
  scalars: Set<ScalarKind>;
  object: boolean;
  array: boolean;
  properties: Map<string, unknown[]>;
  additional: unknown[];
  items: unknown[];
}

/** Builds the shapes of one operation; `resolve` follows local `$ref`s. */
export class ShapeBuilder {
  readonly shapes: Shape[] = [];
  readonly #memo = new Map<string, number>();
  readonly #ids = new WeakMap<object, number>();
  #nextId = 0;

  constructor(private readonly resolve: (ref: string) => unknown) {}

  /** The index of the shape of a schema (or of the union of several). */
  build(schemas: readonly unknown[], depth = 0): number {
    const key = schemas.map((s) => (isSchemaObject(s) ? this.#id(s) : String(s))).join(',');
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const index = this.shapes.length;
    this.shapes.push({ scalars: ['string'] });
    this.#memo.set(key, index);
    // Deeper than any request can nest: read as text, and the schema decides.
    if (depth > 32) return index;
    const g: Gathered = {
      scalars: new Set(),
      object: false,
      array: false,
      properties: new Map(),
      additional: [],
      items: [],
    };
    for (const s of schemas) this.#gather(s, g, new Set(), 0);
    const scalars = ORDER.filter((k) => g.scalars.has(k));
    const shape: {
      scalars: readonly ScalarKind[];
      properties?: Record<string, number>;
      additional?: number;
      items?: number;
    } = { scalars: scalars.length > 0 || g.object || g.array ? scalars : ['string'] };
    if (g.object) {
      shape.properties = Object.fromEntries(
        [...g.properties].map(([name, list]) => [name, this.build(list, depth + 1)]),
      );
      if (g.additional.length > 0) shape.additional = this.build(g.additional, depth + 1);
    }
    if (g.array)
      shape.items = g.items.length > 0 ? this.build(g.items, depth + 1) : this.build([{}], depth + 1);
    this.shapes[index] = shape;
    return index;
  }

  #id(s: object): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(s, id);
    }
    return id;
  }

  #gather(schema: unknown, g: Gathered, seen: Set<object>, depth: number): void {
    if (!isSchemaObject(schema) || seen.has(schema) || depth > 64) {
      // `true`, `{}` or a cycle: anything goes, read as text.
      if (schema === true) g.scalars.add('string');
      return;
    }
    seen.add(schema);
    const node: Schema = schema;
    if (typeof node.$ref === 'string') {
      let target: unknown;
      try {
        target = this.resolve(node.$ref);
      } catch {
        target = undefined;
      }
      this.#gather(target, g, seen, depth + 1);
    }
    for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = node[k];
      if (Array.isArray(list)) for (const s of list) this.#gather(s, g, seen, depth + 1);
    }
    const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
    for (const t of types) {
      if (t === 'object') g.object = true;
      else if (t === 'array') g.array = true;
      else if (t === 'integer' || t === 'number' || t === 'boolean' || t === 'string') g.scalars.add(t);
    }
    const values = [...(Array.isArray(node.enum) ? node.enum : []), ...('const' in node ? [node.const] : [])];
    for (const v of values) {
      if (typeof v === 'string') g.scalars.add('string');
      else if (typeof v === 'boolean') g.scalars.add('boolean');
      else if (typeof v === 'number') g.scalars.add(Number.isInteger(v) ? 'integer' : 'number');
    }
    if (isSchemaObject(node.properties)) {
      g.object = true;
      for (const [name, s] of Object.entries(node.properties)) {
        const list = g.properties.get(name) ?? [];
        list.push(s);
        g.properties.set(name, list);
      }
    }
    if (isSchemaObject(node.additionalProperties)) {
      g.object = true;
      g.additional.push(node.additionalProperties);
    } else if (node.additionalProperties === true) g.additional.push({});
    if (isSchemaObject(node.items)) {
      g.array = true;
      g.items.push(node.items);
    } else if (Array.isArray(node.prefixItems) || Array.isArray(node.items)) g.array = true;
    const untyped =
      types.length === 0 &&
      values.length === 0 &&
      typeof node.$ref !== 'string' &&
      !['allOf', 'anyOf', 'oneOf', 'properties', 'additionalProperties', 'items'].some((k) => k in node);
    // A schema that says nothing about type admits any value: text stays text.
    if (untyped) g.scalars.add('string');
  }
}
