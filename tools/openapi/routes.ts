import {
  parseTemplate,
  type Route,
  type RouteTable,
  RouteTemplateError,
} from '../../shared/routes/route-table.ts';
import { type OpenApiDocument, OpenApiError, type Operation, operations } from './document.ts';

/** The extension that makes a path parameter span several segments (docs/policies.md#routing). */
export const GREEDY_EXTENSION = 'x-gatehouse-greedy';

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
  const schemes = Object.keys((doc.components?.securitySchemes as Record<string, unknown> | undefined) ?? {});
  return operations(doc).map((op): Route => {
    const { method, operationId, operation } = op;
    const { path, greedy } = routePath(op);
    const base = { method, path, operationId, ...(greedy ? { greedy: true as const } : {}) };
    const requirements = (operation.security ?? doc.security ?? []) as unknown;
    if (!Array.isArray(requirements)) throw new OpenApiError(`${operationId}: security must be an array`);
    if (requirements.length === 0) return { ...base, scopeAlternatives: null };
    const alternatives: string[][] = [];
    for (const requirement of requirements) {
      if (typeof requirement !== 'object' || requirement === null) {
        throw new OpenApiError(`${operationId}: each security requirement must be an object`);
      }
      const entries = Object.entries(requirement as Record<string, unknown>);
      if (entries.length === 0) return { ...base, scopeAlternatives: null };
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
