import {
  BOUND_VALUE_MAX_LENGTH,
  CREDENTIAL_ATTRIBUTES,
  type CredentialAttribute,
  type PathBinding,
} from '../../shared/routes/path-binding.ts';
import {
  parseTemplate,
  type Route,
  type RouteTable,
  RouteTemplateError,
} from '../../shared/routes/route-table.ts';
import { deref, type OpenApiDocument, OpenApiError, type Operation, operations } from './document.ts';
import { AUTHTYPE_EXTENSION, isSigV4Scheme } from './gateway-operations.ts';

/** The extension that makes a path parameter span several segments (docs/policies.md#routing). */
export const GREEDY_EXTENSION = 'x-gatehouse-greedy';

/** The extension that binds a path parameter to the caller (docs/tenant-binding.md). */
export const BIND_EXTENSION = 'x-gatehouse-bind';

// Schema keywords a bound value is checked against, and annotations: anything else (a `format`, a
// `not`) would let values through that the parameter's schema refuses, so it is refused.
const BOUND_SCHEMA_KEYWORDS = new Set([
  'type',
  'pattern',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'title',
  'description',
  'example',
  'examples',
  'default',
  'deprecated',
]);

/**
 * The binding of a path parameter with `x-gatehouse-bind`, checked against what can be made exact
 * (docs/tenant-binding.md#what-can-be-bound): a required path parameter whose schema is a string
 * bounded by an `enum`/`const`, or by a `pattern` and a `maxLength`. Undefined without the extension.
 */
function bindingOf(
  doc: OpenApiDocument,
  { operationId, path }: Operation,
  param: Record<string, unknown>,
): PathBinding | undefined {
  const raw = param[BIND_EXTENSION];
  if (raw === undefined) return undefined;
  const name = String(param.name);
  const refuse = (why: string): never => {
    throw new OpenApiError(`${operationId} (${path}): ${BIND_EXTENSION} on parameter "${name}": ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    refuse('must be an object with "claim" and/or "credential"');
  const spec = raw as Record<string, unknown>;
  for (const key of Object.keys(spec))
    if (key !== 'claim' && key !== 'credential') refuse(`unknown field "${key}" (claim, credential)`);
  if (spec.claim === undefined && spec.credential === undefined)
    refuse('names neither a claim nor a credential attribute');
  if (spec.claim !== undefined && (typeof spec.claim !== 'string' || spec.claim === ''))
    refuse('"claim" must be a non-empty string (a JWT claim name)');
  if (
    spec.credential !== undefined &&
    !(CREDENTIAL_ATTRIBUTES as readonly unknown[]).includes(spec.credential)
  )
    refuse(`"credential" must be one of ${CREDENTIAL_ATTRIBUTES.join(', ')}`);
  if (param.in !== 'path') refuse('only path parameters can be bound');
  if (param.required !== true) refuse('a bound parameter must be required');
  if (param.content !== undefined) refuse('a bound parameter needs a schema, not content');
  const schema = deref<Record<string, unknown>>(doc, param.schema);
  if (typeof schema !== 'object' || schema === null) refuse('a bound parameter needs a schema');
  for (const key of Object.keys(schema))
    if (!BOUND_SCHEMA_KEYWORDS.has(key) && !key.startsWith('x-'))
      refuse(`its schema uses "${key}", which a bound value is not checked against`);
  const type = schema.type;
  if (type !== 'string' && !(Array.isArray(type) && type.length === 1 && type[0] === 'string'))
    refuse('its schema must be type: string');
  const listed =
    schema.const !== undefined ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
  if (listed !== undefined && !listed.every((v) => typeof v === 'string'))
    refuse('its enum values must be strings');
  const values = listed as string[] | undefined;
  if (schema.pattern !== undefined && typeof schema.pattern !== 'string')
    refuse('its pattern must be a string');
  if (values === undefined && schema.pattern === undefined)
    refuse('its schema needs a pattern (with maxLength) or an enum: an unbounded string cannot be bound');
  const declaredMax = schema.maxLength;
  if (declaredMax !== undefined && (!Number.isInteger(declaredMax) || (declaredMax as number) < 1))
    refuse('its maxLength must be a positive integer');
  if (values === undefined && declaredMax === undefined) refuse('its pattern needs a maxLength');
  const minLength = schema.minLength;
  if (minLength !== undefined && !Number.isInteger(minLength)) refuse('its minLength must be an integer');
  // Longer values are refused anyway (tenant_claim_unsafe): the policy size is reckoned with this.
  const bound = values === undefined ? (declaredMax as number) : Math.max(...values.map((v) => v.length));
  const maxLength = Math.min(bound, (declaredMax as number | undefined) ?? bound, BOUND_VALUE_MAX_LENGTH);
  return {
    param: name,
    ...(spec.claim === undefined ? {} : { claim: spec.claim as string }),
    ...(spec.credential === undefined ? {} : { credential: spec.credential as CredentialAttribute }),
    ...(schema.pattern === undefined ? {} : { pattern: schema.pattern as string }),
    ...(values === undefined ? {} : { enum: values }),
    ...(typeof minLength === 'number' && minLength > 0 ? { minLength } : {}),
    maxLength,
  };
}

/**
 * The route's path and whether its last parameter is greedy: written `{name+}` (API Gateway's
 * syntax), or `{name}` with `x-gatehouse-greedy: true` on the path parameter. The path keeps the
 * `{name}` form, so that parameter names stay the document's.
 */
function routePath({ path, operationId, parameters }: Operation): { path: string; greedy: boolean } {
  const marked = parameters
    .filter((p) => p.in === 'path' && p[GREEDY_EXTENSION] === true)
    .map((p) => String(p.name));
  const segments = path.split('/');
  const last = segments.at(-1) ?? '';
  const plus = /^\{([^{}+]+)\+\}$/.exec(last);
  const lastName = plus?.[1] ?? /^\{([^{}]+)\}$/.exec(last)?.[1];
  for (const name of marked)
    if (name !== lastName)
      throw new OpenApiError(
        `${operationId}: path parameter "${name}" has ${GREEDY_EXTENSION} but is not the whole last segment of ${path} (API Gateway's greedy parameters are)`,
      );
  const greedy = plus !== null || marked.length > 0;
  const normalized = plus === null ? path : [...segments.slice(0, -1), `{${lastName}}`].join('/');
  try {
    parseTemplate(normalized, greedy);
  } catch (err) {
    if (err instanceof RouteTemplateError) throw new OpenApiError(`${operationId}: ${err.message}`);
    throw err;
  }
  return { path: normalized, greedy };
}

/**
 * The route table of a document: each operation's path template (see {@link routePath}) and its
 * `security` (or the document's default) turned into scope alternatives. An empty requirement
 * (`security: []`, or `{}` among the alternatives) makes the route public.
 */
export function routeTable(doc: OpenApiDocument): RouteTable {
  const declared = (doc.components?.securitySchemes as Record<string, unknown> | undefined) ?? {};
  const schemes = Object.keys(declared);
  // Whether a scheme the operations use is one API Gateway itself checks with SigV4 (AWS_IAM),
  // never a Lambda authorizer: the same reading as the template's routes (gateway-operations.ts).
  const iamSchemes = new Map<string, boolean>();
  const isIamScheme = (name: string): boolean => {
    if (!schemes.includes(name)) return false;
    let iam = iamSchemes.get(name);
    if (iam === undefined) {
      const scheme = deref<Record<string, unknown> | undefined>(doc, declared[name]);
      iam = isSigV4Scheme(scheme);
      if (!iam && scheme?.[AUTHTYPE_EXTENSION] !== undefined)
        throw new OpenApiError(
          `security scheme "${name}": ${AUTHTYPE_EXTENSION} is supported as awsSigv4 on an apiKey scheme only (AWS_IAM); custom authorizers come from template.yaml`,
        );
      iamSchemes.set(name, iam);
    }
    return iam;
  };
  return operations(doc).map((op): Route => {
    const { method, operationId, operation } = op;
    const { path, greedy } = routePath(op);
    const bindings = op.parameters
      .map((p) => bindingOf(doc, op, p))
      .filter((b): b is PathBinding => b !== undefined);
    const base = {
      method,
      path,
      operationId,
      ...(greedy ? { greedy: true as const } : {}),
      ...(bindings.length > 0 ? { bindings } : {}),
    };
    const requirements = (operation.security ?? doc.security ?? []) as unknown;
    if (!Array.isArray(requirements)) throw new OpenApiError(`${operationId}: security must be an array`);
    const iam = requirements.filter(
      (r) => typeof r === 'object' && r !== null && Object.keys(r).some(isIamScheme),
    );
    if (iam.length > 0) {
      // API Gateway authorizes a method one way: AWS_IAM alone, or a Lambda authorizer.
      const only = requirements.length === 1 && Object.keys(iam[0] as object).length === 1;
      const scopes = Object.values(iam[0] as object)[0];
      if (!only)
        throw new OpenApiError(
          `${operationId}: an AWS_IAM (awsSigv4) security requirement must be the operation's only one (an API Gateway method has one authorization: AWS_IAM or a Lambda authorizer, not both)`,
        );
      if (!Array.isArray(scopes) || scopes.length > 0)
        throw new OpenApiError(
          `${operationId}: an awsSigv4 requirement takes no scopes ([]): it lists scopes that API Gateway, checking the signature and IAM policies only, would never enforce`,
        );
      if (bindings.length > 0)
        throw new OpenApiError(
          `${operationId}: an AWS_IAM route cannot bind path parameters (no Lambda authorizer answers it)`,
        );
      return { ...base, scopeAlternatives: [], iam: true };
    }
    const publicRoute = () => {
      // No authorizer runs on a public route: nothing could hold a bound parameter to the caller.
      if (bindings.length > 0)
        throw new OpenApiError(
          `${operationId}: a route with bound path parameters needs security (it is public: no authorizer would check them)`,
        );
      return { ...base, scopeAlternatives: null };
    };
    if (requirements.length === 0) return publicRoute();
    const alternatives: string[][] = [];
    for (const requirement of requirements) {
      if (typeof requirement !== 'object' || requirement === null) {
        throw new OpenApiError(`${operationId}: each security requirement must be an object`);
      }
      const entries = Object.entries(requirement as Record<string, unknown>);
      if (entries.length === 0) return publicRoute();
      const scopes = new Set<string>();
      for (const [scheme, list] of entries) {
        if (!schemes.includes(scheme))
          throw new OpenApiError(`${operationId}: unknown security scheme "${scheme}"`);
        if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
          throw new OpenApiError(`${operationId}: scopes of "${scheme}" must be a list of strings`);
        }
        for (const s of list as string[]) scopes.add(s);
      }
      alternatives.push([...scopes].sort());
    }
    // Identical alternatives (one per scheme, as in the demo API) collapse into one.
    const unique = [...new Map(alternatives.map((a) => [a.join(' '), a])).values()];
    return { ...base, scopeAlternatives: unique };
  });
}
