/**
 * Reading text values (parameters, form fields) by the shape of their schema (table.ts `Shape`):
 * a string becomes a number or boolean only where the schema admits one and the text is exactly
 * such a value; everything else stays a string for the schema to judge. Bracket names
 * (`a[b][0]=x`, `a[]=x`) build nested objects and arrays, bounded in depth, width and index.
 */
import type { ProblemError } from './problem.ts';
import type { Shape } from './table.ts';

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Limits on nested names. */
export interface NestingLimits {
  /** Deepest nesting of `[...]` segments (the top-level name is depth 1). */
  readonly maxDepth: number;
  /** Largest array index accepted in `a[7]`. */
  readonly maxIndex: number;
}

/** The default limits for nested names (array indexes as Stripe-style APIs use them). */
export const DEFAULT_NESTING: NestingLimits = { maxDepth: 32, maxIndex: 999 };

const ANY: Shape = { scalars: ['string'] };
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/** The shape at an index (text when out of range). */
export function shapeAt(shapes: readonly Shape[], index: number | undefined): Shape {
  return (index === undefined ? undefined : shapes[index]) ?? ANY;
}

/** Reads one string by shape: the first scalar kind it is exactly, else the string. */
export function readScalar(raw: string, shape: Shape): unknown {
  for (const kind of shape.scalars) {
    switch (kind) {
      case 'integer':
        if (INTEGER.test(raw)) return Number(raw);
        break;
      case 'number':
        if (NUMBER.test(raw)) return Number(raw);
        break;
      case 'boolean':
        if (raw === 'true') return true;
        if (raw === 'false') return false;
        break;
      case 'string':
        return raw;
    }
  }
  return raw;
}

/** True when the shape admits an array. */
export function mayBeArray(shape: Shape): boolean {
  return shape.items !== undefined;
}

/** True when the shape admits an object. */
export function mayBeObject(shape: Shape): boolean {
  return shape.properties !== undefined || shape.additional !== undefined;
}

/** The shape of a member of an object or array value. */
export function memberShape(shapes: readonly Shape[], shape: Shape, key: string | number): Shape {
  if (typeof key === 'number') return shapeAt(shapes, shape.items);
  const declared = shape.properties !== undefined && Object.hasOwn(shape.properties, key);
  return shapeAt(shapes, declared ? shape.properties?.[key] : shape.additional);
}

/** Splits `a[b][0][]` into `a` and its segments (`b`, 0, `[]` as ''), or undefined when malformed. */
export function splitBracketName(name: string): { root: string; segments: string[] } | undefined {
  const open = name.indexOf('[');
  if (open < 0) return { root: name, segments: [] };
  if (open === 0) return undefined;
  const segments: string[] = [];
  let i = open;
  while (i < name.length) {
    if (name[i] !== '[') return undefined;
    const close = name.indexOf(']', i);
    if (close < 0) return undefined;
    const segment = name.slice(i + 1, close);
    if (segment.includes('[')) return undefined;
    segments.push(segment);
    i = close + 1;
  }
  return { root: name.slice(0, open), segments };
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/**
 * Places `value` at `segments` under `target[root]`: string segments make objects, digit segments
 * array items, `[]` appends. Conflicts (a value and an object at one place, a scalar given twice
 * where no array is admitted) become errors at `pointer`.
 */
export function assignNested(
  target: Record<string, unknown>,
  root: string,
  segments: readonly string[],
  raw: string,
  rootShape: Shape,
  shapes: readonly Shape[],
  limits: NestingLimits,
  pointer: string,
  errors: ProblemError[],
): void {
  if (segments.length + 1 > limits.maxDepth) {
    errors.push({ pointer, keyword: 'maxDepth', message: 'is nested too deeply' });
    return;
  }
  // As in JSON bodies: names a backend's parser may treat as the prototype are refused outright.
  if (FORBIDDEN_NAMES.has(root) || segments.some((s) => FORBIDDEN_NAMES.has(s))) {
    errors.push({ pointer, keyword: 'propertyNames', message: 'property name is not allowed' });
    return;
  }
  let container: Container = target;
  let key: string | number = root;
  let shape = rootShape;
  for (const segment of segments) {
    let next: Container;
    const existing: unknown = Array.isArray(container)
      ? container[key as number]
      : Object.hasOwn(container, key)
        ? container[key as string]
        : undefined;
    const wantsArray = segment === '' || /^(?:0|[1-9][0-9]*)$/.test(segment);
    if (existing === undefined) {
      next = wantsArray ? [] : Object.create(null);
      setMember(container, key, next);
    } else if (isContainer(existing) && Array.isArray(existing) === wantsArray) {
      next = existing;
    } else {
      errors.push({ pointer, keyword: 'type', message: 'is given both as a value and with nested names' });
      return;
    }
    let nextKey: string | number;
    if (segment === '') nextKey = (next as unknown[]).length;
    else if (wantsArray) nextKey = Number(segment);
    else nextKey = segment;
    if (typeof nextKey === 'number' && nextKey > limits.maxIndex) {
      errors.push({
        pointer,
        keyword: 'maxItems',
        message: `array index must be at most ${limits.maxIndex}`,
      });
      return;
    }
    // Array indexes must fill the array in order: no holes that a backend might read differently.
    if (typeof nextKey === 'number' && nextKey > (next as unknown[]).length) {
      errors.push({ pointer, keyword: 'items', message: 'array indexes must start at 0 and have no gaps' });
      return;
    }
    shape = memberShape(shapes, shape, nextKey);
    container = next;
    key = nextKey;
  }
  const leafShape = shape;
  const existing: unknown = Array.isArray(container)
    ? container[key as number]
    : Object.hasOwn(container, key)
      ? container[key as string]
      : undefined;
  if (existing === undefined) {
    // A field that can only be an array, given once (`tags=x`), is that array with one item, as
    // form style with explode writes it; a second `tags=y` appends below.
    const onlyArray = mayBeArray(leafShape) && !mayBeObject(leafShape) && leafShape.scalars.length === 0;
    setMember(
      container,
      key,
      onlyArray ? [readScalar(raw, memberShape(shapes, leafShape, 0))] : readScalar(raw, leafShape),
    );
    return;
  }
  // `a=1&a=2`: repeated names are an array only where the schema admits one.
  if (mayBeArray(leafShape) && !isContainer(existing)) {
    setMember(container, key, [existing, readScalar(raw, memberShape(shapes, leafShape, 0))]);
    return;
  }
  if (Array.isArray(existing) && mayBeArray(leafShape) && !existing.some(isContainer)) {
    existing.push(readScalar(raw, memberShape(shapes, leafShape, 0)));
    return;
  }
  errors.push({ pointer, keyword: 'type', message: 'must be given once' });
}

function setMember(container: Container, key: string | number, value: unknown): void {
  if (Array.isArray(container)) container[key as number] = value;
  // defineProperty: a `__proto__` name is data, never the prototype.
  else Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Objects built by `assignNested` have no prototype; ajv and the backend see plain objects, so
 * they are rebuilt as such (recursively), keeping `__proto__` and friends as own data properties.
 */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (!isContainer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member = plain((value as Record<string, unknown>)[key]);
    // Assignment would set the prototype for `__proto__`; every other key is plain data.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: member,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = member;
  }
  return out;
}
