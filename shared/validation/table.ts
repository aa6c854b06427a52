/**
 * The shape of what `npm run generate` produces from the API document (docs/openapi.md): one
 * module per operation (precompiled ajv standalone functions plus what the run time needs to read
 * parameters and bodies), a registry that loads each module on first use, and the readers of what
 * only some documents declare (forms, multipart bodies, `deepObject` parameters).
 */
import type { ContentType } from './media.ts';
import type { ProblemError, ProblemReason } from './problem.ts';
import type { UpstreamBody, ValidatedBody } from './upstream-body.ts';

/** One ajv error, as the standalone functions report it (only the fields we read). */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
}

/** A precompiled ajv standalone validation function. */
export interface ValidateFunction {
  (data: unknown): boolean;
  errors?: readonly SchemaError[] | null;
}

/** A scalar type a text value (parameter, form field) may be read as. */
export type ScalarKind = 'integer' | 'number' | 'boolean' | 'string';

/**
 * What a schema admits, as far as reading text goes: the scalar kinds, and for objects and arrays
 * the shapes of their members (indexes into the operation's `shapes`, so recursive schemas stay
 * finite). Built from `type`, `enum`, `const`, `allOf`/`anyOf`/`oneOf` and `$ref`s.
 */
export interface Shape {
  /** Scalar kinds a text value may be read as; a value is read as the first kind it matches. */
  readonly scalars: readonly ScalarKind[];
  /** Declared properties when the value may be an object. */
  readonly properties?: Readonly<Record<string, number>>;
  /** Shape of undeclared properties when they are allowed (`additionalProperties`). */
  readonly additional?: number;
  /** Shape of array items when the value may be an array. */
  readonly items?: number;
}

/** How a parameter is written (OpenAPI `style`, or `json` for a `content`-encoded parameter). */
export type ParameterStyle =
  | 'simple'
  | 'form'
  | 'label'
  | 'matrix'
  | 'spaceDelimited'
  | 'pipeDelimited'
  | 'deepObject'
  | 'json';

/** Where a parameter is. */
export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';

/** A declared parameter. */
export interface ParameterRule {
  /** Name as declared (lower-cased for headers). */
  readonly name: string;
  readonly in: ParameterLocation;
  readonly required: boolean;
  readonly style: ParameterStyle;
  readonly explode: boolean;
  /** Index of the parameter's shape in the operation's `shapes`. */
  readonly shape: number;
}

/** How a request body of one media type is read. */
export type BodyKind = 'json' | 'form' | 'multipart' | 'opaque';

/** The validation of one declared request media type. */
export interface MediaValidation {
  readonly kind: BodyKind;
  /** Schema of the parsed body; absent for `opaque` bodies (size and content type only). */
  readonly validate?: ValidateFunction;
  /** Shape of the body (form and multipart fields are read by it). */
  readonly shape?: number;
  /** Form or multipart fields sent as JSON text (`encoding.<field>.contentType` is JSON). */
  readonly jsonFields?: readonly string[];
  /** Multipart fields that are files: their bytes are validated as a string of that many characters. */
  readonly fileFields?: readonly string[];
}

/** Everything checked for one operation. */
export interface OperationValidation {
  /** Validates `{ path, query, header, cookie }` objects of read parameter values. */
  readonly params: ValidateFunction;
  readonly parameters: readonly ParameterRule[];
  readonly shapes: readonly Shape[];
  /**
   * Request body validation by declared media range (`application/json`, `text/*`, `*\/*`);
   * null when the operation declares no body.
   */
  readonly body: {
    readonly required: boolean;
    readonly media: Readonly<Record<string, MediaValidation>>;
  } | null;
  /**
   * Response body validators by status (`200`, `4XX`, `default`) then media type; empty when the
   * document was generated without response validators.
   */
  readonly responses: Readonly<Record<string, Readonly<Record<string, ValidateFunction>>>>;
}

/** What a body reader gets: a non-empty body whose media type the operation declares. */
export interface BodyInput {
  readonly body: string;
  readonly isBase64Encoded: boolean;
  /** The request's Content-Type. */
  readonly contentType: ContentType;
  readonly media: MediaValidation;
  readonly shapes: readonly Shape[];
  /** MAX_BODY_BYTES. */
  readonly maxBytes: number;
  /** Nesting of bracket names, and MAX_JSON_DEPTH for JSON fields. */
  readonly limits: { readonly maxDepth: number; readonly maxIndex: number; readonly maxJsonDepth: number };
}

/** A body read and validated, or why it is refused. */
export type BodyOutcome =
  | { readonly ok: true; readonly body: ValidatedBody }
  | { readonly ok: false; readonly reason: ProblemReason; readonly errors?: readonly ProblemError[] };

/** Reads, validates and writes again the bodies of one kind (forms, multipart). */
export interface BodyReader {
  read(input: BodyInput): BodyOutcome;
  /** The body as forwarded (shared/validation/upstream-body.ts). */
  write(body: ValidatedBody): UpstreamBody;
}

/** Reads a `deepObject` query parameter; returns its value (undefined when not given). */
export type DeepObjectReader = (
  rule: ParameterRule,
  shape: Shape,
  shapes: readonly Shape[],
  query: ReadonlyMap<string, readonly string[]>,
  /** Query names read so far; the reader adds those it reads. */
  claimed: Set<string>,
  limits: { readonly maxDepth: number; readonly maxIndex: number },
  errors: ProblemError[],
) => unknown;

/**
 * Label and matrix values and objects in any style (shared/validation/params.ts `STYLED`): the
 * parameter reader handles simple, form, spaceDelimited and pipeDelimited scalars and arrays alone.
 */
export interface StyledReader {
  /** One value of a label or matrix parameter, or an object written in its style. */
  value(
    rule: ParameterRule,
    raw: string,
    shape: Shape,
    shapes: readonly Shape[],
  ): { ok: true; value: unknown } | { ok: false };
  /** The properties of an exploded form object, each a query name it claims. */
  formObject(
    rule: ParameterRule,
    shape: Shape,
    shapes: readonly Shape[],
    query: ReadonlyMap<string, readonly string[]>,
    claimed: Set<string>,
    errors: ProblemError[],
  ): Record<string, unknown>;
  /** A free-form query object (`additionalProperties`) takes every name no parameter claimed. */
  freeForm(
    rule: ParameterRule,
    shape: Shape,
    shapes: readonly Shape[],
    value: Record<string, unknown>,
    query: ReadonlyMap<string, readonly string[]>,
    claimed: Set<string>,
    errors: ProblemError[],
  ): void;
}

/**
 * The readers of what only some documents declare. The generated table passes those its document
 * needs, so a bundle holds no code for the others (docs/performance.md#bundles); a request that
 * would need a missing one is an internal error (the build and the modules disagree).
 */
export interface Readers {
  /** `application/x-www-form-urlencoded` bodies (shared/validation/form.ts). */
  readonly form?: BodyReader;
  /** `multipart/form-data` bodies (shared/validation/multipart.ts). */
  readonly multipart?: BodyReader;
  /** `deepObject` query parameters (shared/validation/params.ts). */
  readonly deepObject?: DeepObjectReader;
  /** Label and matrix values, objects in any style (shared/validation/params.ts). */
  readonly styled?: StyledReader;
}

/** The validation of every operation, loaded on first use. */
export interface ValidationTable {
  /** The readers the document needs beyond JSON bodies and the other parameter styles. */
  readonly readers: Readers;
  /** Route keys (`METHOD path`) that have a validation module. */
  readonly keys: readonly string[];
  /** True when the modules carry response validators (RESPONSE_VALIDATION needs them). */
  readonly responseValidators: boolean;
  /**
   * The validation of one route (`METHOD path`), loading its module the first time; undefined
   * when the route has none or its module cannot be loaded (callers refuse the request).
   */
  operation(key: string): OperationValidation | undefined;
}

/**
 * How the forwarder writes one query name again upstream (every value of `name`, repeated). The
 * validator hands it the names and values exactly as received and validated.
 */
export interface ParameterSpec {
  readonly name: string;
  readonly array: 'explode';
}
