/**
 * The shape of the validation table generated from the API document (`shared/generated/
 * validation-table.ts`): precompiled ajv standalone functions plus what the run time needs to turn
 * parameter strings into typed values.
 */

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

/** How a parameter string becomes a value: only by its declared type. */
export type ParameterKind = 'string' | 'integer' | 'number' | 'boolean';

/** A declared parameter. */
export interface ParameterSpec {
  /** Name as declared (lower-cased for headers). */
  readonly name: string;
  readonly required: boolean;
  /** Scalar type of the value, or of each item for arrays. */
  readonly kind: ParameterKind;
  /** Array parameters: `explode` repeats the name (form), otherwise items are comma-separated. */
  readonly array: 'none' | 'explode' | 'comma';
}

/** Everything checked for one operation. */
export interface OperationValidation {
  /** Validates `{ path, query, header }` objects of typed parameter values. */
  readonly params: ValidateFunction;
  readonly path: readonly ParameterSpec[];
  readonly query: readonly ParameterSpec[];
  readonly header: readonly ParameterSpec[];
  /** Request body validators by media type (lower-case essence); null when no body is declared. */
  readonly body: {
    readonly required: boolean;
    readonly media: Readonly<Record<string, ValidateFunction>>;
  } | null;
  /** Response body validators by status code (`200`, `4XX`, `default`) then media type. */
  readonly responses: Readonly<Record<string, Readonly<Record<string, ValidateFunction>>>>;
}

/** Validation of every operation, by operationId. */
export type ValidationTable = Readonly<Record<string, OperationValidation>>;
